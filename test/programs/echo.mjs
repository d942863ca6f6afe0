// A plain JavaScript program: .js/.mjs scripts run without a loader.
import * as MPI from 'mpi4ts';

console.log(`js rank ${MPI.COMM_WORLD.rank} ${process.env.FROM_SHELL} ${process.env.MODE}`);
