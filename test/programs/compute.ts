// An ordinary MPI program with long compute phases between exchanges: argv[2]
// seconds of synchronous work (argv[3] "busy": a CPU loop; "wait": the thread
// blocked in Atomics.wait, which holds the event loop just as well without
// taking a core), between collectives, between point-to-point exchanges, and
// right after starting sends that are not awaited (their connections open
// while this rank computes). test/reliability/compute.test.ts runs it.
import * as MPI from 'mpi4ts';
import assert from 'node:assert/strict';

const comm = MPI.COMM_WORLD;
const { rank, size } = comm;
const seconds = Number(process.argv[2] ?? '12');
const how = process.argv[3] ?? 'wait';
const cell = new Int32Array(new SharedArrayBuffer(4));

function compute(): void {
  const end = Date.now() + seconds * 1000;
  if (how === 'wait') {
    Atomics.wait(cell, 0, 0, seconds * 1000);
    return;
  }
  let x = 0;
  while (Date.now() < end) for (let i = 0; i < 100_000; i++) x += i;
  if (x < 0) console.log(x);
}

// Collectives around a compute phase.
await comm.barrier();
compute();
await comm.barrier();
assert.equal(await comm.allreduce(rank, MPI.SUM), (size * (size - 1)) / 2);

// Point-to-point: sends started (small and large) and not awaited, then computation; the
// peers receive meanwhile. The partner is one this rank has not talked to yet where it can be.
const dest = (rank + Math.max(1, Math.floor(size / 2))) % size;
const source = (rank - Math.max(1, Math.floor(size / 2)) + size) % size;
const small = comm.isend({ from: rank, note: 'small' }, dest, 9);
const large = comm.isend(new Float64Array(200_000).fill(rank), dest, 10);
compute();
const [got, big] = await Promise.all([comm.recv(source, 9), comm.recv(source, 10), small, large]);
assert.deepEqual(got, { from: source, note: 'small' });
assert.ok(big instanceof Float64Array && big.length === 200_000 && big.every((v) => v === source), 'large message intact');

// A ring exchange after the compute phase, then the end.
const [, fromPrev] = await Promise.all([comm.send(rank, (rank + 1) % size, 11), comm.recv((rank + size - 1) % size, 11)]);
assert.equal(fromPrev, (rank + size - 1) % size);
assert.deepEqual(await comm.allgather(rank), Array.from({ length: size }, (_, r) => r));
console.log(`ok ${rank}`);
