/**
 * Where a pool's workers come from, in one place:
 *
 * - `mpi4ts run --pool` (jobWorkers): ranks 1..N-1 of the job serve rank 0
 *   from start-up (servePoolRank, called by mpi4ts's own import, so they
 *   never run the program's body), as `python -m mpi4py.futures` does;
 * - a CommExecutor's communicator (bridge): the root submits, the others serve;
 * - spawned workers (spawnedWorkers): a PoolExecutor outside --pool spawns
 *   cli/pool-worker.ts, marked as pool workers (Comm.spawnPoolWorkers: the
 *   launcher survives their deaths and tells this process, as under
 *   --pool); the children serve MPI.getParent() (serveSpawned), and
 *   spawnedWorkers resolves with a WorkerGroup over spawn's Intercomm
 *   (workerGroup below does the gathering of who is who).
 *
 * Each gives a WorkerGroup: an Intercomm whose local group is the submitter
 * alone and whose remote group is the workers.
 */
import { hostname } from 'node:os';
import { debug, PoolError, ROOT, type PoolWorkerInfo } from '../base/index.js';
import type { Comm, Intercomm } from '../comm/index.js';
import type { WorkerGroup } from './executor.js';
import { OrderKind, ORDER_TAG, type Order } from './protocol.js';
import { serve } from './worker.js';

/**
 * The tags of the pool's createGroup and createIntercomm calls (a user's own
 * on the same communicator may not use them at the same time). Two: the
 * workers' createGroup and the leaders' exchange run in the same context at
 * the same time, and must not take each other's messages.
 */
export const POOL_GROUP_TAG = 0x504f;
export const POOL_BRIDGE_TAG = 0x5050;

/** This worker's words for the submitter's errors: its world rank, host and pid. */
function selfInfo(comm: Comm): PoolWorkerInfo {
  return { rank: comm.worldRankOf(comm.rank), host: hostname(), pid: process.pid };
}

/**
 * The Intercomm between `root` of `comm` (local group: it alone) and the
 * other ranks (remote group), made by both sides: collective over `comm`,
 * but each side's part waits only for its own group and the leaders.
 */
export async function bridge(comm: Comm, root: number): Promise<Intercomm> {
  const group = comm.getGroup();
  const submitting = comm.rank === root;
  const local = await comm.createGroup(submitting ? group.incl([root]) : group.excl([root]), POOL_GROUP_TAG);
  const remoteLeader = submitting ? (root === 0 ? 1 : 0) : root;
  const inter = await local.createIntercomm(0, comm, remoteLeader, POOL_BRIDGE_TAG);
  local.free();
  return inter;
}

/** The submitter's side of a bridge: the Intercomm and who each worker is, `maxWorkers` of them at most. */
export async function workerGroup(inter: Intercomm, maxWorkers: number | null, release: () => Promise<void>): Promise<WorkerGroup> {
  const infos = (await inter.gather<PoolWorkerInfo | null>(null, ROOT)) as PoolWorkerInfo[];
  const count = maxWorkers === null ? infos.length : Math.min(maxWorkers, infos.length);
  return { inter, workers: infos.slice(0, count).map((info, remote) => ({ remote, info })), release };
}

/** A worker's side of a bridge: it says who it is, then serves until told to stop or the submitter is done. */
export async function serveBridge(inter: Intercomm, comm: Comm): Promise<void> {
  await inter.gather(selfInfo(comm), 0);
  await serve(inter);
}

/**
 * `mpi4ts run --pool`: the Intercomm from rank 0 to ranks 1..N-1 of
 * COMM_WORLD, made once per process (every PoolExecutor of rank 0 shares
 * the workers, each under its own executor id and result tag) together
 * with who the workers are.
 */
export class JobWorkers {
  private made: Promise<{ inter: Intercomm; infos: PoolWorkerInfo[] }> | null = null;
  /** World ranks of workers that died: a later executor leaves them out. */
  private readonly dead = new Set<number>();

  constructor(private readonly world: Comm, watchDeaths: (handler: (rank: number) => void) => void) {
    watchDeaths((rank) => this.dead.add(rank));
  }

  group(maxWorkers: number | null): Promise<WorkerGroup> {
    this.made ??= (async () => {
      const inter = await bridge(this.world, 0);
      return { inter, infos: (await inter.gather<PoolWorkerInfo | null>(null, ROOT)) as PoolWorkerInfo[] };
    })();
    return this.made.then(({ inter, infos }) => {
      const living = infos.map((info, remote) => ({ remote, info })).filter((w) => !this.dead.has(w.info.rank));
      if (living.length === 0) throw new PoolError('PoolExecutor: the pool is broken: every worker of the job has died');
      // The workers stay: rank 0's finalize is what ends them (servePoolRank).
      return { inter, workers: maxWorkers === null ? living : living.slice(0, maxWorkers), release: () => Promise.resolve() };
    });
  }
}

/**
 * A rank of `mpi4ts run --pool` other than 0: serves rank 0's pools until
 * rank 0's program is done (its finalize makes the receive of the next
 * order fail), then finalizes and exits. Never returns: the program's body,
 * which imported mpi4ts, never runs here.
 */
export async function servePoolRank(world: Comm, finalize: () => Promise<void>): Promise<never> {
  try {
    const inter = await bridge(world, 0);
    await serveBridge(inter, world);
  } catch (err) {
    // Rank 0 finished without making a pool: nothing to serve.
    debug('pool worker: %s', (err as Error).message);
  }
  await finalize();
  process.exit(0);
}

/** The order that ends a CommExecutor's workers. */
export function stopOrder(): Order {
  return [OrderKind.STOP];
}

export { ORDER_TAG };

/**
 * Workers spawned for a PoolExecutor outside `mpi4ts run --pool`: `count`
 * processes of cli/pool-worker.ts started by `spawn` (COMM_SELF.spawn, so
 * this process alone is their parent), which serve their parent
 * (serveSpawned) until the executor's release stops them.
 */
export async function spawnedWorkers(count: number, spawn: (count: number) => Promise<Intercomm>): Promise<WorkerGroup> {
  const inter = await spawn(count);
  // A worker that died cannot be told (its send fails at once); the living must be, or they serve for ever.
  const release = async (): Promise<void> => {
    await Promise.all(Array.from({ length: inter.remoteSize }, (_, r) => inter.send(stopOrder(), r, ORDER_TAG).catch(() => {})));
    inter.free();
  };
  try {
    return await workerGroup(inter, null, release);
  } catch (err) {
    // A worker died before it said who it is (the launcher has told this process): the others are stopped, the pool has none.
    await release();
    throw err;
  }
}

/**
 * A spawned pool worker (cli/pool-worker.ts, started by spawnedWorkers):
 * serves its parent until told to stop, then finalizes and exits. Never
 * returns.
 */
export async function serveSpawned(parent: Intercomm, world: Comm, finalize: () => Promise<void>): Promise<never> {
  try {
    await serveBridge(parent, world);
  } catch (err) {
    debug('spawned pool worker: %s', (err as Error).message);
  }
  await finalize();
  process.exit(0);
}
