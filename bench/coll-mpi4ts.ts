// The collective half of the comparison (issues 3 and 5), mpi4ts side; the
// same measurement as bench/coll_mpi4py.py.
//   allreduce: allreduceInto of 1M doubles (Float64Array, MPI.SUM) into a buffer
//     allocated once, the typed path, as mpi4py's Allreduce(sendbuf, recvbuf).
//   bcast: bcast of a small object from rank 0, the structured-clone path.
// As OSU's collective tests: untimed warm-up calls (more than OSU's: V8's JIT
// needs them), a barrier after every call, each rank averages its own calls,
// rank 0 prints the average over ranks in microseconds, as JSON.
//   mpi4ts run -n 4 bench/coll-mpi4ts.ts allreduce [-i N] [-x N]
import * as MPI from 'mpi4ts';
import { parseArgs } from 'node:util';

const SMALL_OBJECT = { step: 12, name: 'boundary', values: [1.5, 2.5, 3.5], done: false };
const DOUBLES = 1_000_000;

const { positionals, values } = parseArgs({ allowPositionals: true, options: { i: { type: 'string', short: 'i' }, x: { type: 'string', short: 'x' } } });
const test = positionals[0];
if (test !== 'allreduce' && test !== 'bcast') throw new Error(`test "${String(test)}" must be allreduce or bcast`);
const comm = MPI.COMM_WORLD;
const send = new Float64Array(DOUBLES).fill(1);
const recv = new Float64Array(DOUBLES);
let result: unknown = null;
const call = test === 'allreduce'
  ? async () => { result = await comm.allreduceInto(send, recv, MPI.SUM); }
  : async () => { result = await comm.bcast(comm.rank === 0 ? SMALL_OBJECT : null, 0); };
const iterations = Number(values.i ?? (test === 'allreduce' ? 50 : 10_000));
const warmup = Number(values.x ?? (test === 'allreduce' ? 20 : 2000));

let total = 0;
await comm.barrier();
for (let i = 0; i < iterations + warmup; i++) {
  const start = performance.now();
  await call();
  if (i >= warmup) total += performance.now() - start;
  await comm.barrier();
}
if (test === 'allreduce') {
  const sum = result as Float64Array;
  if (sum[0] !== comm.size || sum[DOUBLES - 1] !== comm.size) throw new Error(`allreduce gave ${sum[0]}, expected ${comm.size}`);
} else if ((result as typeof SMALL_OBJECT).name !== 'boundary') {
  throw new Error('bcast gave the wrong object');
}
const every = await comm.gather((total * 1000) / iterations, 0);
if (every !== null) {
  console.log(JSON.stringify({ implementation: 'mpi4ts', test, ranks: comm.size, unit: 'us', value: every.reduce((a, b) => a + b, 0) / every.length }));
}
