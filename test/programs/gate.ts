// Every rank says it is ready and where, then waits until rank 0 reads a line
// on stdin; then a ring exchange of a large and a small message. The multi-host
// test pokes at the ranks' ports while they wait (strangers with garbage and
// wrong key proofs) and checks the job still ends well.
import * as MPI from 'mpi4ts';
import assert from 'node:assert/strict';
import { createInterface } from 'node:readline';

const comm = MPI.COMM_WORLD;
const { rank, size } = comm;
console.log(`ready ${rank} ${MPI.getProcessorName()}`);

if (rank === 0) {
  const lines = createInterface({ input: process.stdin });
  const first = await lines[Symbol.asyncIterator]().next();
  const line = first.done === true ? '' : String(first.value).trim();
  assert.equal(line, 'go');
  lines.close();
  process.stdin.destroy();
  for (let r = 1; r < size; r++) await comm.send(line, r, 1);
} else {
  assert.equal(await comm.recv(0, 1), 'go');
}

const next = (rank + 1) % size;
const prev = (rank + size - 1) % size;
const big = new Float64Array(64 * 1024).fill(rank);
const [, got] = await Promise.all([comm.send(big, next, 2), comm.recv(prev, 2)]);
assert.ok(got instanceof Float64Array && got.length === big.length && got.every((x) => x === prev), 'ring payload');
const [, small] = await Promise.all([comm.send({ from: rank }, next, 3), comm.recv(prev, 3)]);
assert.deepEqual(small, { from: prev });
console.log(`ok ${rank}`);
