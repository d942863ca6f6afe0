// The Mandelbrot set, as mpi4py's demo/mandelbrot/mandelbrot.py: rank 0 holds
// the image parameters and broadcasts them into every rank's buffers
// (bcastInto, mpi4py's comm.Bcast([buf, MPI.DOUBLE], root=0)); rank r computes
// the rows r, r+size, r+2*size, ...; rank 0 gathers how many rows each rank
// has, then their row numbers and pixels with gathervInto (mpi4py's
// comm.Gatherv(sendbuf, [recvbuf, (counts, displs), MPI.INT], root=0)),
// puts the rows in place and writes the picture as a PGM file. Rank 0 checks
// a sample of rows against a serial computation, and that every row came back
// exactly once; every rank's time (MPI.wtime) goes to rank 0, which prints them.
// Run it with: npx mpi4ts run -n 4 examples/mandelbrot.ts [out.pgm]
//   (default: mandelbrot.pgm in the system's temporary directory)
import * as MPI from 'mpi4ts';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const started = MPI.wtime();

/** Iterations until z -> z^2 + c leaves the disc of radius 2 (maxit if it never does). */
function escapeTime(x: number, y: number, maxit: number): number {
  let zr = 0;
  let zi = 0;
  let it = 0;
  while (zr * zr + zi * zi < 4 && it < maxit) {
    const t = zr * zr - zi * zi + x;
    zi = 2 * zr * zi + y;
    zr = t;
    it++;
  }
  return it;
}

/** One row of the picture into `out` (w pixels from `offset`). */
function computeRow(out: Int32Array, offset: number, row: number, region: Float64Array, w: number, h: number, maxit: number): void {
  const [x1, x2, y1, y2] = [region[0]!, region[1]!, region[2]!, region[3]!];
  const dx = (x2 - x1) / w;
  const y = y1 + row * ((y2 - y1) / h);
  for (let j = 0; j < w; j++) out[offset + j] = escapeTime(x1 + j * dx, y, maxit);
}

const comm = MPI.COMM_WORLD;
const { rank, size } = comm;
const root = 0;

// The parameters travel as two typed arrays, as the demo's rmsg and imsg.
const region = new Float64Array(4); // x1, x2, y1, y2
const shape = new Int32Array(3); //    w, h, maxit
if (rank === root) {
  region.set([-2.0, 1.0, -1.0, 1.0]);
  shape.set([150, 100, 127]);
}
await comm.bcastInto(region, root);
await comm.bcastInto(shape, root);
const [w, h, maxit] = [shape[0]!, shape[1]!, shape[2]!];

// My rows: rank, rank + size, ...; the first h % size ranks have one more.
const myRowCount = Math.floor(h / size) + (rank < h % size ? 1 : 0);
const myRows = Int32Array.from({ length: myRowCount }, (_, k) => rank + k * size);
const myPixels = new Int32Array(myRowCount * w);
for (let k = 0; k < myRowCount; k++) computeRow(myPixels, k * w, myRows[k]!, region, w, h, maxit);

// Gather at the root: first how many rows each rank has, then the row numbers
// and the pixels, each rank's part at its displacement (a prefix sum of counts).
const rowCounts = rank === root ? new Int32Array(size) : null;
await comm.gatherInto(new Int32Array([myRowCount]), rowCounts, root);
let counts: number[] | null = null;
let displs: number[] | null = null;
let rowNumbers: Int32Array | null = null;
let gathered: Int32Array | null = null;
if (rank === root) {
  counts = Array.from(rowCounts!);
  displs = counts.map((_, r) => counts!.slice(0, r).reduce((a, b) => a + b, 0));
  rowNumbers = new Int32Array(h);
  gathered = new Int32Array(h * w);
}
await comm.gathervInto(myRows, rowNumbers, counts, displs, root);
await comm.gathervInto(myPixels, gathered, counts && counts.map((c) => c * w), displs && displs.map((d) => d * w), root);

const elapsed = MPI.wtime() - started;
const times = await comm.gather(elapsed, root);

if (rank === root) {
  // Put every gathered row in its place, noting any row that comes twice or never.
  const image = new Int32Array(h * w);
  const seen = new Uint8Array(h);
  const problems: string[] = [];
  for (let k = 0; k < h; k++) {
    const row = rowNumbers![k]!;
    if (row < 0 || row >= h || seen[row] === 1) problems.push(`row ${row} came back twice or is out of range`);
    else seen[row] = 1;
    image.set(gathered!.subarray(k * w, (k + 1) * w), row * w);
  }
  const missing = seen.indexOf(0);
  if (missing >= 0) problems.push(`row ${missing} never came back`);

  // A serial computation of every 7th row, and the last, must give the same pixels.
  const expected = new Int32Array(w);
  const sample = [...Array.from({ length: Math.ceil(h / 7) }, (_, k) => k * 7), h - 1];
  for (const row of sample) {
    computeRow(expected, 0, row, region, w, h, maxit);
    const got = image.subarray(row * w, (row + 1) * w);
    const j = got.findIndex((v, i) => v !== expected[i]);
    if (j >= 0) problems.push(`pixel (${row}, ${j}) is ${got[j]}, the serial computation gives ${expected[j]}`);
  }

  const inSet = image.reduce((n, v) => n + (v === maxit ? 1 : 0), 0);
  const path = process.argv[2] ?? join(tmpdir(), 'mandelbrot.pgm');
  // Binary PGM: maxit < 256, so one byte per pixel, white inside the set.
  const header = Buffer.from(`P5\n${w} ${h}\n${maxit}\n`, 'ascii');
  writeFileSync(path, Buffer.concat([header, Uint8Array.from(image)]));

  const mean = times!.reduce((a, b) => a + b, 0) / size;
  console.log(`wall clock time: mean ${mean.toFixed(4)} s, min ${Math.min(...times!).toFixed(4)} s, max ${Math.max(...times!).toFixed(4)} s over ${size} rank(s)`);
  if (problems.length > 0) {
    console.error(`mandelbrot: wrong result: ${problems.slice(0, 5).join('; ')}`);
    process.exitCode = 1;
  } else {
    console.log(`mandelbrot ${w}x${h}, maxit ${maxit}, on ${size} rank(s): ${inSet} points in the set, rows checked against serial, image in ${path}`);
  }
}
