// A soak: argv[2] seconds of mixed point-to-point and collective traffic on
// every rank, with each rank's resident memory sampled after a garbage
// collection every argv[3] seconds. Each rank prints its samples (MiB) as JSON
// at the end; test/long/soak.long.ts checks that they stay flat.
import * as MPI from 'mpi4ts';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const comm = MPI.COMM_WORLD;
const { rank, size } = comm;
const seconds = Number(process.argv[2] ?? '600');
const every = Number(process.argv[3] ?? '10');
const next = (rank + 1) % size;
const prev = (rank + size - 1) % size;
const samples: number[] = [];
const start = Date.now();
let lastSample = -Infinity;
const big = new Float64Array(128 * 1024);
const into = new Float64Array(128 * 1024);
let iterations = 0;

for (;;) {
  // Every rank decides together whether to go on, so they stop at the same iteration.
  const elapsed = await comm.bcast(rank === 0 ? (Date.now() - start) / 1000 : null, 0);
  if (elapsed >= seconds) break;
  if (elapsed - lastSample >= every) {
    lastSample = elapsed;
    gc();
    samples.push(Math.round(process.memoryUsage().rss / 1048576));
  }
  iterations++;
  // Point-to-point: small values, a large typed array by rendezvous, a burst of isends.
  const [, small] = await Promise.all([comm.send({ i: iterations, from: rank }, next, 1), comm.recv(prev, 1)]);
  assert.deepEqual(small, { i: iterations, from: prev });
  big[0] = iterations;
  await Promise.all([comm.send(big, next, 2), comm.recvInto(into, prev, 2)]);
  assert.equal(into[0], iterations);
  const burst = Array.from({ length: 32 }, (_, k) => comm.isend(k, next, 3));
  for (let k = 0; k < 32; k++) assert.equal(await comm.recv(prev, 3), k);
  await MPI.Request.waitall(burst);
  // Collectives, small and large.
  assert.equal(await comm.allreduce(1, MPI.SUM), size);
  const sum = await comm.allreduce(big, MPI.SUM);
  assert.equal(sum[0], iterations * size);
  assert.equal((await comm.allgather(rank)).length, size);
  assert.deepEqual(await comm.alltoall(Array.from({ length: size }, (_, r) => r * 100 + rank)),
    Array.from({ length: size }, (_, r) => rank * 100 + r));
  await comm.barrier();
  if (iterations % 50 === 0) {
    const half = await comm.split(rank % 2, rank);
    assert.equal(await half!.allreduce(1, MPI.SUM), half!.size);
    half!.free();
  }
}
console.log(`samples ${rank} ${JSON.stringify(samples)} iterations ${iterations}`);
