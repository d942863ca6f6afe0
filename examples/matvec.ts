// A distributed matrix-vector product, as mpi4py's matvec:
//     comm.Allgather([x, MPI.DOUBLE], [xg, MPI.DOUBLE]); y = numpy.dot(A, xg)
// Each rank owns a band of rows of A and the same rows of x; allgatherInto
// assembles the whole x in a buffer every rank allocated once, and each rank
// multiplies its band by it. Here the product drives a power iteration
// (x <- Ax / |Ax|) for A's largest eigenvalue, so that the buffers are reused
// on every step; rank 0 gathers x and checks it, and the eigenvalue, against
// the same iteration done serially on the whole matrix.
// Run it with: npx mpi4ts run -n 4 examples/matvec.ts
import * as MPI from 'mpi4ts';

const ROWS_PER_RANK = 40;
const STEPS = 30;

/** A symmetric matrix with a clear largest eigenvalue: a(i, j) = 1 / (1 + |i - j|). */
function entry(i: number, j: number): number {
  return 1 / (1 + Math.abs(i - j));
}

/** y = A_band x, where A_band holds rows first.. of an n-column matrix. */
function multiply(band: Float64Array, n: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) {
    let sum = 0;
    for (let j = 0; j < n; j++) sum += band[i * n + j]! * x[j]!;
    y[i] = sum;
  }
}

function sumOfSquares(v: Float64Array): number {
  return v.reduce((s, a) => s + a * a, 0);
}

/** The reference: the same power iteration on the whole matrix in one process. */
function serialPowerIteration(n: number): { x: Float64Array; lambda: number } {
  const a = Float64Array.from({ length: n * n }, (_, k) => entry(Math.floor(k / n), k % n));
  let x = new Float64Array(n).fill(1);
  let y = new Float64Array(n);
  let lambda = 0;
  for (let step = 0; step < STEPS; step++) {
    multiply(a, n, x, y);
    lambda = Math.sqrt(sumOfSquares(y));
    for (let i = 0; i < n; i++) y[i] = y[i]! / lambda;
    [x, y] = [y, x];
  }
  return { x, lambda };
}

const comm = MPI.COMM_WORLD;
const { rank, size } = comm;
const n = ROWS_PER_RANK * size;
const first = rank * ROWS_PER_RANK;

// My band of A, my part of x, the whole x, my part of y: allocated once.
const band = Float64Array.from({ length: ROWS_PER_RANK * n }, (_, k) => entry(first + Math.floor(k / n), k % n));
const x = new Float64Array(ROWS_PER_RANK).fill(1);
const xAll = new Float64Array(n);
const y = new Float64Array(ROWS_PER_RANK);

const started = MPI.wtime();
let lambda = 0;
for (let step = 0; step < STEPS; step++) {
  await comm.allgatherInto(x, xAll); // xAll = [x of rank 0, x of rank 1, ...]
  multiply(band, n, xAll, y);
  lambda = Math.sqrt(await comm.allreduce(sumOfSquares(y), MPI.SUM));
  for (let i = 0; i < ROWS_PER_RANK; i++) x[i] = y[i]! / lambda;
}
const elapsed = MPI.wtime() - started;

const xGathered = rank === 0 ? new Float64Array(n) : null;
await comm.gatherInto(x, xGathered, 0);
if (rank === 0) {
  const serial = serialPowerIteration(n);
  const worst = xGathered!.reduce((m, v, i) => Math.max(m, Math.abs(v - serial.x[i]!)), 0);
  const lambdaError = Math.abs(lambda - serial.lambda) / serial.lambda;
  // The sums of squares are added in another order than serially: close, not identical.
  if (worst > 1e-12 || lambdaError > 1e-12) {
    console.error(`matvec: wrong result: x differs from the serial iteration by ${worst}, ` +
      `the eigenvalue ${lambda} from the serial ${serial.lambda} by ${lambdaError} (allowed: 1e-12)`);
    process.exitCode = 1;
  } else {
    console.log(`matvec ${n}x${n} on ${size} rank(s), ${STEPS} power-iteration steps in ${elapsed.toFixed(4)} s: ` +
      `largest eigenvalue ${lambda.toFixed(10)}, largest difference from serial ${worst.toExponential(1)}`);
  }
}
