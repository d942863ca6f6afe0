// Scattering and gathering: the root splits an array into one chunk per rank
// and scatters the chunks; each rank squares the numbers of its chunk; the
// root gathers the squared chunks back, in rank order, and checks them.
// Run it with: npx mpi4ts run -n 4 examples/scatter-gather.ts
import * as MPI from 'mpi4ts';

const CHUNK = 4;

const comm = MPI.COMM_WORLD;
const { rank, size } = comm;

// Only the root's array counts; the others pass null (as mpi4py's data = None).
let chunks: number[][] | null = null;
if (rank === 0) {
  const numbers = Array.from({ length: size * CHUNK }, (_, i) => i);
  chunks = Array.from({ length: size }, (_, r) => numbers.slice(r * CHUNK, (r + 1) * CHUNK));
}

const mine = await comm.scatter(chunks, 0);
const squares = mine.map((x) => x * x);
console.log(`rank ${rank} got [${mine.join(', ')}] and sends back [${squares.join(', ')}]`);

const gathered = await comm.gather(squares, 0);
if (rank === 0) {
  const result = gathered!.flat();
  const expected = Array.from({ length: size * CHUNK }, (_, i) => i * i);
  if (result.join() !== expected.join()) throw new Error(`gathered [${result.join(', ')}], expected [${expected.join(', ')}]`);
  console.log(`root gathered [${result.join(', ')}]`);
}
