// Point-to-point checks, run at several sizes by test/p2p.test.ts. As mpi4py
// binds its test classes to several communicators, every check runs on
// COMM_WORLD, on a dup of it and on COMM_SELF (where every message is a send
// to oneself, rank 0 of one). Each check throws on a wrong result; rank 0
// prints "ok <check> on <communicator>" once it has passed on all ranks.
import * as MPI from 'mpi4ts';
import assert from 'node:assert/strict';
import { agree } from './agree.js';

const world = MPI.COMM_WORLD;

/** Rank 0 sends `count` messages to the last rank (itself when alone), which receives them in order. */
async function ordering(comm: MPI.Comm): Promise<void> {
  const count = 10_000;
  const last = comm.size - 1;
  const sending = comm.rank === 0 ? (async () => {
    for (let i = 0; i < count; i++) void comm.send(i, last, 1);
    await comm.send('end', last, 1);
  })() : Promise.resolve();
  if (comm.rank === last) {
    for (let i = 0; i < count; i++) assert.equal(await comm.recv(0, 1), i);
    assert.equal(await comm.recv(0, 1), 'end');
  }
  await sending;
}

/** Every rank, rank 0 too, sends to rank 0, which receives them all by ANY_SOURCE and ANY_TAG. */
async function wildcards(comm: MPI.Comm): Promise<void> {
  const { rank, size } = comm;
  const mine = comm.isend({ from: rank }, 0, 100 + rank);
  if (rank !== 0) {
    await mine;
    // Wait until rank 0 has all, so our next message cannot be caught by its wildcard receive.
    assert.equal(await comm.recv(0, 31000), 'collected');
    return;
  }
  const seen = new Set<number>();
  for (let i = 0; i < size; i++) {
    const status = new MPI.Status();
    const value = await comm.recv<{ from: number }>(MPI.ANY_SOURCE, MPI.ANY_TAG, status);
    assert.equal(value.from, status.source);
    assert.equal(status.tag, 100 + status.source);
    assert.ok(status.count > 0);
    seen.add(status.source);
  }
  assert.equal(seen.size, size);
  await mine;
  for (let r = 1; r < size; r++) await comm.send('collected', r, 31000);
}

/** Blocking sends with tags 5..1, received as 1..5: rank 0 to rank 1, or to itself alone. */
async function tagSelection(comm: MPI.Comm): Promise<void> {
  const to = 1 % comm.size;
  if (comm.rank === 0) {
    for (const tag of [5, 4, 3, 2, 1]) await comm.send(`tag${tag}`, to, tag);
  }
  if (comm.rank === to) {
    for (const tag of [1, 2, 3, 4, 5]) assert.equal(await comm.recv(0, tag), `tag${tag}`);
  }
}

async function probes(comm: MPI.Comm): Promise<void> {
  const to = 1 % comm.size;
  if (comm.rank === 0) {
    // Nonblocking, so the check is safe without eager buffering too.
    await MPI.Request.waitall([comm.isend(new Float64Array(10), to, 7), comm.isend(new Uint8Array(100_000), to, 8)]);
  }
  if (comm.rank === to) {
    const status = await comm.probe(0, 8);
    assert.equal(status.count, 100_000);
    assert.equal(status.tag, 8);
    const small = new MPI.Status();
    assert.equal(comm.iprobe(0, 7, small), true);
    assert.equal(small.getCount(Float64Array), 10);
    assert.equal(comm.iprobe(0, 9), false);
    assert.equal((await comm.recv<Float64Array>(0, 7)).length, 10);
    assert.equal((await comm.recv<Uint8Array>(0, 8)).length, 100_000);
  }
}

/**
 * ssend completes only once a receive has matched it. Rank 1 (rank 0 itself,
 * alone) first sends a notice on another tag, then posts the receive: frames
 * from one rank to another keep their order, so the notice is at rank 0
 * before the clear-to-send that the receive causes, and an ssend that
 * completes early finds no notice. No clock is compared across ranks.
 */
async function ssendWaitsForMatch(comm: MPI.Comm): Promise<void> {
  const to = 1 % comm.size;
  const sync = comm.rank === 0 ? comm.issend('sync', to, 11) : null;
  if (comm.rank === to) {
    await new Promise((r) => setTimeout(r, 50));
    if (sync !== null) assert.equal(sync.test().done, false, 'issend to oneself completed before a receive matched it');
    // Nonblocking: by rendezvous, rank 0 receives it only after its ssend.
    const notice = comm.isend('posting the receive', 0, 12);
    assert.equal(await comm.recv(0, 11), 'sync');
    await notice;
  }
  if (sync !== null) {
    await sync;
    assert.equal(comm.iprobe(to, 12), true, 'ssend completed before the receive was posted');
    assert.equal(await comm.recv(to, 12), 'posting the receive');
  }
}

async function bigTypedArray(comm: MPI.Comm): Promise<void> {
  const { rank, size } = comm;
  const last = size - 1;
  if (size < 2) return;
  const n = (64 * 1024 * 1024) / 4;
  if (rank === 0) {
    const data = new Uint32Array(n);
    for (let i = 0; i < n; i++) data[i] = (i * 2654435761) >>> 0;
    await comm.send(data, last, 12);
  } else if (rank === last) {
    const data = await comm.recv<Uint32Array>(0, 12);
    assert.ok(data instanceof Uint32Array);
    assert.equal(data.length, n);
    for (let i = 0; i < n; i += 4099) assert.equal(data[i], (i * 2654435761) >>> 0);
    assert.equal(data[n - 1], ((n - 1) * 2654435761) >>> 0);
  }
}

function sampleValues(): unknown[] {
  const cyclic: Record<string, unknown> = { name: 'loop' };
  cyclic.self = cyclic;
  return [
    42, -0.5, 'text', null, undefined, true, 12345678901234567890n,
    [1, [2, [3]]], { nested: { deep: [1, 'two'] } },
    new Map<unknown, unknown>([['a', 1], [2, { b: 3 }]]), new Set([1, 'x']), new Date(86_400_000),
    cyclic,
    new Int8Array([-1, 2]), new Uint8Array([255]), new Uint8ClampedArray([7]), new Int16Array([-300]),
    new Uint16Array([60000]), new Int32Array([-70000]), new Uint32Array([4e9]), new Float32Array([1.5]),
    new Float64Array([Math.PI]), new BigInt64Array([-5n]), new BigUint64Array([2n ** 63n]),
    Buffer.from('buffer!'), new DataView(new Uint8Array([9, 8, 7]).buffer), new Uint8Array([1, 2, 3]).buffer,
  ];
}

async function valueTypes(comm: MPI.Comm): Promise<void> {
  const { rank, size } = comm;
  const values = sampleValues();
  const dest = (rank + 1) % size;
  const source = (rank - 1 + size) % size;
  const pending = values.map((v, i) => comm.irecv(source, 200 + i));
  for (let i = 0; i < values.length; i++) await comm.send(values[i], dest, 200 + i);
  const received = await MPI.Request.waitall(pending);
  received.forEach((got, i) => {
    const want = values[i];
    if (want instanceof DataView) {
      assert.ok(got instanceof DataView);
      assert.deepEqual([...new Uint8Array(got.buffer, got.byteOffset, got.byteLength)], [9, 8, 7]);
    } else if (Buffer.isBuffer(want)) {
      assert.ok(Buffer.isBuffer(got), 'Buffer arrives as Buffer');
      assert.equal(got.toString(), 'buffer!');
    } else if (want !== null && typeof want === 'object' && 'self' in want) {
      const c = got as Record<string, unknown>;
      assert.equal(c.self, c);
    } else {
      assert.deepEqual(got, want);
      if (ArrayBuffer.isView(want) || want instanceof ArrayBuffer) assert.equal(Object.getPrototypeOf(got), Object.getPrototypeOf(want));
    }
  });
}

async function requests(comm: MPI.Comm): Promise<void> {
  const { rank, size } = comm;
  // cancel: an unmatched receive is taken back.
  const req = comm.irecv(MPI.ANY_SOURCE, 999);
  assert.equal(req.test().done, false);
  assert.equal(req.cancel(), true);
  assert.equal(await req, null);
  assert.equal(req.status.cancelled, true);
  assert.equal(req.cancel(), false);
  // waitany: of three receives, the one whose message is sent completes.
  const dest = (rank + 1) % size;
  const source = (rank - 1 + size) % size;
  const reqs = [comm.irecv(source, 301), comm.irecv(source, 302), comm.irecv(source, 303)];
  await comm.send('second', dest, 302);
  const any = await MPI.Request.waitany(reqs);
  assert.equal(any.index, 1);
  assert.equal(any.value, 'second');
  assert.equal(MPI.Request.testall(reqs).done, false);
  // Only once our receiver has seen 'second' may 'first' go, or waitany could see either.
  const ack = comm.recv(dest, 305);
  await comm.send('ack', source, 305);
  await ack;
  await comm.send('first', dest, 301);
  await comm.send('third', dest, 303);
  const some = await MPI.Request.waitsome(reqs);
  assert.ok(some.indices.length >= 1);
  assert.deepEqual(await MPI.Request.waitall(reqs), ['first', 'second', 'third']);
  assert.deepEqual(MPI.Request.testall(reqs), { done: true, values: ['first', 'second', 'third'] });
}

async function specialRanks(comm: MPI.Comm): Promise<void> {
  const { rank, size } = comm;
  await comm.send('lost', MPI.PROC_NULL);
  const status = new MPI.Status();
  assert.equal(await comm.recv(MPI.PROC_NULL, MPI.ANY_TAG, status), null);
  assert.equal(status.source, MPI.PROC_NULL);
  // Sending to oneself, eager, rendezvous and synchronous.
  const big = new Float64Array(100_000).fill(rank);
  const r1 = comm.irecv(rank, 401);
  const r2 = comm.irecvInto(new Float64Array(100_000), rank, 402);
  await comm.send({ me: rank }, rank, 401);
  await comm.send(big, rank, 402);
  assert.deepEqual(await r1, { me: rank });
  assert.equal((await r2)[99_999], rank);
  const sync = comm.issend('self-sync', rank, 403);
  assert.equal(await comm.recv(rank, 403), 'self-sync');
  await sync;
  // sendrecv around the ring.
  const dest = (rank + 1) % size;
  const source = (rank - 1 + size) % size;
  assert.equal(await comm.sendrecv(rank, dest, 404, source, 404), source);
}

async function recvIntoChecks(comm: MPI.Comm): Promise<void> {
  const { rank, size } = comm;
  const dest = (rank + 1) % size;
  const source = (rank - 1 + size) % size;
  const buf = new Int32Array(8);
  const pending = comm.recvInto(buf, source, 501);
  await comm.send(new Int32Array([1, 2, 3]), dest, 501);
  const status = new MPI.Status();
  const same = await pending;
  assert.equal(same, buf);
  assert.deepEqual([...buf.subarray(0, 3)], [1, 2, 3]);
  // Truncation: a message larger than the buffer is an error that says so, eager and rendezvous.
  for (const [tag, length] of [[502, 100], [503, 50_000]] as const) {
    const small = comm.recvInto(new Int32Array(4), source, tag, status);
    const sent = comm.send(new Int32Array(length), dest, tag);
    await assert.rejects(small, (err: MPI.MPIError) => {
      assert.equal(err.errorClass, 'ERR_TRUNCATE');
      assert.match(err.message, new RegExp(`message of ${length * 4} bytes .* does not fit the 16-byte buffer`));
      return true;
    });
    await sent;
  }
  // The communicator still works after the error.
  const after = comm.recv(source, 504);
  await comm.send('still fine', dest, 504);
  assert.equal(await after, 'still fine');
}

async function badInput(comm: MPI.Comm): Promise<void> {
  const { rank, size } = comm;
  const last = size - 1;
  const expectError = async (p: () => unknown, pattern: RegExp): Promise<void> => {
    await assert.rejects(async () => p(), pattern);
  };
  await expectError(() => comm.send(1, size), new RegExp(`dest ${size} is out of range for a communicator of size ${size} \\(0\\.\\.${last}, or PROC_NULL\\)`));
  await expectError(() => comm.send(1, -5), /dest -5 is out of range/);
  await expectError(() => comm.send(1, 1.5), /dest 1.5 is out of range/);
  await expectError(() => comm.recv(size + 3), new RegExp(`source ${size + 3} is out of range .*ANY_SOURCE or PROC_NULL`));
  await expectError(() => comm.send(1, 0, -1), /tag -1 is not a valid tag \(an integer from 0 to TAG_UB = 2147483647\)/);
  await expectError(() => comm.recv(0, 2 ** 40), /tag 1099511627776 is not a valid tag/);
  await expectError(() => comm.send(() => 1, 0), /cannot send this value: the value is a function/);
  await expectError(() => comm.send(Symbol('s'), 0), /cannot send this value: the value is a symbol/);
  await expectError(() => comm.send({ f() {} }, 0), /cannot send this value: the value.f is a function \(f\)/);
  await expectError(() => comm.send(new (class Point { x = 1; })(), 0), /the value is an instance of Point/);
  await expectError(() => comm.recvInto([1, 2] as unknown as Uint8Array, 0), /recvInto: buf must be a typed array, DataView, ArrayBuffer or Buffer, got Array/);
  assert.throws(() => comm.irecvInto(null as unknown as Uint8Array, 0), /^TypeError: irecvInto: buf must be a typed array, DataView, ArrayBuffer or Buffer, got null$/);
  await expectError(() => comm.ssend(1, 0, -1), /ssend: tag -1 is not a valid tag/);
  assert.throws(() => comm.isend(1, size), /out of range/);
  // Nothing was sent by the failed calls and the communicator still works.
  assert.equal(comm.iprobe(MPI.ANY_SOURCE, 0), false);
  const dest = (rank + 1) % size;
  const source = (rank - 1 + size) % size;
  assert.equal(await comm.sendrecv('alive', dest, 600, source, 600), 'alive');
}

const checks: Record<string, (comm: MPI.Comm) => Promise<void>> = {
  ordering, wildcards, tagSelection, probes, ssendWaitsForMatch, bigTypedArray, valueTypes,
  requests, specialRanks, recvIntoChecks, badInput,
};
/** Checks of the transport's large-message path more than of a communicator: 64 MiB a second time costs more than it checks. */
const worldOnly = new Set(['bigTypedArray']);
const selected = process.argv.slice(2).filter((a) => a in checks);
const dup = await world.dup();
const communicators: [string, MPI.Comm][] = [['COMM_WORLD', world], ['dup', dup], ['COMM_SELF', MPI.COMM_SELF]];
for (const [label, comm] of communicators) {
  for (const name of selected.length > 0 ? selected : Object.keys(checks)) {
    if (comm !== world && worldOnly.has(name)) continue;
    await checks[name]!(comm);
    await agree(`${name} on ${label}`);
  }
}
dup.free();
