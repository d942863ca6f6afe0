// The collective algorithms chosen by size and rank count (DESIGN.md "The
// collectives at scale"), through the public API, run by
// test/algorithms.test.ts at several sizes with MPI4TS_ALGO_* forcing some:
// allreduce (doubling, Rabenseifner, ring) against a serial reference, in
// place and into recvbuf; bcastInto (binomial, scatter + allgather) from
// every root, long and short, and with one rank's count wrong; alltoall of
// values (pairwise, Bruck). Rank 0 prints "ok <check>" once every rank passed.
import * as MPI from 'mpi4ts';
import assert from 'node:assert/strict';
import { agree } from './agree.js';

const comm = MPI.COMM_WORLD;
const { rank, size } = comm;
const ranks = Array.from({ length: size }, (_, r) => r);

// Integer-valued, so any order of reduction gives the serial sum's bits.
const doubles = (r: number, length: number): Float64Array => Float64Array.from({ length }, (_, i) => ((r * 7 + i) % 13) - 6);

async function allreduce(): Promise<void> {
  // 8 B, 64 KiB - 8 (doubling), 200 KB and 1.6 MB (Rabenseifner on a power of two, the ring off one, unless forced).
  for (const length of [1, 8191, 25_000, 200_001]) {
    const expected = new Float64Array(length);
    for (const r of ranks) doubles(r, length).forEach((x, i) => { expected[i]! += x; });
    const recv = new Float64Array(length);
    assert.equal(await comm.allreduceInto(doubles(rank, length), recv, MPI.SUM), recv);
    assert.deepEqual(recv, expected, `allreduceInto of ${length}`);
    const inPlace = doubles(rank, length);
    await comm.allreduceInto(MPI.IN_PLACE, inPlace, MPI.SUM);
    assert.deepEqual(inPlace, expected, `in place, ${length}`);
    assert.deepEqual(await comm.allreduce(doubles(rank, length), MPI.SUM), expected, `allreduce of ${length}`);
    const max = await comm.allreduce(Int32Array.from({ length }, (_, i) => (i * 31 + rank * 17) % 1000), MPI.MAX);
    assert.deepEqual(max, Int32Array.from({ length }, (_, i) => Math.max(...ranks.map((r) => (i * 31 + r * 17) % 1000))), `MAX of ${length}`);
  }
}

async function bcastInto(): Promise<void> {
  for (const root of ranks) {
    // 0, short (the tree), 1.6 MB (the scatter + allgather from 3 ranks, unless forced), one element short of the ranks.
    for (const length of [0, 5, 200_003, Math.max(0, size - 1)]) {
      const buf = rank === root ? doubles(root + 1, length) : new Float64Array(length);
      assert.equal(await comm.bcastInto(buf, root), buf);
      assert.deepEqual(buf, doubles(root + 1, length), `from ${root}, ${length}`);
    }
  }
  if (size > 1) {
    // One rank's count differs: it fails naming the counts, no rank is left waiting, and the next call works.
    const last = size - 1;
    const length = 200_000;
    const outcome = await comm.bcastInto(new Float64Array(rank === last ? length - 1 : length), 0).then(() => 'ok', (err: Error) => err.message);
    if (rank === last) assert.match(outcome, /^bcastInto: .*(counts disagree|MPI_ERR_TRUNCATE)/);
    assert.equal(await comm.allreduce(1), size);
  }
}

async function alltoall(): Promise<void> {
  const got = await comm.alltoall(ranks.map((to) => ({ from: rank, to, text: `${rank}->${to}` })));
  assert.deepEqual(got, ranks.map((from) => ({ from, to: rank, text: `${from}->${rank}` })));
  assert.deepEqual(await comm.alltoall(ranks.map((to) => rank * size + to)), ranks.map((from) => from * size + rank));
}

const checks: Record<string, () => Promise<void>> = { allreduce, bcastInto, alltoall };
const only = process.argv.slice(2).filter((a) => !a.startsWith('mpi4ts-test-'));
for (const [name, check] of Object.entries(checks)) {
  if (only.length > 0 && !only.includes(name)) continue;
  await check();
  await agree(name);
}
