// Collective checks, run at several sizes by test/coll.test.ts. Every check
// compares against a serial reference computed here; rank 0 prints
// "ok <check>" once the check passed on every rank (agreement by p2p only).
import * as MPI from 'mpi4ts';
import assert from 'node:assert/strict';

const comm = MPI.COMM_WORLD;
const { rank, size } = comm;
const ranks = Array.from({ length: size }, (_, r) => r);

async function agree(name: string): Promise<void> {
  if (rank === 0) {
    for (let r = 1; r < size; r++) assert.equal(await comm.recv(r, 30000), name);
    console.log(`ok ${name}`);
  } else {
    await comm.send(name, 0, 30000);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function barrier(): Promise<void> {
  // Ranks arrive at very different times; nobody may leave before the last arrives.
  await sleep(rank * 40);
  const before = Date.now();
  await comm.barrier();
  const waited = Date.now() - before;
  // Rank 0 came first and must have waited for the last, which came (size-1)*40 ms later.
  if (rank === 0 && size > 1) assert.ok(waited >= (size - 1) * 40 - 25, `rank 0 left the barrier after ${waited} ms`);
  for (let i = 0; i < 5; i++) await comm.barrier();
}

function valueOf(r: number): { from: number; list: number[]; text: string } {
  return { from: r, list: [r, r * r], text: `rank ${r}` };
}

async function bcast(): Promise<void> {
  for (const root of ranks) {
    assert.deepEqual(await comm.bcast(rank === root ? valueOf(root) : null, root), valueOf(root));
    const big = await comm.bcast(rank === root ? new Float64Array(100_000).fill(root + 0.5) : null, root);
    assert.ok(big instanceof Float64Array && big.length === 100_000 && big[99_999] === root + 0.5);
  }
}

async function allgather(): Promise<void> {
  assert.deepEqual(await comm.allgather(valueOf(rank)), ranks.map(valueOf));
  const arrays = await comm.allgather(new Int16Array([rank, -rank]));
  assert.deepEqual(arrays.map((a) => Array.from(a)), ranks.map((r) => [r, r === 0 ? 0 : -r]));
}

async function allreduce(): Promise<void> {
  assert.equal(await comm.allreduce(rank + 1), (size * (size + 1)) / 2);
  assert.equal(await comm.allreduce(rank, MPI.MAX), size - 1);
  const masks = await comm.allreduce(new Uint32Array([0xffff_ffff ^ (1 << rank), 0xf0f0]), MPI.BAND);
  assert.deepEqual(Array.from(masks), [(0xffff_ffff & ~((2 ** size - 1))) >>> 0, 0xf0f0]);
}

async function bigAllreduce(): Promise<void> {
  const n = 1_000_000;
  const mine = new Float64Array(n);
  for (let i = 0; i < n; i++) mine[i] = rank + (i % 1000);
  const sum = await comm.allreduce(mine, MPI.SUM);
  assert.equal(mine[5], rank + 5, 'the input is left alone');
  const rankSum = (size * (size - 1)) / 2;
  for (let i = 0; i < n; i++) if (sum[i] !== rankSum + size * (i % 1000)) assert.fail(`element ${i}: ${sum[i]}`);
}

const checks: Record<string, () => Promise<void>> = { barrier, bcast, allgather, allreduce, bigAllreduce };
const only = process.argv.slice(2).filter((a) => !a.startsWith('mpi4ts-test-'));
for (const [name, check] of Object.entries(checks)) {
  if (only.length > 0 && !only.includes(name)) continue;
  await check();
  await agree(name);
}
