/**
 * Task pools (DESIGN.md "Task pools"), the layer above the communicators:
 * MPI.PoolExecutor and MPI.CommExecutor (pool.ts), the submitting side
 * (executor.ts), the worker's loop (worker.ts), where workers come from
 * (workers.ts) and what the two sides say (protocol.ts).
 */
export { CommExecutor, PoolExecutorBase, TaskPool } from './pool.js';
export type { PoolContext, PoolExecutorOptions } from './pool.js';
export type { MapOptions, RunOptions, ShutdownOptions } from './executor.js';
export { JobWorkers, servePoolRank, serveSpawned } from './workers.js';
