// A spawned program that never imports mpi4ts: it exits 0 without joining (test/spawn.test.ts).
console.log('spawned, but no MPI here');
