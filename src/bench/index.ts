/**
 * OSU-style benchmarks run by `mpi4ts bench`: the CLI parses the flags into a
 * BenchConfig and starts `worker.js` (a program run under the launcher).
 *
 * # Unfinished features
 * - OSU's one-sided (osu_put_latency...), nonblocking-collective (osu_iallreduce...)
 *   and multi-pair (osu_mbw_mr) tests; the collectives beyond allreduce, bcast,
 *   reduce, allgather, alltoall, alltoallv, barrier, gather and scatter
 *   (osu_reduce_scatter, osu_allgatherv, osu_gatherv, osu_scatterv...).
 */
export { benchConfig, DEFAULT_WINDOW } from './config.js';
export type { BenchConfig } from './config.js';
export { TESTS } from './tests.js';
export { progressStream } from './progress.js';
export type { ProgressSetting, Terminal } from './progress.js';
