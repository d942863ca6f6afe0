/**
 * Dynamic processes (MPI 4.1 chapter 11.8): comm.spawn and spawnMultiple,
 * and the child's side, MPI.getParent (DESIGN.md "Dynamic processes").
 *
 * Every process of a job has a universe index: the job's own ranks 0..n-1,
 * then each spawn's children as one block after the last. A COMM_WORLD is a
 * block, groups are lists of universe indices, and the matching engine's
 * "world rank" is the universe index, so an intercommunicator between
 * parents and children is one more communicator over the same engine.
 *
 * spawn is collective over the parent communicator, like createIntercomm
 * (intercomm.ts): the parents AND their free context masks (allreduce), the
 * root asks the launcher over its control connection (SPAWN), which starts
 * the children and answers with their addresses once all of them have said
 * hello; the root broadcasts that outcome (or why there is none); every
 * parent adds the addresses to its engine; a barrier makes sure all did;
 * then the root tells the launcher (SPAWN_GO), which welcomes the children.
 * So no child can connect to a parent before that parent knows it.
 *
 * Context ids: the parents pick the lowest id free on all of them for the
 * intercommunicator. A new world has taken only COMM_WORLD's and
 * COMM_SELF's ids, which every parent has taken too, so that id is free in
 * every child; each child takes it, and the lowest other free id for its
 * local communicator (the same on every child: their pools are alike).
 *
 * This module imports comm.ts for types only, as intercomm.ts does.
 *
 * # Unfinished features
 * - **11.8.2**: the errcodes array (a child that fails to start ends the job
 *   instead), MPI_ARGV_NULL other than an empty array, info keys other than
 *   hosts and env; the children's stdin (closed).
 * - **11.8.4**, **11.8.5**: MPI_Comm_accept/connect, MPI_Comm_join, name
 *   publishing.
 * - Spawn under Slurm (PMI-2), Open MPI (PMIx) and a rendezvous: refused
 *   with ERR_SPAWN. Under Hydra it goes through PMI-1's spawn
 *   (runtime/pmi1-spawn.ts).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { MPIError, type ErrorClassName } from '../base/index.js';
import { BAND, collectives, MAX, runCollective } from '../coll/index.js';
import type { ParentInfo, SpawnCommand, SpawnReply } from '../runtime/index.js';
import { ContextPool } from './context.js';
import { createComm } from './create.js';
import { buildIntercomm, pickIds, type Intercomm, type MakeComm } from './intercomm.js';
import { show } from './validate.js';
import type { Comm } from './comm.js';
import type { CommWorld } from './world.js';

/** What comm.spawn takes besides the command (MPI's info keys "host" and the environment). */
export interface SpawnOptions {
  /** Hosts to start the processes on, in turn (a name, or a comma-separated list, or an array); default: the job's hosts with free slots. */
  hosts?: string | readonly string[];
  /** Environment variables added to the processes'. */
  env?: Readonly<Record<string, string>>;
}

/** The most processes one spawn may start. */
export const MAX_SPAWN_PROCESSES = 100_000;

/** What the root tells its group: the children, or why there are none. */
type Outcome = { base: number; count: number; table: SpawnAddressTable; id: number } | { problem: string; errorClass: ErrorClassName };
type SpawnAddressTable = Extract<SpawnReply, { base: number }>['table'];

let nextRequestId = 1;

/**
 * The root's commands, checked: each script exists (relative to the root's
 * working directory), args are strings, maxprocs a whole number from 1.
 * Returns a problem in words instead of throwing, so the root's bad argument
 * fails every parent alike.
 */
export function spawnCommands(call: string, scripts: unknown[], argsOf: unknown[], maxprocsOf: unknown[], optionsOf: unknown[]): SpawnCommand[] | string {
  const commands: SpawnCommand[] = [];
  const many = call === 'spawnMultiple';
  for (let i = 0; i < scripts.length; i++) {
    const at = many ? `[${i}]` : '';
    const script = scripts[i];
    if (typeof script !== 'string' || script === '') return `command${at} must be the path of a script (.ts, .js, .mjs), got ${show(script)}`;
    const path = resolve(process.cwd(), script);
    if (!existsSync(path)) return `command${at} "${script}" does not exist (looked for ${path})`;
    const args = argsOf[i] ?? [];
    if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) return `args${at} must be an array of strings, got ${show(args)}`;
    const maxprocs = maxprocsOf[i];
    if (typeof maxprocs !== 'number' || !Number.isInteger(maxprocs) || maxprocs < 1 || maxprocs > MAX_SPAWN_PROCESSES) {
      return `maxprocs${at} must be an integer from 1 to ${MAX_SPAWN_PROCESSES}, got ${show(maxprocs)}`;
    }
    const options = optionsOf[i] ?? {};
    if (typeof options !== 'object' || options === null) return `options${at} must be an object ({ hosts?, env? }), got ${show(options)}`;
    const { hosts, env } = options as SpawnOptions;
    const hostList = hosts === undefined ? [] : typeof hosts === 'string' ? hosts.split(',').map((h) => h.trim()).filter((h) => h !== '')
      : Array.isArray(hosts) && hosts.every((h) => typeof h === 'string' && h !== '') ? [...hosts] : null;
    if (hostList === null) return `options${at}.hosts must be a host name, a comma-separated list or an array of names, got ${show(hosts)}`;
    const envEntries = env === undefined ? [] : typeof env === 'object' && env !== null ? Object.entries(env) : null;
    if (envEntries === null || !envEntries.every(([name, value]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && typeof value === 'string')) {
      return `options${at}.env must map variable names to strings, got ${show(env)}`;
    }
    commands.push({ script, path, args: [...args] as string[], maxprocs, env: Object.fromEntries(envEntries), hosts: hostList });
  }
  return commands;
}

/**
 * MPI_Comm_spawn(_multiple) over `parent`: `commands` matter at the root
 * only (the others pass null), where they may be the problem in words.
 * `poolWorkers`: the children are a PoolExecutor's workers, whose deaths the job
 * survives (SpawnRequest.pool).
 */
export function spawnIntercomm(call: string, parent: Comm, commands: SpawnCommand[] | string | null, root: number, makeComm: MakeComm,
  poolWorkers = false): Promise<Intercomm> {
  const maskTag = parent.nextCollectiveTag();
  const extentTag = parent.nextCollectiveTag();
  const outcomeTag = parent.nextCollectiveTag();
  const readyTag = parent.nextCollectiveTag();
  const world = parent.world;
  return createComm(world, async (pool) => {
    const free = await runCollective(call, parent, maskTag, (ch) => collectives.allreduce(ch, pool.freeMask(), BAND));
    // Where no launcher hands out universe indices (Hydra), the children's start one past the highest any parent knows.
    const extent = await runCollective(call, parent, extentTag, (ch) => collectives.allreduce(ch, world.table.length, MAX)) as number;
    const mine: Outcome | null = parent.rank === root ? await askLauncher(world, parent, commands, free, extent, poolWorkers) : null;
    const outcome = await runCollective(call, parent, outcomeTag, (ch) => collectives.bcast(ch, mine, root));
    if (outcome === null) throw new MPIError('ERR_INTERN', `${call}: the root sent no outcome`);
    if ('problem' in outcome) {
      const text = parent.rank === root ? outcome.problem : `root ${root} failed: ${outcome.problem}`;
      throw new MPIError(outcome.errorClass, `${call}: ${text}`);
    }
    world.addPeers?.(outcome.table);
    const ids = pickIds(free, free);
    pool.take(ids.contextId);
    pool.take(ids.localId);
    // Every parent knows the children now: only then may they be welcomed (and connect).
    await runCollective(call, parent, readyTag, (ch) => collectives.barrier(ch));
    if (parent.rank === root) world.bootstrap.spawnGo?.(outcome.id);
    const children = Array.from({ length: outcome.count }, (_, i) => outcome.base + i);
    return buildIntercomm(world, parent.group, children, ids, makeComm);
  });
}

/** The root's part: checks, then the launcher's answer. Never throws: a problem becomes the outcome. */
async function askLauncher(world: CommWorld, parent: Comm, commands: SpawnCommand[] | string | null, free: Uint32Array, extent: number,
  poolWorkers: boolean): Promise<Outcome> {
  if (commands === null || typeof commands === 'string') return { problem: commands ?? 'no command', errorClass: 'ERR_ARG' };
  const spawn = world.bootstrap.spawn;
  if (spawn === undefined) {
    return { problem: `not available under ${launcherWords(world.bootstrap.name)}; start the job with mpi4ts run to spawn processes`, errorClass: 'ERR_SPAWN' };
  }
  let context: number;
  try {
    context = ContextPool.lowestFree(free);
  } catch (err) {
    return { problem: (err as Error).message, errorClass: 'ERR_OTHER' };
  }
  const id = nextRequestId++;
  const request = { id, commands, parentGroup: [...parent.group], context, cwd: process.cwd(), ...(poolWorkers ? { pool: true } : {}) };
  const reply = await spawn.call(world.bootstrap, request, { addresses: world.addressesOf?.(parent.group) ?? [], extent });
  if ('error' in reply) return { problem: reply.error, errorClass: 'ERR_SPAWN' };
  const count = commands.reduce((sum, c) => sum + c.maxprocs, 0);
  return { base: reply.base, count, table: reply.table, id };
}

function launcherWords(name: string): string {
  switch (name) {
    case 'singleton': return 'a singleton (a program run without a launcher)';
    case 'pmi2': return 'PMI-2 (srun --mpi=pmi2)';
    case 'pmix': return "Open MPI's PMIx (mpirun)";
    case 'slurm': return 'Slurm without PMI (srun --mpi=none)';
    case 'rendezvous': return 'a rendezvous (MPI4TS_RENDEZVOUS)';
    default: return `the ${name} launcher`;
  }
}

/**
 * A spawned process's intercommunicator to its parents (MPI_Comm_get_parent),
 * built at start-up (the parents may send at once), or null in the job's
 * own ranks. Takes its two context ids from `pool`.
 */
export function parentIntercomm(world: CommWorld, worldGroup: readonly number[], parent: ParentInfo | null, pool: ContextPool,
  makeComm: MakeComm): Intercomm | null {
  if (parent === null) return null;
  const free = pool.freeMask();
  free[parent.context >>> 5]! &= ~(1 << (parent.context & 31));
  const ids = { contextId: parent.context, localId: ContextPool.lowestFree(free) };
  pool.take(ids.contextId);
  pool.take(ids.localId);
  return buildIntercomm(world, worldGroup, parent.group, ids, makeComm);
}
