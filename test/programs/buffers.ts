// The buffer and nonblocking collectives through the public API, run at
// several sizes by test/buffers.test.ts: each check compares with the value
// collectives on the same data (or a serial reference) on every rank; rank 0
// prints "ok <check>" once every rank passed it.
import * as MPI from 'mpi4ts';
import assert from 'node:assert/strict';
import { agree } from './agree.js';

const comm = MPI.COMM_WORLD;
const { rank, size } = comm;
const ranks = Array.from({ length: size }, (_, r) => r);
const last = size - 1;

const doubles = (r: number, length: number): Float64Array => Float64Array.from({ length }, (_, i) => r * 1000 + (i % 997) - 7);

async function rooted(): Promise<void> {
  for (const root of ranks) {
    // bcastInto: small, and long enough to go by rendezvous straight into the buffer.
    for (const length of [0, 7, 300_000]) {
      const buf = rank === root ? doubles(root, length) : new Float64Array(length);
      assert.equal(await comm.bcastInto(buf, root), buf);
      assert.deepEqual(buf, doubles(root, length));
    }
    // reduceInto against reduce, short and long (the ring), in place at the root.
    for (const length of [5, 200_000]) {
      const expected = await comm.reduce(doubles(rank, length), MPI.SUM, root);
      const recv = rank === root ? new Float64Array(length) : null;
      await comm.reduceInto(doubles(rank, length), recv, MPI.SUM, root);
      assert.deepEqual(recv, expected);
      const inPlace = rank === root ? doubles(rank, length) : null;
      await comm.reduceInto(rank === root ? MPI.IN_PLACE : doubles(rank, length), inPlace, MPI.SUM, root);
      assert.deepEqual(inPlace, expected);
    }
    // gatherInto / scatterInto against gather.
    const gathered = await comm.gather(Int32Array.of(rank, -rank), root);
    const recv = rank === root ? new Int32Array(2 * size) : null;
    await comm.gatherInto(Int32Array.of(rank, -rank), recv, root);
    if (rank === root) assert.deepEqual(recv, Int32Array.from(gathered!.flatMap((a) => [...a])));
    const part = new Int32Array(2);
    await comm.scatterInto(rank === root ? Int32Array.from(ranks.flatMap((r) => [r * 3, r * 5])) : null, part, root);
    assert.deepEqual(part, Int32Array.of(rank * 3, rank * 5));
    // gathervInto / scattervInto with displacements, parts in reverse rank order.
    const counts = ranks.map((r) => r % 3);
    const displs = ranks.map((r) => counts.slice(r + 1).reduce((a, b) => a + b, 0));
    const total = counts.reduce((a, b) => a + b, 0);
    const mine = Uint16Array.from({ length: counts[rank]! }, (_, i) => rank * 10 + i);
    const layout = new Uint16Array(total);
    for (const r of ranks) layout.set(Uint16Array.from({ length: counts[r]! }, (_, i) => r * 10 + i), displs[r]);
    const gv = rank === root ? new Uint16Array(total) : null;
    await comm.gathervInto(mine, gv, counts, displs, root);
    if (rank === root) assert.deepEqual(gv, layout);
    const sv = new Uint16Array(counts[rank]!);
    await comm.scattervInto(rank === root ? layout : null, counts, displs, sv, root);
    assert.deepEqual(sv, mine);
  }
}

async function everywhere(): Promise<void> {
  // allgatherInto / alltoallInto / alltoallv against their value forms.
  const all = await comm.allgather(rank);
  const recv = new Float32Array(size);
  await comm.allgatherInto(Float32Array.of(rank), recv);
  assert.deepEqual([...recv], all);
  const inPlace = new Float32Array(size);
  inPlace[rank] = rank;
  await comm.allgatherInto(MPI.IN_PLACE, inPlace);
  assert.deepEqual([...inPlace], all);
  const exchanged = await comm.alltoall(ranks.map((to) => rank * 100 + to));
  const blocks = new BigInt64Array(size);
  await comm.alltoallInto(BigInt64Array.from(ranks, (to) => BigInt(rank * 100 + to)), blocks);
  assert.deepEqual([...blocks], exchanged.map(BigInt));
  // alltoallv of 1 MiB per rank split unevenly, against alltoall of the same parts.
  const n = (s: number, d: number): number => ((s + 2 * d) % 3) * 4096;
  const sendcounts = ranks.map((d) => n(rank, d));
  const recvcounts = ranks.map((s) => n(s, rank));
  const send = new Float64Array(sendcounts.reduce((a, b) => a + b, 0));
  let at = 0;
  for (const d of ranks) {
    send.fill(rank * 100 + d, at, at + sendcounts[d]!);
    at += sendcounts[d]!;
  }
  const got = new Float64Array(recvcounts.reduce((a, b) => a + b, 0));
  await comm.alltoallv(send, sendcounts, null, got, recvcounts, null);
  at = 0;
  for (const s of ranks) {
    for (let i = 0; i < recvcounts[s]!; i++) assert.equal(got[at + i], s * 100 + rank);
    at += recvcounts[s]!;
  }
  // Parts of 320 KiB and more, not a whole number of the pieces a large own part is copied in
  // while the first exchange goes on (parts.ts copyOwn along): every element checked.
  const big = (s: number, d: number): number => 40_000 + 7 * s + 3 * d;
  const value = (s: number, d: number, i: number): number => s * 1e7 + d * 1e6 + i;
  const bigSend = new Float64Array(ranks.reduce((sum, d) => sum + big(rank, d), 0));
  at = 0;
  for (const d of ranks) for (let i = 0; i < big(rank, d); i++) bigSend[at++] = value(rank, d, i);
  const bigGot = new Float64Array(ranks.reduce((sum, s) => sum + big(s, rank), 0));
  await comm.alltoallv(bigSend, ranks.map((d) => big(rank, d)), null, bigGot, ranks.map((s) => big(s, rank)), null);
  at = 0;
  for (const s of ranks) for (let i = 0; i < big(s, rank); i++) if (bigGot[at++] !== value(s, rank, i)) assert.fail(`part from rank ${s}, element ${i}: ${bigGot[at - 1]}`);
  // scanInto, exscanInto, reduceScatterBlockInto, reduceScatterInto, allgathervInto.
  const scan = await comm.scan(doubles(rank, 3));
  const s = new Float64Array(3);
  await comm.scanInto(doubles(rank, 3), s);
  assert.deepEqual(s, scan);
  const ex = await comm.exscan(doubles(rank, 3));
  const e = new Float64Array(3).fill(-1);
  await comm.exscanInto(doubles(rank, 3), e);
  assert.deepEqual(e, ex ?? new Float64Array(3).fill(-1));
  const rs = await comm.reduceScatter(doubles(rank, 2 * size), ranks.map(() => 2));
  const b = new Float64Array(2);
  await comm.reduceScatterBlockInto(doubles(rank, 2 * size), b);
  assert.deepEqual(b, rs);
  const rsi = doubles(rank, 2 * size);
  await comm.reduceScatterInto(MPI.IN_PLACE, rsi, ranks.map(() => 2));
  assert.deepEqual(rsi.subarray(0, 2), rs);
  const agv = new Int8Array(size * 2).fill(-1);
  await comm.allgathervInto(Int8Array.of(rank), agv, ranks.map(() => 1), ranks.map((r) => 2 * r));
  assert.deepEqual(agv, Int8Array.from({ length: 2 * size }, (_, i) => (i % 2 === 0 ? i / 2 : -1)));
  // alltoallw: per-peer arrays of different types, one byte length per pair.
  const w = await comm.alltoallw(ranks.map((d) => Float64Array.of(rank + d / 10)), ranks.map(() => new Uint8Array(8)));
  w.forEach((bytes, from) => assert.equal(new Float64Array(bytes.buffer)[0], from + rank / 10));
  // A part of an array, as { buf, offset, count }.
  const whole = new Float64Array(4).fill(-1);
  await comm.allreduceInto(Float64Array.of(1, 2), { buf: whole, offset: 1, count: 2 });
  assert.deepEqual(whole, Float64Array.of(-1, size, 2 * size, -1));
}

async function nonblocking(): Promise<void> {
  // Started together, completed in any order, mixed with point-to-point requests.
  const big = doubles(rank, 100_000);
  const requests: MPI.Request<unknown>[] = [
    comm.iallreduce(rank),
    comm.ibcast(rank === 0 ? 'hello' : null),
    comm.iallreduceInto(big, new Float64Array(big.length)),
    comm.ibarrier(),
    comm.iallgather(rank),
    comm.irecv((rank + size - 1) % size, 5),
    comm.isend(rank, (rank + 1) % size, 5),
    comm.igatherv(Float64Array.of(rank), rank === 0 ? ranks.map(() => 1) : null),
    comm.ialltoall(ranks.map((to) => [rank, to])),
    comm.ireduceScatterBlockInto(doubles(rank, size), new Float64Array(1)),
    comm.iscan(1), comm.iexscan(1),
  ];
  const values = await MPI.Request.waitall(requests);
  assert.equal(values[0], (size * (size - 1)) / 2);
  assert.equal(values[1], 'hello');
  assert.equal((values[2] as Float64Array)[1], ranks.reduce((sum, r) => sum + doubles(r, 2)[1]!, 0));
  assert.deepEqual(values[4], ranks);
  assert.equal(values[5], (rank + size - 1) % size);
  assert.equal(values[10], rank + 1);
  assert.equal(values[11], rank === 0 ? null : rank);
  // test() polls without waiting: an ibarrier completes once every rank entered.
  await new Promise((resolve) => setTimeout(resolve, rank * 30));
  const barrier = comm.ibarrier();
  let polls = 0;
  while (!barrier.test().done) {
    polls++;
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (rank === 0 && size > 1) assert.ok(polls > 0, 'rank 0 entered first and had to wait');
  // An error is the request's: test() and wait() throw it, naming the nonblocking call.
  // (The root depends on nobody: its buffer went out whole.)
  const bad = comm.ibcastInto(rank === 0 ? new Float64Array(2) : new Float64Array(3));
  if (rank === 0) await bad;
  else await assert.rejects(Promise.resolve(bad), /^MPIError: ibcastInto: .*the ranks' counts disagree/);
  await comm.barrier();
}

/** Every nonblocking call gives what its blocking form gives on the same data (each pair run one after the other). */
async function everyNonblocking(): Promise<void> {
  const root = last;
  const counts = ranks.map((r) => r + 1);
  const total = counts.reduce((a, b) => a + b, 0);
  const own = (): Float64Array => doubles(rank, counts[rank]!);
  const layout = (): Float64Array => Float64Array.from(ranks.flatMap((r) => [...doubles(r, counts[r]!)]));
  // [name, blocking, nonblocking]: each makes fresh buffers, so the two runs never share one.
  const pairs: [string, () => Promise<unknown>, () => MPI.Request<unknown>][] = [
    ['bcast', () => comm.bcast(rank === root ? 'x' : null, root), () => comm.ibcast(rank === root ? 'x' : null, root)],
    ['bcastInto', () => comm.bcastInto(rank === root ? doubles(root, 3) : new Float64Array(3), root),
      () => comm.ibcastInto(rank === root ? doubles(root, 3) : new Float64Array(3), root)],
    ['scatter', () => comm.scatter(rank === root ? ranks : null, root), () => comm.iscatter(rank === root ? ranks : null, root)],
    ['scatterInto', () => comm.scatterInto(rank === root ? Int32Array.from(ranks) : null, new Int32Array(1), root),
      () => comm.iscatterInto(rank === root ? Int32Array.from(ranks) : null, new Int32Array(1), root)],
    ['scatterv', () => comm.scatterv(rank === root ? layout() : null, counts, root), () => comm.iscatterv(rank === root ? layout() : null, counts, root)],
    ['scattervInto', () => comm.scattervInto(rank === root ? layout() : null, counts, null, new Float64Array(counts[rank]!), root),
      () => comm.iscattervInto(rank === root ? layout() : null, counts, null, new Float64Array(counts[rank]!), root)],
    ['gather', () => comm.gather(rank, root), () => comm.igather(rank, root)],
    ['gatherInto', () => comm.gatherInto(Int32Array.of(rank), rank === root ? new Int32Array(size) : null, root),
      () => comm.igatherInto(Int32Array.of(rank), rank === root ? new Int32Array(size) : null, root)],
    ['gatherv', () => comm.gatherv(own(), counts, root), () => comm.igatherv(own(), counts, root)],
    ['gathervInto', () => comm.gathervInto(own(), rank === root ? new Float64Array(total) : null, counts, null, root),
      () => comm.igathervInto(own(), rank === root ? new Float64Array(total) : null, counts, null, root)],
    ['allgather', () => comm.allgather(rank), () => comm.iallgather(rank)],
    ['allgatherInto', () => comm.allgatherInto(Int32Array.of(rank), new Int32Array(size)), () => comm.iallgatherInto(Int32Array.of(rank), new Int32Array(size))],
    ['allgatherv', () => comm.allgatherv(own(), counts), () => comm.iallgatherv(own(), counts)],
    ['allgathervInto', () => comm.allgathervInto(own(), new Float64Array(total), counts), () => comm.iallgathervInto(own(), new Float64Array(total), counts)],
    ['alltoall', () => comm.alltoall(ranks), () => comm.ialltoall(ranks)],
    ['alltoallInto', () => comm.alltoallInto(Int32Array.from(ranks, (r) => r + rank), new Int32Array(size)),
      () => comm.ialltoallInto(Int32Array.from(ranks, (r) => r + rank), new Int32Array(size))],
    ['alltoallv', () => comm.alltoallv(Int32Array.from(ranks), ranks.map(() => 1), null, new Int32Array(size), ranks.map(() => 1)),
      () => comm.ialltoallv(Int32Array.from(ranks), ranks.map(() => 1), null, new Int32Array(size), ranks.map(() => 1))],
    ['reduce', () => comm.reduce(rank, MPI.SUM, root), () => comm.ireduce(rank, MPI.SUM, root)],
    ['reduceInto', () => comm.reduceInto(doubles(rank, 3), rank === root ? new Float64Array(3) : null, MPI.SUM, root),
      () => comm.ireduceInto(doubles(rank, 3), rank === root ? new Float64Array(3) : null, MPI.SUM, root)],
    ['allreduce', () => comm.allreduce(rank), () => comm.iallreduce(rank)],
    ['allreduceInto', () => comm.allreduceInto(doubles(rank, 3), new Float64Array(3)), () => comm.iallreduceInto(doubles(rank, 3), new Float64Array(3))],
    ['reduceScatter', () => comm.reduceScatter(doubles(rank, total), counts), () => comm.ireduceScatter(doubles(rank, total), counts)],
    ['reduceScatterInto', () => comm.reduceScatterInto(doubles(rank, total), new Float64Array(counts[rank]!), counts),
      () => comm.ireduceScatterInto(doubles(rank, total), new Float64Array(counts[rank]!), counts)],
    ['reduceScatterBlockInto', () => comm.reduceScatterBlockInto(doubles(rank, size), new Float64Array(1)),
      () => comm.ireduceScatterBlockInto(doubles(rank, size), new Float64Array(1))],
    ['scan', () => comm.scan(rank), () => comm.iscan(rank)],
    ['scanInto', () => comm.scanInto(doubles(rank, 2), new Float64Array(2)), () => comm.iscanInto(doubles(rank, 2), new Float64Array(2))],
    ['exscan', () => comm.exscan(rank), () => comm.iexscan(rank)],
    ['exscanInto', () => comm.exscanInto(doubles(rank, 2), new Float64Array(2)), () => comm.iexscanInto(doubles(rank, 2), new Float64Array(2))],
    ['barrier', () => comm.barrier(), () => comm.ibarrier()],
  ];
  for (const [name, blocking, nonblocking] of pairs) {
    const expected = await blocking();
    const request = nonblocking();
    assert.ok(request instanceof MPI.Request, `i${name} returns an MPI.Request`);
    assert.deepEqual(await request.wait(), expected, `i${name}`);
  }
}

async function badInput(): Promise<void> {
  // A rank that can tell alone rejects at once, naming the call.
  await assert.rejects(comm.bcastInto(new Float64Array(1), size), /^MPIError: bcastInto: root \d+ is out of range/);
  // Bad data fails on the ranks whose result depends on it, no rank left waiting.
  await assert.rejects(comm.reduceInto(new Float64Array(4), rank === 0 ? new Float64Array(3) : null),
    rank === 0 ? /^MPIError: reduceInto: recvbuf has 3 elements but it must have the length of sendbuf/
      : /^MPIError: reduceInto: rank 0 failed: recvbuf has 3 elements/);
  const overlapping = new Float64Array(2 * size);
  await assert.rejects(comm.allgatherInto(overlapping.subarray(0, 2), overlapping),
    /^MPIError: allgatherInto: (rank \d+ failed: )?sendbuf and recvbuf overlap; pass MPI.IN_PLACE as sendbuf/);
  await assert.rejects(comm.alltoallv(new Float64Array(size), ranks.map(() => 1), null, new Float64Array(size), ranks.map(() => 2), null),
    /^MPIError: alltoallv: (rank \d+ failed: )?recvbuf's part for rank \d+ \(2 elements from \d+\) ends at \d+, past the end of recvbuf/);
  // A nonblocking call matches only its own kind.
  if (size > 1) {
    // By messages the root only sends: the receivers see the difference. On the host's board
    // the root also sees the entries published before its own, and then fails too.
    const mixed = rank === 0 ? comm.ibcast(1) : comm.bcast(1);
    if (rank === 0) await Promise.resolve(mixed).catch((err: unknown) => assert.match(String(err), /rank 0 called ibcast\(root=0\) where rank \d+ called bcast\(root=0\), as collective #\d+ on COMM_WORLD/));
    else await assert.rejects(Promise.resolve(mixed), /rank \d+ called bcast\(root=0\) where rank 0 called ibcast\(root=0\), as collective #\d+ on COMM_WORLD/);
  }
  assert.equal(await comm.allreduce(1), size);
}

const checks: Record<string, () => Promise<void>> = { rooted, everywhere, nonblocking, everyNonblocking, badInput };
const only = process.argv.slice(2).filter((a) => !a.startsWith('mpi4ts-test-'));
for (const [name, check] of Object.entries(checks)) {
  if (only.length > 0 && !only.includes(name)) continue;
  await check();
  await agree(name);
}
