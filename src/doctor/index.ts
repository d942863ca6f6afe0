/**
 * `mpi4ts doctor`: checks a cluster before a job runs on it (README
 * "Checking a cluster"): host names, name resolution, ssh and its keys, Node
 * and mpi4ts versions, the program, ports between hosts, clocks, a Pi's
 * power, other MPI launchers.
 *
 * # Unfinished features
 * - The `ports` check dials host names; a job started with --iface/--net
 *   dials that network's addresses, which are not checked separately.
 * - No check of shared memory (/dev/shm size) or of ulimits.
 * - When node cannot run on a host, no shell-only fallback gathers the other facts.
 */
export { runDoctor } from './doctor.js';
export type { DoctorOptions, DoctorReport } from './doctor.js';
export { CHECK_IDS } from './check.js';
export type { Check, CheckId, CheckStatus } from './check.js';
export { SystemRunner } from './runner.js';
export type { Runner, ExecResult, Session } from './runner.js';
export { formatHuman, formatJson } from './report.js';
