// The rest of point-to-point (issue 16): testany/testsome, getRank/getSize,
// sendrecvInto/sendrecvReplace, persistent requests, ready and buffered
// modes, matched probe and request.free, run at several sizes by
// test/p2p-more.test.ts. As p2p.ts, every check runs on COMM_WORLD, a dup of
// it and COMM_SELF; rank 0 prints "ok <check> on <communicator>" once it has
// passed on all ranks. No check receives with ANY_TAG on COMM_WORLD: the
// reports to rank 0 travel there.
import * as MPI from 'mpi4ts';
import assert from 'node:assert/strict';
import { agree } from './agree.js';

const world = MPI.COMM_WORLD;

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function ring(comm: MPI.Comm): { dest: number; source: number } {
  return { dest: (comm.rank + 1) % comm.size, source: (comm.rank - 1 + comm.size) % comm.size };
}

async function portingAids(comm: MPI.Comm): Promise<void> {
  assert.equal(comm.getRank(), comm.rank);
  assert.equal(comm.getSize(), comm.size);
}

/** testany and testsome over receives around the ring: nothing done, then one, then all. */
async function testanySome(comm: MPI.Comm): Promise<void> {
  const { dest, source } = ring(comm);
  const reqs = [comm.irecv(source, 701), comm.irecv(source, 702)];
  assert.deepEqual(MPI.Request.testany(reqs), { index: -1, done: false });
  assert.deepEqual(MPI.Request.testsome(reqs), { indices: [], values: [] });
  // Only now may our source send: until it hears from us, nothing can have arrived above.
  const go = comm.irecv(dest, 703);
  await comm.send('go', source, 703);
  await go;
  await comm.send('b', dest, 702);
  let any = MPI.Request.testany(reqs);
  while (!any.done) {
    await turn();
    any = MPI.Request.testany(reqs);
  }
  assert.deepEqual(any, { index: 1, done: true, value: 'b' });
  // 'a' goes only once our dest has found its 'b', or its testany could find either.
  const found = comm.irecv(dest, 704);
  await comm.send('found b', source, 704);
  await found;
  await comm.send('a', dest, 701);
  await reqs[0];
  assert.deepEqual(MPI.Request.testsome(reqs), { indices: [0, 1], values: ['a', 'b'] });
  assert.deepEqual(MPI.Request.testany([]), { index: -1, done: true });
}

/** sendrecvInto around the ring, eager-sized and by rendezvous. */
async function sendrecvInto(comm: MPI.Comm): Promise<void> {
  const { rank } = comm;
  const { dest, source } = ring(comm);
  for (const n of [4, 100_000]) {
    const out = new Float64Array(n).fill(rank);
    const into = new Float64Array(n);
    const status = new MPI.Status();
    assert.equal(await comm.sendrecvInto(out, dest, into, source, 710, 710, status), into);
    assert.equal(into[0], source);
    assert.equal(into[n - 1], source);
    assert.equal(status.source, source);
    assert.equal(status.getCount(Float64Array), n);
  }
}

/** sendrecvReplace: the buffer goes out and the neighbour's comes in, eager-sized and by rendezvous (the copy case). */
async function sendrecvReplace(comm: MPI.Comm): Promise<void> {
  const { rank } = comm;
  const { dest, source } = ring(comm);
  for (const n of [3, 200_000]) {
    const buf = Int32Array.from({ length: n }, (_, i) => rank * 1000 + (i % 997));
    const status = new MPI.Status();
    assert.equal(await comm.sendrecvReplace(buf, dest, source, 720, 720, status), buf);
    for (const i of [0, 1, n - 1]) assert.equal(buf[i], source * 1000 + (i % 997));
    assert.equal(status.tag, 720);
  }
  // PROC_NULL on both sides: nothing goes, nothing comes, the buffer is left as it was.
  const same = new Uint8Array([1, 2]);
  await comm.sendrecvReplace(same, MPI.PROC_NULL, MPI.PROC_NULL, 0, 0);
  assert.deepEqual([...same], [1, 2]);
}

/** Persistent sends and receives around the ring: rounds with startall and waitall, each mode, into a buffer. */
async function persistent(comm: MPI.Comm): Promise<void> {
  const { rank } = comm;
  const { dest, source } = ring(comm);
  const out = new Float64Array(3);
  const into = new Float64Array(3);
  const sends = [comm.sendInit(out, dest, 730), comm.ssendInit({ round: -1 }, dest, 731), comm.rsendInit('ready', dest, 732)];
  const receives = [comm.recvIntoInit(into, source, 730), comm.recvInit<{ round: number }>(source, 731), comm.recvInit<string>(source, 732)];
  for (let round = 0; round < 4; round++) {
    out.fill(rank * 10 + round);
    MPI.Prequest.startall(receives);
    // Receives are started on every rank before any rsend: wait for the neighbour to say so.
    const go = comm.irecv(dest, 733);
    await comm.send(round, source, 733);
    assert.equal(await go, round);
    MPI.Prequest.startall(sends);
    const got = await MPI.Request.waitall<unknown>(receives);
    assert.equal(got[0], into);
    assert.deepEqual([...into], [source * 10 + round, source * 10 + round, source * 10 + round]);
    assert.deepEqual(got[1], { round: -1 });
    assert.equal(got[2], 'ready');
    await MPI.Request.waitall(sends);
  }
  // Buffered persistent sends: each round reserves room, given back when delivered.
  MPI.attachBuffer(2 * (64 + MPI.BSEND_OVERHEAD));
  const b = comm.bsendInit(new Uint8Array(64).fill(rank), dest, 734);
  const r = comm.recvInit<Uint8Array>(source, 734);
  for (let round = 0; round < 3; round++) {
    r.start();
    b.start();
    assert.equal(b.done, true, 'a buffered round completes at once');
    assert.equal((await r)[63], source);
    await b;
  }
  await MPI.detachBuffer();
  for (const p of [...sends, ...receives, b, r]) p.free();
}

/** rsend with the receive already posted (MPI's rule), and irsend. */
async function readyMode(comm: MPI.Comm): Promise<void> {
  const { dest, source } = ring(comm);
  const posted = [comm.irecv(source, 740), comm.irecv(source, 741)];
  const ready = comm.irecv(dest, 742);
  await comm.send('posted', source, 742);
  await ready;
  await comm.rsend('ready', dest, 740);
  await comm.irsend(new Uint8Array(70_000), dest, 741);
  const [a, b] = await MPI.Request.waitall<unknown>(posted);
  assert.equal(a, 'ready');
  assert.equal((b as Uint8Array).length, 70_000);
}

/** bsend completes at once; the attached buffer's room limits what may be in flight; detach waits for delivery. */
async function bufferedMode(comm: MPI.Comm): Promise<void> {
  const { rank } = comm;
  const { dest, source } = ring(comm);
  const big = new Float64Array(50_000).fill(rank);
  const room = big.byteLength + MPI.BSEND_OVERHEAD;
  const given = new ArrayBuffer(room + 100 * (16 + MPI.BSEND_OVERHEAD));
  MPI.attachBuffer(given);
  // By rendezvous: it holds its room until the neighbour receives it, yet bsend resolves now.
  await comm.bsend(big, dest, 750);
  big.fill(-1);
  for (let i = 0; i < 10; i++) assert.equal(comm.ibsend(i, dest, 751).done, true);
  if (dest !== rank) {
    // A message to oneself is in this rank's queue when bsend returns, and frees its room at once.
    await assert.rejects(comm.bsend(new Float64Array(50_000), dest, 752), (err: MPI.MPIError) => {
      assert.equal(err.code, 'MPI4TS_ERR_BUFFER');
      assert.match(err.message, /^bsend: the attached buffer has \d+ of its \d+ bytes free \(\d+ buffered message\(s\) not delivered yet\), and this message needs 400128/);
      return true;
    });
  }
  // Our dest receives our big message only now, so it held its room above.
  const checked = comm.isend('checked', dest, 754);
  assert.equal(await comm.recv(source, 754), 'checked');
  await checked;
  const got = await comm.recv<Float64Array>(source, 750);
  assert.equal(got[49_999], source);
  for (let i = 0; i < 10; i++) assert.equal(await comm.recv(source, 751), i);
  assert.equal(await MPI.detachBuffer(), given);
  assert.equal(await MPI.detachBuffer(), null);
  await assert.rejects(comm.bsend(1, dest, 753), /^MPIError: bsend: no buffer is attached for buffered sends; call MPI.attachBuffer\(bytes\) first/);
}

/**
 * Matched probe: every rank sends two messages to rank 0 (on COMM_SELF, to
 * itself); rank 0 takes the first of each sender by mprobe and at once posts
 * an irecv for that sender, which must get the second: the probed one is
 * nobody else's. Then one by rendezvous through improbe, and PROC_NULL.
 */
async function matchedProbe(comm: MPI.Comm): Promise<void> {
  const { rank, size } = comm;
  const sends = [comm.isend({ from: rank, n: 0 }, 0, 760), comm.isend({ from: rank, n: 1 }, 0, 760)];
  if (rank === 0) {
    const seen = new Set<number>();
    for (let i = 0; i < size; i++) {
      const status = new MPI.Status();
      const message = await comm.mprobe(MPI.ANY_SOURCE, 760, status);
      const thief = comm.irecv<{ from: number; n: number }>(status.source, 760);
      assert.deepEqual(await message.recv(), { from: status.source, n: 0 });
      assert.deepEqual(await thief, { from: status.source, n: 1 });
      await assert.rejects(message.recv(), /message\.recv: this message was received already/);
      seen.add(status.source);
    }
    assert.equal(seen.size, size);
  }
  await MPI.Request.waitall(sends);
  const { dest, source } = ring(comm);
  const big = comm.isend(new Uint16Array(60_000).fill(rank), dest, 761);
  let message = comm.improbe(source, 761);
  while (message === null) {
    await turn();
    message = comm.improbe(source, 761);
  }
  assert.equal(comm.iprobe(source, 761), false, 'taken out of the queue');
  const into = new Uint16Array(60_000);
  assert.equal(await message.irecvInto(into), into);
  assert.equal(into[59_999], source);
  await big;
  const status = new MPI.Status();
  const none = await comm.mprobe(MPI.PROC_NULL, MPI.ANY_TAG, status);
  assert.equal(none, MPI.MESSAGE_NO_PROC);
  assert.equal(status.source, MPI.PROC_NULL);
  assert.equal(await none.recv(), null);
  assert.equal(comm.improbe(MPI.PROC_NULL, 0), MPI.MESSAGE_NO_PROC);
}

/** request.free: a freed send is still delivered. */
async function freeRequests(comm: MPI.Comm): Promise<void> {
  const { dest, source } = ring(comm);
  const sent = comm.isend(new Uint8Array(90_000).fill(7), dest, 770);
  sent.free();
  const got = await comm.recv<Uint8Array>(source, 770);
  assert.equal(got[89_999], 7);
  await assert.rejects(sent.wait(), { code: 'MPI4TS_ERR_REQUEST', message: /^wait: this request was freed/ });
}

async function badInput(comm: MPI.Comm): Promise<void> {
  const { size } = comm;
  const { dest, source } = ring(comm);
  const buf = new Float64Array(4);
  await assert.rejects(comm.sendrecvInto([1] as unknown as Float64Array, dest, buf, source, 0, 0),
    { name: 'TypeError', message: 'sendrecvInto: sendbuf must be a typed array, DataView, ArrayBuffer or Buffer, got Array' });
  await assert.rejects(comm.sendrecvInto(buf, dest, 'x' as unknown as Float64Array, source, 0, 0),
    { message: 'sendrecvInto: recvbuf must be a typed array, DataView, ArrayBuffer or Buffer, got string' });
  await assert.rejects(comm.sendrecvInto(buf.subarray(0, 2), dest, buf.subarray(1), source, 0, 0),
    { code: 'MPI4TS_ERR_BUFFER', message: /^sendrecvInto: sendbuf \(bytes 0\.\.15\) and recvbuf \(bytes 8\.\.31\) overlap in one ArrayBuffer; pass separate arrays, or use sendrecvReplace/ });
  await assert.rejects(comm.sendrecvInto(buf, size, new Float64Array(4), source, 0, 0), { code: 'MPI4TS_ERR_RANK', message: new RegExp(`^sendrecvInto: dest ${size} is out of range`) });
  await assert.rejects(comm.sendrecvReplace(buf, dest, source, 0, -7), { code: 'MPI4TS_ERR_TAG', message: /^sendrecvReplace: recvtag -7 is not a valid tag/ });
  await assert.rejects(comm.sendrecvReplace(null as unknown as Uint8Array, dest), { message: 'sendrecvReplace: buf must be a typed array, DataView, ArrayBuffer or Buffer, got null' });
  assert.throws(() => comm.sendInit(1, size + 1), { code: 'MPI4TS_ERR_RANK', message: new RegExp(`^sendInit: dest ${size + 1} is out of range`) });
  assert.throws(() => comm.recvIntoInit({} as unknown as Uint8Array, source, 0), { name: 'TypeError', message: 'recvIntoInit: buf must be a typed array, DataView, ArrayBuffer or Buffer, got Object' });
  assert.throws(() => comm.recvInit(source, 1.5), { message: /^recvInit: tag 1\.5 is not a valid tag/ });
  assert.throws(() => comm.improbe(size + 2), { message: new RegExp(`^improbe: source ${size + 2} is out of range`) });
  await assert.rejects(comm.mprobe(0, -3), { message: /^mprobe: tag -3 is not a valid tag/ });
  // From oneself: a neighbour that ran ahead and ended would make a receive from it fail at once.
  const r = comm.recvInit(comm.rank, 790);
  r.start();
  assert.throws(() => r.start(), { code: 'MPI4TS_ERR_REQUEST', message: /^start: this recvInit request is active: its round has not completed/ });
  r.cancel();
  await r;
  r.free();
  assert.throws(() => r.start(), { message: /^start: this request was freed/ });
  assert.throws(() => MPI.Request.testany([r]), { message: /^testany: requests\[0\]: this request was freed/ });
  assert.throws(() => comm.ibsend(1, dest, 791), { code: 'MPI4TS_ERR_BUFFER', message: /^ibsend: no buffer is attached/ });
  const b = comm.bsendInit(new Uint8Array(100), dest, 792);
  MPI.attachBuffer(100);
  assert.throws(() => b.start(), { code: 'MPI4TS_ERR_BUFFER', message: /^start \(bsendInit\): the attached buffer has 100 of its 100 bytes free .* needs 228 \(100 bytes \+ MPI.BSEND_OVERHEAD 128\)/ });
  assert.equal(b.done, true, 'a start that failed leaves it inactive');
  assert.equal(await MPI.detachBuffer(), 100);
  assert.throws(() => MPI.attachBuffer(-4), { code: 'MPI4TS_ERR_ARG', message: 'attachBuffer: size -4 is not a number of bytes (an integer >= 0)' });
  // Nothing was sent by the failed calls.
  assert.equal(comm.iprobe(MPI.ANY_SOURCE, 0), false);
  assert.equal(comm.iprobe(MPI.ANY_SOURCE, 791), false);
}

const checks: Record<string, (comm: MPI.Comm) => Promise<void>> = {
  portingAids, testanySome, sendrecvInto, sendrecvReplace, persistent, readyMode, bufferedMode, matchedProbe, freeRequests, badInput,
};
const selected = process.argv.slice(2).filter((a) => a in checks);
const dup = await world.dup();
const communicators: [string, MPI.Comm][] = [['COMM_WORLD', world], ['dup', dup], ['COMM_SELF', MPI.COMM_SELF]];
for (const [label, comm] of communicators) {
  for (const name of selected.length > 0 ? selected : Object.keys(checks)) {
    await checks[name]!(comm);
    await agree(`${name} on ${label}`);
  }
}
dup.free();
