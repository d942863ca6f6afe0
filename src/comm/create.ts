/**
 * Communicator creation, the machinery behind Comm's dup, split, splitType
 * and createCart (MPI 4.1 sections 7.4.2 and 8.5.1), kept apart from the
 * public face as mpi4py keeps commimpl.pxi apart from Comm.pyx.
 *
 * Every creation is collective over the parent. Its tags are taken when the
 * user calls it, like any collective's, so it keeps its place among the
 * collectives started on the parent even though it runs later, after the
 * creations already started in this process (`ContextPool.serialize`). Its
 * members then agree on a context id free on all of them (context.ts). A
 * split first allgathers `[color, key]`, or a rank's bad argument in its
 * place, so that every rank reports the bad argument instead of the others
 * hanging.
 *
 * The new communicator's object is built by the caller's `make` (a Comm or a
 * CartComm): this module knows the parent only through `Parent`, so it
 * imports nothing of comm.ts and no import cycle runs back up.
 *
 * create(group) allgathers each rank's group (as ranks in the parent) and
 * checks that the members of every group passed that same group, then agrees
 * on a context id over the whole parent; createGroup(group, tag) does both in
 * one allgather among the group's members alone, in the upper half of the
 * parent's collective tags (context.ts `createGroupTag`), since the other
 * ranks do not call it and so cannot take a collective sequence number.
 *
 * # Unfinished features
 * - **7.4.2**: MPI_Comm_create_from_group (sessions, 11.3), MPI_Comm_idup and the
 *   `_with_info` variants; split types other than COMM_TYPE_SHARED
 *   (MPI_COMM_TYPE_HW_GUIDED, MPI_COMM_TYPE_HW_UNGUIDED, MPI_COMM_TYPE_RESOURCE_GUIDED).
 * - **8.5.3**, **8.5.4**, **8.5.7**: MPI_Graph_create, MPI_Dist_graph_create
 *   and MPI_Dist_graph_create_adjacent, MPI_Cart_sub.
 */
import { COMM_TYPE_SHARED, MPIError, UNDEFINED } from '../base/index.js';
import { BAND, collectives, runCollective, runCollectiveAmong, type CollectiveEndpoint } from '../coll/index.js';
import { cellCount, type Grid } from './cart.js';
import { ContextPool, createGroupTag, pointToPointContext } from './context.js';
import type { Group } from './group.js';
import type { CommWorld } from './world.js';

/** What a communicator is made of: the argument of `new Comm(init)`. */
export interface CommInit {
  world: CommWorld;
  /** World rank of each member, indexed by rank in this communicator. */
  group: readonly number[];
  /**
   * The engine's point-to-point matching context, `pointToPointContext(contextId)`
   * (context.ts): 0 for COMM_WORLD and 2 for COMM_SELF, as src/index.ts builds them.
   */
  context: number;
  /** The call that made it (dup, split, createCart...), for errors about an unnamed communicator. */
  origin?: string;
  /**
   * An intercommunicator's remote group (world ranks by rank, MPI 4.1
   * section 7.6): dest and source of point-to-point calls name its ranks,
   * and the frames of these contexts come from its members. Absent: `group`.
   */
  remoteGroup?: readonly number[];
}

/** What a creation needs of the parent communicator. */
export interface Parent extends CollectiveEndpoint {
  readonly world: CommWorld;
  readonly group: readonly number[];
  /** The tag of the parent's next collective call (its sequence number). */
  nextCollectiveTag(): number;
}

/** Builds the object of a new communicator (a Comm, or a CartComm with its grid). */
export type MakeComm<C> = (init: CommInit) => C;

/** MPI_Comm_dup: the parent's group under a context id of its own. */
export function commDup<C>(parent: Parent, make: MakeComm<C>): Promise<C> {
  const agreeTag = parent.nextCollectiveTag();
  return createComm(parent.world, async (pool) => {
    const contextId = await agreeContextId(parent, pool, 'dup', agreeTag);
    pool.take(contextId);
    return make({ world: parent.world, group: parent.group, context: pointToPointContext(contextId), origin: 'dup' });
  });
}

/** MPI_Comm_split: one communicator per color, ranked by key then by rank in the parent; null for UNDEFINED. */
export function commSplit<C>(parent: Parent, color: number, key: number, make: MakeComm<C>): Promise<C | null> {
  return splitInto(parent, 'split', color, key, make);
}

/** MPI_Comm_split_type: the ranks of the parent that share this host (COMM_TYPE_SHARED); null for UNDEFINED. */
export function commSplitType<C>(parent: Parent, type: number, key: number, make: MakeComm<C>): Promise<C | null> {
  if (type !== COMM_TYPE_SHARED && type !== UNDEFINED) {
    return Promise.reject(new MPIError('ERR_ARG', `splitType: type ${String(type)} is not supported ` +
      `(COMM_TYPE_SHARED = ${COMM_TYPE_SHARED}, or UNDEFINED)`));
  }
  return splitInto(parent, 'splitType', type === UNDEFINED ? UNDEFINED : sameHostColor(parent), key, make);
}

/**
 * MPI_Cart_create for a checked `grid` (cart.ts `checkGrid`): the first
 * cellCount(grid) ranks of the parent, in their order (no reorder); null on
 * the ranks beyond the grid.
 */
export function cartCreate<C>(parent: Parent, grid: Grid, make: MakeComm<C>): Promise<C | null> {
  const color = parent.rank < cellCount(grid) ? 0 : UNDEFINED;
  return splitInto(parent, 'createCart', color, parent.rank, make);
}

/**
 * MPI_Comm_create: each rank passes a group of the parent's processes; the
 * members of a group get a communicator of it, in its order, the others null.
 * Groups that differ must be disjoint, as MPI allows since 2.2 (each member
 * passes its own group), so one context id serves all of them.
 */
export function commCreate<C>(parent: Parent, group: Group, make: MakeComm<C>): Promise<C | null> {
  const offer: GroupEntry = parentRanksOf(parent, 'create', group);
  const gatherTag = parent.nextCollectiveTag();
  const agreeTag = parent.nextCollectiveTag();
  return createComm(parent.world, async (pool) => {
    const entries = await runCollective('create', parent, gatherTag, (ch) => collectives.allgather(ch, offer));
    const problem = groupsProblem('create', parent.rank, entries);
    if (problem !== null) throw new MPIError('ERR_GROUP', problem);
    const contextId = await agreeContextId(parent, pool, 'create', agreeTag);
    const mine = offer as readonly number[];
    if (!mine.includes(parent.rank)) return null;
    pool.take(contextId);
    return make({ world: parent.world, group: mine.map((rank) => parent.group[rank]!), context: pointToPointContext(contextId), origin: 'create' });
  });
}

/**
 * MPI_Comm_create_group: collective over the members of `group` only (a
 * subset of the parent's processes that includes this one); `tag` keeps
 * concurrent calls on overlapping groups apart.
 */
export function commCreateGroup<C>(parent: Parent, group: Group, tag: number, make: MakeComm<C>): Promise<C> {
  const members = parentRanksOf(parent, 'createGroup', group);
  if (typeof members === 'string') return Promise.reject(new MPIError('ERR_GROUP', members));
  if (!members.includes(parent.rank)) {
    return Promise.reject(new MPIError('ERR_GROUP', `createGroup: this process (rank ${parent.rank} of the communicator) ` +
      `is not in the group (${group.size} processes); only the group's members call createGroup`));
  }
  return createComm(parent.world, async (pool) => {
    const offers = await runCollectiveAmong('createGroup', parent, members, createGroupTag(tag),
      (ch) => collectives.allgather(ch, [members, pool.freeMask()] as const));
    const mismatch = offers.findIndex(([theirs]) => !sameRanks(theirs, members));
    if (mismatch >= 0) {
      throw new MPIError('ERR_GROUP', `createGroup: the group's rank ${mismatch} (rank ${members[mismatch]} of the communicator) ` +
        `passed another group: [${offers[mismatch]![0].join(', ')}] where this rank passed [${members.join(', ')}] (ranks in the communicator)`);
    }
    const everywhereFree = pool.freeMask();
    for (const [, mask] of offers) for (let i = 0; i < mask.length; i++) everywhereFree[i]! &= mask[i]!;
    const contextId = ContextPool.lowestFree(everywhereFree);
    pool.take(contextId);
    return make({ world: parent.world, group: members.map((rank) => parent.group[rank]!), context: pointToPointContext(contextId),
      origin: 'createGroup' });
  });
}

/** Whether two groups, as ranks in the parent, are the same list. */
function sameRanks(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((rank, i) => rank === b[i]);
}

/** What a rank contributes to create: its group as ranks in the parent, or what is wrong with it. */
type GroupEntry = readonly number[] | string;

/** The parent ranks of `group`'s members, in the group's order; a message if one is not in the parent. */
function parentRanksOf(parent: Parent, call: string, group: Group): GroupEntry {
  const ranks = group.members.map((worldRank) => parent.group.indexOf(worldRank));
  const outside = ranks.indexOf(-1);
  if (outside < 0) return ranks;
  return `${call}: the group's rank ${outside} (rank ${group.members[outside]} of COMM_WORLD) is not in this communicator; ` +
    'a group for create or createGroup must be made from the communicator\'s own group (comm.getGroup())';
}

/**
 * Why the groups passed to create cannot make communicators, the same text on
 * every rank: a bad group, or a member whose group differs from one it is in.
 */
function groupsProblem(call: string, me: number, entries: readonly GroupEntry[]): string | null {
  const bad = entries.findIndex((entry) => typeof entry === 'string');
  if (bad >= 0) return bad === me ? String(entries[bad]) : `${call}: rank ${bad} passed a bad group: ${String(entries[bad])}`;
  const lists = entries as readonly (readonly number[])[];
  for (const [rank, list] of lists.entries()) {
    if (!list.includes(rank)) continue;
    for (const member of list) {
      const theirs = lists[member]!;
      if (!sameRanks(theirs, list)) {
        return `${call}: rank ${rank} passed the group [${list.join(', ')}] and rank ${member}, a member of it, passed ` +
          `[${theirs.join(', ')}] (ranks in the communicator); the members of a group must all pass that group, ` +
          'and groups that differ must not overlap';
      }
    }
  }
  return null;
}

/** A color that is the same on every rank of one host: the lowest rank of the parent on it. */
function sameHostColor(parent: Parent): number {
  const table = parent.world.table;
  const myHost = table[parent.world.rank]!.hostId;
  return parent.group.findIndex((worldRank) => table[worldRank]!.hostId === myHost);
}

type ColorAndKey = [color: number, key: number];
/** What each rank contributes to a split: its color and key, or what is wrong with them. */
type SplitEntry = ColorAndKey | string;

function isColorAndKey(entry: SplitEntry): entry is ColorAndKey {
  return typeof entry !== 'string';
}

/**
 * split's engine. Bad arguments on one rank still take part in the exchange,
 * so that every rank reports them instead of the others hanging. Every color
 * gets the same context id, which is safe because the new groups are disjoint.
 */
function splitInto<C>(parent: Parent, call: string, color: number, key: number, make: MakeComm<C>): Promise<C | null> {
  const offer: SplitEntry = splitArgumentProblem(call, color, key) ?? [color, key];
  const gatherTag = parent.nextCollectiveTag();
  const agreeTag = parent.nextCollectiveTag();
  return createComm(parent.world, async (pool) => {
    const entries = await runCollective(call, parent, gatherTag, (ch) => collectives.allgather(ch, offer));
    if (!entries.every(isColorAndKey)) {
      const bad = entries.findIndex((entry) => typeof entry === 'string');
      throw new MPIError('ERR_ARG', bad === parent.rank ? String(entries[bad]) : `${call}: rank ${bad} passed a bad argument: ${String(entries[bad])}`);
    }
    const contextId = await agreeContextId(parent, pool, call, agreeTag);
    if (color === UNDEFINED) return null;
    pool.take(contextId);
    const group = membersOf(entries, color).map((rank) => parent.group[rank]!);
    return make({ world: parent.world, group, context: pointToPointContext(contextId), origin: call });
  });
}

/** The parent ranks of `color`, in the order of the new communicator: by key, then by rank in the parent. */
function membersOf(entries: readonly ColorAndKey[], color: number): number[] {
  return entries
    .map(([c, key], rank) => ({ c, key, rank }))
    .filter((entry) => entry.c === color)
    .sort((a, b) => a.key - b.key || a.rank - b.rank)
    .map((entry) => entry.rank);
}

function splitArgumentProblem(call: string, color: unknown, key: unknown): string | null {
  if (!(typeof color === 'number' && Number.isInteger(color) && (color >= 0 || color === UNDEFINED))) {
    return `${call}: color ${String(color)} must be a non-negative integer or UNDEFINED`;
  }
  if (!Number.isInteger(key)) return `${call}: key ${String(key)} must be an integer`;
  return null;
}

/** One creation at a time per process, so concurrent ones never offer the same free context id. */
export function createComm<T>(world: CommWorld, create: (pool: ContextPool) => Promise<T>): Promise<T> {
  const pool = world.contexts;
  return pool.serialize(() => create(pool));
}

/** The lowest context id free on every rank of the parent (MPICH's mask agreement). */
async function agreeContextId(parent: Parent, pool: ContextPool, call: string, tag: number): Promise<number> {
  const everywhereFree = await runCollective(call, parent, tag, (ch) => collectives.allreduce(ch, pool.freeMask(), BAND));
  return ContextPool.lowestFree(everywhereFree);
}
