// The collective half of the comparison (issues 3, 5 and 16), mpi4ts side; the
// same measurement as bench/coll_mpi4py.py.
//   allreduce: allreduceInto of 1M doubles (Float64Array, MPI.SUM) into a buffer
//     allocated once, the typed path, as mpi4py's Allreduce(sendbuf, recvbuf).
//   bcast: bcast of a small object from rank 0, the structured-clone path.
//   barrier: barrier alone (issue 19's oversubscribed target).
//   allreduce8: allreduceInto of one double (8 B), the latency of a small reduction.
//   bcastInto: bcastInto of 1M doubles (8 MB) from rank 0, as mpi4py's Bcast.
//   reduceInto: reduceInto of 1M doubles with MPI.SUM to rank 0, as mpi4py's Reduce.
//   alltoall: alltoall of values, a small number to and from every rank (the value path,
//     Bruck's or pairwise by MPI4TS_ALGO_ALLTOALL).
//   alltoallv: alltoallv of 1 MiB (131072 doubles) to and from every rank, equal
//     counts at explicit displacements, as mpi4py's Alltoallv.
// As OSU's collective tests: untimed warm-up calls (more than OSU's: V8's JIT
// needs them; alltoallv's steady state came only after some hundreds of calls:
// 50 warm-up calls gave 284 us, 1000 gave 247), a barrier after every call, each rank averages its own calls,
// rank 0 prints the average over ranks in microseconds, as JSON.
// --heap N: then N more calls, without barriers, between two readings of
// process.memoryUsage(); the JSON line adds the largest growth of heapUsed and
// of arrayBuffers over the ranks (no gc in between: what the calls allocated,
// less whatever a scavenge took back meanwhile).
//   mpi4ts run -n 4 bench/coll-mpi4ts.ts allreduce [-i N] [-x N] [--heap N] [--doubles N]
import * as MPI from 'mpi4ts';
import { parseArgs } from 'node:util';

const SMALL_OBJECT = { step: 12, name: 'boundary', values: [1.5, 2.5, 3.5], done: false };
/** Doubles in allreduce, bcastInto and reduceInto: 1M, or --doubles N (bench/two-level.ts measures 1 MiB). */
const DOUBLES = process.argv.includes('--doubles') ? Number(process.argv[process.argv.indexOf('--doubles') + 1]) : 1_000_000;
const ALLTOALLV_BLOCK = (1 << 20) / 8;

interface Test {
  call: () => Promise<unknown>;
  /** Throws when the last call's result is wrong. */
  check: () => void;
  iterations: number;
  warmup: number;
}

const TESTS = ['allreduce', 'bcast', 'barrier', 'allreduce8', 'bcastInto', 'reduceInto', 'alltoall', 'alltoallv'] as const;
type TestName = (typeof TESTS)[number];

function expect(ok: boolean, what: string): void {
  if (!ok) throw new Error(`${test} gave the wrong result: ${what}`);
}

function setUp(name: TestName, comm: MPI.Comm): Test {
  const { rank, size } = comm;
  switch (name) {
    case 'allreduce': {
      const send = new Float64Array(DOUBLES).fill(1);
      const recv = new Float64Array(DOUBLES);
      return {
        call: () => comm.allreduceInto(send, recv, MPI.SUM),
        check: () => expect(recv[0] === size && recv[DOUBLES - 1] === size, `${recv[0]}, expected ${size}`),
        iterations: 50, warmup: 20,
      };
    }
    case 'bcast': {
      let result: unknown = null;
      return {
        call: async () => { result = await comm.bcast(rank === 0 ? SMALL_OBJECT : null, 0); },
        check: () => expect((result as typeof SMALL_OBJECT).name === 'boundary', 'not the root\'s object'),
        iterations: 10_000, warmup: 2000,
      };
    }
    case 'barrier':
      return { call: () => comm.barrier(), check: () => {}, iterations: 10_000, warmup: 2000 };
    case 'allreduce8': {
      const send = new Float64Array([rank + 1]);
      const recv = new Float64Array(1);
      return {
        call: () => comm.allreduceInto(send, recv, MPI.SUM),
        check: () => expect(recv[0] === (size * (size + 1)) / 2, `${recv[0]}, expected ${(size * (size + 1)) / 2}`),
        iterations: 10_000, warmup: 2000,
      };
    }
    case 'bcastInto': {
      const buf = new Float64Array(DOUBLES).fill(rank === 0 ? 3 : 0);
      return {
        call: () => comm.bcastInto(buf, 0),
        check: () => expect(buf[0] === 3 && buf[DOUBLES - 1] === 3, `${buf[0]}, expected 3`),
        iterations: 50, warmup: 20,
      };
    }
    case 'reduceInto': {
      const send = new Float64Array(DOUBLES).fill(1);
      const recv = rank === 0 ? new Float64Array(DOUBLES) : null;
      return {
        call: () => comm.reduceInto(send, recv, MPI.SUM, 0),
        check: () => expect(recv === null || (recv[0] === size && recv[DOUBLES - 1] === size), `${recv?.[0]}, expected ${size}`),
        iterations: 50, warmup: 20,
      };
    }
    case 'alltoall': {
      const values = Array.from({ length: size }, (_, r) => rank * size + r);
      let got: number[] = [];
      return {
        call: async () => { got = await comm.alltoall(values); },
        check: () => got.forEach((v, s) => expect(v === s * size + rank, `item ${s} is ${v}`)),
        iterations: 2000, warmup: 1000,
      };
    }
    case 'alltoallv': {
      const counts = Array.from({ length: size }, () => ALLTOALLV_BLOCK);
      const displs = counts.map((_, r) => r * ALLTOALLV_BLOCK);
      // Block r of my send buffer holds rank*size + r, so block s of the receive buffer must hold s*size + rank.
      const send = Float64Array.from({ length: size * ALLTOALLV_BLOCK }, (_, k) => rank * size + Math.floor(k / ALLTOALLV_BLOCK));
      const recv = new Float64Array(size * ALLTOALLV_BLOCK);
      return {
        call: () => comm.alltoallv(send, counts, displs, recv, counts, displs),
        check: () => counts.forEach((_, s) => expect(recv[s * ALLTOALLV_BLOCK] === s * size + rank, `block ${s} holds ${recv[s * ALLTOALLV_BLOCK]}`)),
        iterations: 1000, warmup: 1000,
      };
    }
  }
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { i: { type: 'string', short: 'i' }, x: { type: 'string', short: 'x' }, heap: { type: 'string' }, doubles: { type: 'string' } },
});
const test = positionals[0] as TestName;
if (!TESTS.includes(test)) throw new Error(`test "${String(test)}" must be one of ${TESTS.join(', ')}`);
const comm = MPI.COMM_WORLD;
const bench = setUp(test, comm);
const iterations = Number(values.i ?? bench.iterations);
const warmup = Number(values.x ?? bench.warmup);

let total = 0;
await comm.barrier();
for (let i = 0; i < iterations + warmup; i++) {
  const start = performance.now();
  await bench.call();
  if (i >= warmup) total += performance.now() - start;
  await comm.barrier();
}
bench.check();

let heap: { heapUsedKiB: number; arrayBuffersKiB: number; calls: number } | undefined;
if (values.heap !== undefined) {
  const calls = Number(values.heap);
  // With --expose-gc (compare.ts passes it), a full collection before each reading leaves
  // what the calls kept, not the garbage that happened not to be collected yet.
  const collect = (globalThis as { gc?: () => void }).gc ?? ((): void => {});
  // A first window of as many calls, unmeasured: V8's code and feedback for the calls' paths
  // grow for a while after the timed loop (reduceInto kept 258 KiB over 1000 calls after it,
  // 278 KiB over 16000: a one-time growth, not a leak); the second window shows what each call keeps.
  for (let i = 0; i < calls; i++) await bench.call();
  await comm.barrier();
  collect();
  const before = process.memoryUsage();
  for (let i = 0; i < calls; i++) await bench.call();
  collect();
  const after = process.memoryUsage();
  bench.check();
  const growth = await comm.gather([after.heapUsed - before.heapUsed, after.arrayBuffers - before.arrayBuffers], 0);
  if (growth !== null) {
    heap = {
      calls,
      heapUsedKiB: Math.max(...growth.map(([used]) => used!)) / 1024,
      arrayBuffersKiB: Math.max(...growth.map(([, buffers]) => buffers!)) / 1024,
    };
  }
}
const every = await comm.gather((total * 1000) / iterations, 0);
if (every !== null) {
  console.log(JSON.stringify({
    implementation: 'mpi4ts', test, ranks: comm.size, unit: 'us',
    value: every.reduce((a, b) => a + b, 0) / every.length, ...(heap === undefined ? {} : { heap }),
  }));
}
