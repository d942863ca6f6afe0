// Hello world: every rank says who it is and where it runs.
// Run it with: npx mpi4ts run -n 4 examples/helloworld.ts
import * as MPI from 'mpi4ts';

const comm = MPI.COMM_WORLD;
console.log(`Hello, World! I am process ${comm.rank} of ${comm.size} on ${MPI.getProcessorName()}.`);
