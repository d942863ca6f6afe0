// The workers of examples/mandelbrot-master.ts (mpi4py's demo/mandelbrot
// mandelbrot-worker): the parameters come from the master across the
// intercommunicator MPI.getParent(); worker r computes the rows r,
// r + workers, ...; the master gathers their count, then their numbers and
// pixels. Started by the master, not by hand.
import * as MPI from 'mpi4ts';

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

/** One row of the picture into `out` (w pixels from `offset`); the master checks with it too. */
export function computeRow(out: Int32Array, offset: number, row: number, region: Float64Array, w: number, h: number, maxit: number): void {
  const [x1, x2, y1, y2] = [region[0]!, region[1]!, region[2]!, region[3]!];
  const dx = (x2 - x1) / w;
  const y = y1 + row * ((y2 - y1) / h);
  for (let j = 0; j < w; j++) out[offset + j] = escapeTime(x1 + j * dx, y, maxit);
}

const parent = MPI.getParent();
// Imported by the master for computeRow: only a spawned process works.
if (parent !== null) {
  const { rank, size } = MPI.COMM_WORLD;
  const region = new Float64Array(4);
  const shape = new Int32Array(3);
  await parent.bcastInto(region, 0);
  await parent.bcastInto(shape, 0);
  const [w, h, maxit] = [shape[0]!, shape[1]!, shape[2]!];
  const rows = Int32Array.from({ length: Math.floor(h / size) + (rank < h % size ? 1 : 0) }, (_, k) => rank + k * size);
  const pixels = new Int32Array(rows.length * w);
  rows.forEach((row, k) => computeRow(pixels, k * w, row, region, w, h, maxit));
  await parent.gather(rows.length, 0);
  await parent.gathervInto(rows, null, null, null, 0);
  await parent.gathervInto(pixels, null, null, null, 0);
  await parent.disconnect();
}
