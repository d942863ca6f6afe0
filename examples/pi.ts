// The classic cpi: pi as the integral of 4/(1+x^2) over [0, 1], by the
// midpoint rule. Rank 0 reads the number of intervals n from the command line
// and broadcasts it; rank r sums the intervals r+1, r+1+size, r+1+2*size, ...;
// a reduce with SUM adds the parts up at rank 0, which prints the result.
// Run it with: npx mpi4ts run -n 4 examples/pi.ts [n]   (default n = 1000000)
import * as MPI from 'mpi4ts';

const DEFAULT_INTERVALS = 1_000_000;

/** n from its text, or the reason it is not one (a whole number of intervals). */
function parseIntervals(text: string | undefined): number | string {
  if (text === undefined) return DEFAULT_INTERVALS;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (Number.isSafeInteger(n) && n >= 1) return n;
  return `pi: n = "${text}" is not allowed: n, the number of intervals, must be a whole number from 1 to ` +
    `${Number.MAX_SAFE_INTEGER} (default ${DEFAULT_INTERVALS}), as in: mpi4ts run -n 4 examples/pi.ts 1000000`;
}

/** This rank's share of the midpoint sum: intervals first, first + stride, ... up to n. */
function partialSum(n: number, first: number, stride: number): number {
  const h = 1 / n;
  let sum = 0;
  for (let i = first; i <= n; i += stride) {
    const x = h * (i - 0.5);
    sum += 4 / (1 + x * x);
  }
  return h * sum;
}

const comm = MPI.COMM_WORLD;
const started = MPI.wtime();
// Rank 0 alone reads the argument (as cpi reads stdin); a bad one travels in
// place of n, so every rank stops instead of waiting for a number.
const n = (await comm.bcast(comm.rank === 0 ? parseIntervals(process.argv[2]) : null, 0)) as number | string;
if (typeof n === 'string') {
  if (comm.rank === 0) console.error(n);
  process.exitCode = 2;
} else {
  const pi = await comm.reduce(partialSum(n, comm.rank + 1, comm.size), MPI.SUM, 0);
  if (comm.rank === 0) {
    console.log(`pi is approximately ${pi!.toFixed(16)}, Error is ${Math.abs(pi! - Math.PI).toExponential(1)}`);
    console.log(`${n} intervals on ${comm.size} rank(s)`);
    console.log(`wall clock time = ${(MPI.wtime() - started).toFixed(6)} s`);
  }
}
