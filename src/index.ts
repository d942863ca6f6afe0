/**
 * mpi4ts: MPI for TypeScript. Importing this module initialises the runtime
 * (top-level await), as `from mpi4py import MPI` does: afterwards
 * `COMM_WORLD.rank` and `.size` are valid. See API.md for the contract.
 */
import { Comm, initWorld, parentIntercomm, type Intercomm } from './comm/index.js';
import { options as processOptions } from './base/index.js';
import { JobWorkers, PoolExecutorBase, servePoolRank, serveSpawned, type PoolContext, type PoolExecutorOptions } from './pool/index.js';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

export { ANY_SOURCE, ANY_TAG, PROC_NULL, ROOT, UNDEFINED, TAG_UB, COMM_TYPE_SHARED, IDENT, CONGRUENT, SIMILAR, UNEQUAL } from './base/index.js';
export { MPIError, TruncationError, JobError, ErrorClass } from './base/index.js';
export { PoolError, WorkerLostError, TaskError } from './base/index.js';
export type { PoolWorkerInfo } from './base/index.js';
export { ProtocolError, CollectiveMismatchError, ErrorCode } from './base/index.js';
export { Request, Status } from './p2p/index.js';
export type { TestResult, TestAnyResult, ElementSized } from './p2p/index.js';
// point-to-point beyond send and receive: persistent requests, matched probe, buffered mode (src/p2p/)
export { Prequest, Message, MESSAGE_NO_PROC, attachBuffer, detachBuffer, BSEND_OVERHEAD } from './p2p/index.js';
export type { AttachedMemory } from './p2p/index.js';
export type { RawBuffer } from './codec/index.js';
export { Comm, CartComm, Intercomm, computeDims, Group, GROUP_EMPTY } from './comm/index.js';
export type { RankRange, SpawnOptions } from './comm/index.js';
// collectives: reduction ops (src/coll/op.ts)
export { Op, SUM, PROD, MAX, MIN, LAND, LOR, LXOR, BAND, BOR, BXOR, MAXLOC, MINLOC } from './coll/index.js';
export type { TypedArray } from './coll/index.js';
// collectives on the caller's buffers (src/coll/buffer.ts)
export { IN_PLACE } from './coll/index.js';
export type { Buf, BufferPart, InPlace } from './coll/index.js';
export { VERSION } from './base/index.js';
// task pools (src/pool/)
export { CommExecutor, TaskPool } from './pool/index.js';
export type { MapOptions, RunOptions, ShutdownOptions, PoolExecutorOptions } from './pool/index.js';

const world = await initWorld();

/** All ranks of the job (of this spawned world, in a process comm.spawn started). */
export const COMM_WORLD = new Comm({ world, group: world.worldGroup, context: 0 });
/** This rank alone. */
export const COMM_SELF = new Comm({ world, group: [world.rank], context: 2 });

// Built at start-up: the parents may send before the program asks for it.
const parent = parentIntercomm(world, world.worldGroup, world.bootstrap.parent?.() ?? null, world.contexts, (init) => new Comm(init));

/**
 * The intercommunicator to the processes that spawned this one
 * (MPI_Comm_get_parent, MPI 4.1 section 11.8.2): its remote group is the
 * parent communicator's group. null in a process comm.spawn did not start.
 */
export function getParent(): Intercomm | null {
  return parent;
}

/**
 * MPI_UNIVERSE_SIZE (MPI 4.1 section 11.10.1, an attribute of
 * MPI_COMM_WORLD): how many processes the job's hosts have room for, under
 * mpi4ts run the slots of the host list, else -n; under mpiexec.hydra its
 * -usize N (API.md "Dynamic processes"); COMM_WORLD's size where the
 * launcher does not say.
 */
export const UNIVERSE_SIZE: number = world.bootstrap.universeSize ?? world.size;

// MPI4TS_POOL: ranks 1..N-1 serve rank 0's pools. Under mpi4ts run --pool they run cli/pool-worker.ts, which
// marks itself: they serve once this import is done (a task module may import mpi4ts). A program run on a
// worker rank (another launcher, MPI4TS_POOL=1 set by hand) serves from inside its import and never returns
// to its body, as python -m mpi4py.futures's workers.
const poolMode = processOptions().pool && world.size > 1;
const isPoolWorkerEntry = (globalThis as Record<symbol, unknown>)[Symbol.for('mpi4ts.poolWorker')] === true;
if (poolMode && world.rank !== 0) {
  const serving = servePoolRank(COMM_WORLD, () => world.finalize());
  if (!isPoolWorkerEntry) await serving;
} else if (isPoolWorkerEntry && parent !== null) {
  // Spawned by a PoolExecutor outside --pool (pool/workers.ts spawnedWorkers): serve the parent.
  void serveSpawned(parent, COMM_WORLD, () => world.finalize());
}

/** The pool worker entry a PoolExecutor spawns outside --pool (built beside this file). */
const POOL_WORKER_ENTRY = fileURLToPath(new URL('./cli/pool-worker.js', import.meta.url));

/** One handler of the launcher's worker-death notices for the process, passed on to every PoolExecutor. */
const deathHandlers: ((rank: number, words: string) => void)[] = [];
world.bootstrap.watchDeaths?.((rank, words) => {
  for (const handler of deathHandlers) handler(rank, words);
});
const poolContext: PoolContext = {
  jobWorkers: poolMode ? new JobWorkers(COMM_WORLD, (handler) => deathHandlers.push(handler)) : null,
  poolOfOne: processOptions().pool && world.size === 1,
  watchDeaths: (handler) => deathHandlers.push(handler),
  spawnWorkers: (count) => COMM_SELF.spawnPoolWorkers(POOL_WORKER_ENTRY, count),
  // As mpi4py's MPIPoolExecutor: the universe's room beyond this job, else (a local job) a worker per core.
  defaultWorkers: UNIVERSE_SIZE > world.size ? UNIVERSE_SIZE - world.size : availableParallelism(),
};

/**
 * mpi4py's MPIPoolExecutor: workers that run the exported functions of a
 * task module, named by export. Under `mpi4ts run -n N --pool script.ts`
 * the workers are ranks 1..N-1; elsewhere under mpi4ts run they are
 * spawned, `maxWorkers` of them (see API.md "Task pools").
 */
export class PoolExecutor extends PoolExecutorBase {
  constructor(options: PoolExecutorOptions) {
    super(poolContext, options);
  }
}

/**
 * MPI_APPNUM (MPI 4.1 section 11.10.3, an attribute of MPI_COMM_WORLD): the
 * index of the program block this rank was started from, in an MPMD job
 * (`mpi4ts run -n 1 server.ts : -n 3 client.ts` gives 0 to the server, 1 to
 * the clients); 0 in a one-program job, and where the launcher does not say
 * (see API.md "Launcher" for which do).
 */
export const APPNUM: number = world.bootstrap.appnum;

/** The name of the host this rank runs on (MPI_Get_processor_name). */
export function getProcessorName(): string {
  return world.processorName;
}

/** Seconds from a monotonic clock (MPI_Wtime). */
export function wtime(): number {
  return performance.now() / 1000;
}

/** Resolution of wtime() in seconds (MPI_Wtick). */
export function wtick(): number {
  return 1e-9;
}

export function isInitialized(): boolean {
  return true;
}

export function isFinalized(): boolean {
  return world.state === 'finalized';
}

/**
 * Finalises explicitly (MPI_Finalize). Optional: it also happens by itself
 * when the program's work is done. Waits for every rank to get here.
 */
export function finalize(): Promise<void> {
  return world.finalize();
}

/** Which launcher started this process and how peers are reached (for `mpi4ts info`). */
export function runtimeInfo(): { bootstrap: string; rank: number; size: number; host: string; transports: string[]; crossMemory: string } {
  return {
    bootstrap: world.bootstrap.name,
    rank: COMM_WORLD.rank,
    size: world.size,
    host: world.processorName,
    transports: world.worldGroup.map((u) => world.transport.kindTo(u)),
    crossMemory: world.crossMemory,
  };
}
