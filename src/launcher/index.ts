/**
 * The launcher behind `mpi4ts run` (MPI 4.1 section 11.5, mpiexec): placement,
 * the local and ssh starters, the job and its control server.
 *
 * # Unfinished features
 * - Per-block hosts in MPMD jobs (cli/mpmd.ts).
 * - Explicit CPU lists (--cpu-set) and memory binding (runtime/binding.ts).
 * - Starters for PBS/Torque, LSF and SGE (under Slurm, use srun).
 */
export { Job } from './job.js';
export type { JobOptions, Placement } from './job.js';
export { LocalStarter } from './local-starter.js';
export type { Starter, RankSpec, RankProcess, RankExit } from './starter.js';
export { ControlServer } from './control-server.js';
export { forwardLines, expandPattern, patternError } from './output.js';
export type { OutputRoute } from './output.js';
export { compileCacheEnv } from './compile-cache.js';
export { programCommand, scriptCommand, type ProgramCommand } from './script.js';
export { parseHostList, readHostfile } from './hostfile.js';
export type { HostEntry } from './hostfile.js';
export { placeRanks, localPlaces } from './placement.js';
export { BIND_LEVELS, bindRequestEnv, bindingFor, readTopology, type BindLevel, type BindRequest } from '../wire/index.js';
export type { MapBy } from './placement.js';
export { SshStarter, splitCommand, shellQuote, unattendedOptions } from './ssh-starter.js';
export { controlAddress, isLocalHost } from './network.js';
export { remoteRankMain } from './remote-rank.js';
export { REMOTE_RANK_COMMAND } from './remote-protocol.js';
