// Jacobi iteration on a square grid, as mpi4py's demo/mpi-ref-v1/ex-2.16.py
// (the MPI reference's example 2.16: sendrecv and null processes). The grid's
// columns are split among the ranks; each step replaces every inner point by
// the mean of its four neighbours, after swapping edge columns with the left
// and right neighbour ranks through sendrecvInto straight into the halo columns
// (mpi4py's comm.Sendrecv([B[:, -1], MPI.DOUBLE], right, tag, [A[:, 0],
// MPI.DOUBLE], left, tag)); the edge ranks talk to PROC_NULL, which sends and
// receives nothing. The boundary is held at 0 and the inside starts at 1, so
// the grid decays towards 0: all ranks stop together when an allreduce with
// MPI.LAND of "my part is within TOLERANCE of 0" says every part is. Rank 0
// gathers the grid and checks it, and the number of steps, against the same
// iteration done serially.
// Run it with: npx mpi4ts run -n 4 examples/jacobi.ts [n]   (n inner points per side, default 20)
import * as MPI from 'mpi4ts';

const DEFAULT_N = 20;
const TOLERANCE = 1e-3;
const MAX_STEPS = 10_000;

/**
 * One Jacobi step on a column-major grid of `cols` inner columns of N inner
 * points, with a halo all round: b = (north + south + east + west) / 4, added
 * in ex-2.16's order, then copied into a. Returns the largest |b|.
 */
function jacobiStep(a: Float64Array, b: Float64Array, cols: number): number {
  const stride = N + 2;
  let largest = 0;
  for (let j = 1; j <= cols; j++) {
    for (let i = 1; i <= N; i++) {
      const k = j * stride + i;
      const v = (a[k - 1]! + a[k + 1]! + a[k - stride]! + a[k + stride]!) * 0.25;
      b[(j - 1) * N + (i - 1)] = v;
      largest = Math.max(largest, Math.abs(v));
    }
  }
  for (let j = 1; j <= cols; j++) a.set(b.subarray((j - 1) * N, j * N), j * stride + 1);
  return largest;
}

/** A grid of `cols` inner columns: inside 1, boundary and halo 0. */
function startingGrid(cols: number): Float64Array {
  const a = new Float64Array((N + 2) * (cols + 2));
  for (let j = 1; j <= cols; j++) a.fill(1, j * (N + 2) + 1, j * (N + 2) + 1 + N);
  return a;
}

/** The reference: the whole grid in one process. */
function serialSolve(): { inner: Float64Array; steps: number } {
  const a = startingGrid(N);
  const b = new Float64Array(N * N);
  let steps = 0;
  while (steps < MAX_STEPS) {
    steps++;
    if (jacobiStep(a, b, N) < TOLERANCE) break;
  }
  return { inner: b, steps };
}

/** n from its text, or the reason it is not one. */
function parseSide(text: string | undefined): number | string {
  if (text === undefined) return DEFAULT_N;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (Number.isSafeInteger(n) && n >= 2 && n <= 1000) return n;
  return `jacobi: n = "${text}" is not allowed: n, the inner points per side, must be a whole number from 2 to 1000 (default ${DEFAULT_N})`;
}

const comm = MPI.COMM_WORLD;
const { rank, size } = comm;
const side = parseSide(process.argv[2]);
let problem = typeof side === 'string' ? side : null;
if (typeof side === 'number' && side < size) problem = `jacobi: ${size} ranks for ${side} columns; run it on at most ${side} ranks, or give a larger n`;
const N = typeof side === 'number' ? side : DEFAULT_N;
if (problem === null) {
  await solve();
} else {
  // Every rank sees the same arguments and size, so every rank stops here.
  if (rank === 0) console.error(problem);
  process.exitCode = 2;
}

/** The parallel iteration, and rank 0's check against the serial one. */
async function solve(): Promise<void> {
  // My columns: as even as possible, the first N % size ranks one more (as ex-2.16's m).
  const cols = Math.floor(N / size) + (rank < N % size ? 1 : 0);
  const left = rank === 0 ? MPI.PROC_NULL : rank - 1;
  const right = rank === size - 1 ? MPI.PROC_NULL : rank + 1;

  const a = startingGrid(cols);
  const b = new Float64Array(N * cols);
  // Views of the inner points of my edge columns and halo columns: made once, no copies.
  const column = (j: number): Float64Array => a.subarray(j * (N + 2) + 1, j * (N + 2) + 1 + N);
  const [haloLeft, firstColumn, lastColumn, haloRight] = [column(0), column(1), column(cols), column(cols + 1)];
  const myConverged = new Int32Array(1);
  const allConverged = new Int32Array(1);

  const tag = 0;
  let steps = 0;
  const started = MPI.wtime();
  while (steps < MAX_STEPS) {
    steps++;
    // Halos first, so that every step sees its neighbours' current edges (as the serial
    // run does): my last column goes right while the left neighbour's comes into my
    // left halo; then the other way.
    await comm.sendrecvInto(lastColumn, right, haloLeft, left, tag, tag);
    await comm.sendrecvInto(firstColumn, left, haloRight, right, tag, tag);
    myConverged[0] = jacobiStep(a, b, cols) < TOLERANCE ? 1 : 0;
    await comm.allreduceInto(myConverged, allConverged, MPI.LAND);
    if (allConverged[0] === 1) break;
  }
  const elapsed = MPI.wtime() - started;

  // Rank 0 gathers every rank's columns, in rank order: the whole inner grid.
  const counts = rank === 0 ? Array.from({ length: size }, (_, r) => N * (Math.floor(N / size) + (r < N % size ? 1 : 0))) : null;
  const grid = rank === 0 ? new Float64Array(N * N) : null;
  await comm.gathervInto(b, grid, counts, null, 0);
  if (rank === 0) {
    const serial = serialSolve();
    const worst = grid!.reduce((m, v, k) => Math.max(m, Math.abs(v - serial.inner[k]!)), 0);
    // The same arithmetic in the same order on every point: identical, not close.
    if (worst !== 0 || steps !== serial.steps) {
      console.error(`jacobi: wrong result: ${steps} steps (serial: ${serial.steps}), largest difference from the serial grid ${worst}`);
      process.exitCode = 1;
    } else {
      const centre = grid![Math.floor(N / 2) * N + Math.floor(N / 2)]!;
      console.log(`jacobi ${N}x${N} on ${size} rank(s): converged in ${steps} steps (serial: ${serial.steps}) in ${elapsed.toFixed(3)} s, ` +
        `centre ${centre.toExponential(3)}, identical to the serial grid`);
    }
  }
}
