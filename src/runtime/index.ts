/**
 * How this process learns its rank, its job's size and its peers' addresses,
 * and how it ends the job: the bootstraps (mpi4ts run, MPICH Hydra's PMI-1,
 * Slurm's PMI-2, Open MPI's PMIx, a rendezvous at rank 0, a singleton), chosen
 * from the environment (detect.ts).
 *
 * # Unfinished features
 * - **11.3**, **11.8**: MPI_Comm_connect/accept, publish/lookup of names;
 *   spawn under the launchers other than mpi4ts run and Hydra (PMI-2's
 *   spawn, PMIx_Spawn): their bootstraps have no `spawn`.
 * - **11.2**: the MPI_Init_thread levels: a Node rank is one thread
 *   (MPI_THREAD_SINGLE); worker_threads do not get ranks of their own.
 * - **11.4**: MPI sessions (MPI_Session_init, process sets).
 * - Fault tolerance (ULFM): a rank that fails ends the job.
 */
export { detectBootstrap } from './detect.js';
export type { Bootstrap, SpawnParents } from './bootstrap.js';
export type { ProfileSummary, TracePart, ParentInfo, SpawnCommand, SpawnReply } from '../wire/index.js';
export { hostIdentity, processorName } from './host.js';
export { bindThisProcess } from './binding.js';
export { reportOnSignal } from './hang-report.js';
export { reportLines } from '../wire/index.js';
export type { RankReport } from '../wire/index.js';
