/**
 * OSU-style benchmarks run by `mpi4ts bench`: the CLI parses the flags into a
 * BenchConfig and starts `worker.js` (a program run under the launcher).
 */
export { benchConfig, DEFAULT_WINDOW } from './config.js';
export type { BenchConfig } from './config.js';
export { TESTS } from './tests.js';
