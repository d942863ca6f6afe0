// The Mandelbrot set by spawned workers, as mpi4py's demo/mandelbrot
// mandelbrot-master and mandelbrot-worker: the master spawns WORKERS
// processes of examples/mandelbrot-worker.ts, broadcasts the picture's
// parameters to them across the intercommunicator (bcastInto, mpi4py's
// comm.Bcast), gathers how many rows each computed (gather), then the rows'
// numbers and pixels into its buffers (gathervInto, mpi4py's comm.Gatherv
// with counts and displacements), puts the rows in place, and checks the
// whole image against one it computes itself, by checksum.
// Run it with: npx mpi4ts run -n 1 examples/mandelbrot-master.ts [workers]   (default 3)
import * as MPI from 'mpi4ts';
import { fileURLToPath } from 'node:url';
import { computeRow } from './mandelbrot-worker.js';

const workers = Number(process.argv[2] ?? 3);
const region = new Float64Array([-2.0, 1.0, -1.0, 1.0]); // x1, x2, y1, y2
const shape = new Int32Array([120, 80, 100]); //             w, h, maxit
const [w, h] = [shape[0]!, shape[1]!];

const script = fileURLToPath(new URL('./mandelbrot-worker.ts', import.meta.url));
const comm = await MPI.COMM_SELF.spawn(script, [], workers, 0);

await comm.bcastInto(region, MPI.ROOT);
await comm.bcastInto(shape, MPI.ROOT);

// How many rows each worker has, then their row numbers and pixels, back to back in worker order.
const rowCounts = (await comm.gather<number | null>(null, MPI.ROOT)) as number[];
const rowNumbers = new Int32Array(h);
await comm.gathervInto(null, rowNumbers, rowCounts, null, MPI.ROOT);
const pixels = new Int32Array(w * h);
await comm.gathervInto(null, pixels, rowCounts.map((c) => c * w), null, MPI.ROOT);
await comm.disconnect();

// Each gathered row to its place in the picture.
const image = new Int32Array(w * h);
rowNumbers.forEach((row, k) => image.set(pixels.subarray(k * w, (k + 1) * w), row * w));

const serial = new Int32Array(w * h);
for (let row = 0; row < h; row++) computeRow(serial, row * w, row, region, w, h, shape[2]!);
const checksum = (a: Int32Array): number => a.reduce((sum, v, i) => (sum + v * ((i % 7919) + 1)) % 1_000_000_007, 0);
if (checksum(image) !== checksum(serial) || image.some((v, i) => v !== serial[i])) {
  throw new Error('mandelbrot: the workers\' image differs from the serial one');
}
console.log(`mandelbrot: ${w} x ${h} image from ${workers} workers matches the serial one (checksum ${checksum(image)})`);
