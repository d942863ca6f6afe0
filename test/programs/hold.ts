// Every rank says it is ready, then waits (its event loop free) until the file
// argv[2] exists; then a ring exchange of a large and a small message and a
// barrier. Tests poke at the job's ports while it waits.
import * as MPI from 'mpi4ts';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';

const comm = MPI.COMM_WORLD;
const { rank, size } = comm;
const gate = process.argv[2]!;
console.log(`ready ${rank} ${process.pid}`);
while (!existsSync(gate)) await new Promise((r) => setTimeout(r, 100));

const next = (rank + 1) % size;
const prev = (rank + size - 1) % size;
const big = new Float64Array(64 * 1024).fill(rank);
const [, got] = await Promise.all([comm.send(big, next, 2), comm.recv(prev, 2)]);
assert.ok(got instanceof Float64Array && got.every((x) => x === prev), 'ring payload');
assert.deepEqual((await Promise.all([comm.send({ from: rank }, next, 3), comm.recv(prev, 3)]))[1], { from: prev });
await comm.barrier();
console.log(`ok ${rank}`);
