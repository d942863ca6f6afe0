/**
 * What ranks 1..N-1 of `mpi4ts run --pool` run instead of the program
 * (DESIGN.md "Task pools"): mpi4ts itself, told that this process is a
 * pool worker, so that it serves rank 0's pools once its import is done.
 * Serving after the import (not inside it, as a program run on a worker
 * rank would) lets a task module import mpi4ts: its import of a module
 * still being evaluated would wait for ever. The launcher runs this file
 * with the program's TypeScript support (Node's stripping, or tsx), so the
 * task modules load as the program would.
 */
(globalThis as Record<symbol, unknown>)[Symbol.for('mpi4ts.poolWorker')] = true;
await import('../index.js');
