// Heat flow along a rod, split among the ranks: the classic halo-exchange
// program. The rod's two ends are held at 0 and 1 degrees; each step every
// point moves towards the mean of its neighbours (Jacobi). Each rank owns a
// slice, swaps its edge values with the neighbours given by a Cartesian
// topology, and all ranks agree through allreduce when nothing changes any more.
// Rank 0 then checks the answer against the same computation done serially.
// Run it with: npx mpi4ts run -n 4 examples/heat-1d.ts
import * as MPI from 'mpi4ts';

const POINTS = 48;
const TOLERANCE = 1e-5;
const MAX_STEPS = 200_000;

/** One Jacobi step over u[1..n] with halo cells u[0] and u[n+1]; returns the largest change. */
function jacobiStep(u: Float64Array, next: Float64Array): number {
  let change = 0;
  for (let i = 1; i < u.length - 1; i++) {
    next[i] = 0.5 * (u[i - 1]! + u[i + 1]!);
    change = Math.max(change, Math.abs(next[i]! - u[i]!));
  }
  return change;
}

/** The rod as one piece: the reference answer. */
function serialSolve(): { u: Float64Array; steps: number } {
  let u = new Float64Array(POINTS + 2);
  let next = new Float64Array(POINTS + 2);
  u[POINTS + 1] = next[POINTS + 1] = 1;
  for (let step = 1; step <= MAX_STEPS; step++) {
    const change = jacobiStep(u, next);
    [u, next] = [next, u];
    if (change < TOLERANCE) return { u: u.subarray(1, POINTS + 1), steps: step };
  }
  return { u: u.subarray(1, POINTS + 1), steps: MAX_STEPS };
}

const world = MPI.COMM_WORLD;
const rod = (await world.createCart([world.size], [false]))!;
const [left, right] = rod.shift(0, 1);

// This rank's slice: as even as possible, the first ranks one point longer.
const base = Math.floor(POINTS / rod.size);
const extra = POINTS % rod.size;
const mine = base + (rod.rank < extra ? 1 : 0);

let u = new Float64Array(mine + 2);
let next = new Float64Array(mine + 2);
// Fixed ends of the rod live in the halo cells of the edge ranks.
if (right === MPI.PROC_NULL) u[mine + 1] = next[mine + 1] = 1;

let steps = 0;
for (let step = 1; step <= MAX_STEPS; step++) {
  // Halo exchange: my first point goes left, my last goes right.
  const [fromLeft, fromRight] = await Promise.all([
    rod.sendrecv(u[1], left, 0, left, 1),
    rod.sendrecv(u[mine], right, 1, right, 0),
  ]);
  if (fromLeft !== null) u[0] = fromLeft as number;
  if (fromRight !== null) u[mine + 1] = fromRight as number;
  const change = await rod.allreduce(jacobiStep(u, next), MPI.MAX);
  [u, next] = [next, u];
  steps = step;
  if (change < TOLERANCE) break;
}

const slices = await rod.gather(u.slice(1, mine + 1), 0);
if (rod.rank === 0) {
  const parallel = Float64Array.from(slices!.flatMap((slice) => [...slice]));
  const serial = serialSolve();
  const worst = parallel.reduce((m, v, i) => Math.max(m, Math.abs(v - serial.u[i]!)), 0);
  console.log(`${rod.size} ranks, ${POINTS} points: converged in ${steps} steps (serial: ${serial.steps})`);
  console.log(`temperature at the middle: ${parallel[POINTS / 2]!.toFixed(4)}`);
  console.log(`largest difference from the serial run: ${worst}`);
}
rod.free();
