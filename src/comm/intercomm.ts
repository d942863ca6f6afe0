/**
 * MPI.Intercomm: an intercommunicator (MPI 4.1 section 7.6), two disjoint
 * groups that talk across. `rank`, `size` and `getGroup()` are the local
 * group's; dest and source in point-to-point calls name ranks of the remote
 * group; rooted collectives take MPI.ROOT, MPI.PROC_NULL or the root's rank
 * in the remote group (section 6.2.2).
 *
 * An Intercomm is built of two communicators, passed in its constructor:
 * - `p2p`, a Comm of the local group whose peers are the remote group
 *   (CommInit.remoteGroup), in the intercommunicator's context id: its
 *   point-to-point calls are the Intercomm's, and its collective context
 *   carries the messages that cross between the groups;
 * - `local`, the local group as an intracommunicator of its own context
 *   id, for the steps each group takes alone (the local broadcast after the
 *   leaders spoke), as MPICH keeps a local communicator beside each
 *   intercommunicator.
 * So the engine checks every frame against the group it comes from: the
 * intercommunicator's contexts take frames from the remote group only, the
 * local communicator's from the local group only.
 *
 * Context ids. The intercommunicator's must be free on both groups, the
 * local communicator's on the local group only. createIntercomm: each group
 * ANDs its free masks (an allreduce over the local communicator), the
 * leaders swap their group's members and mask over `peerComm`, each takes
 * the lowest id free in both masks, and its own group's lowest other free id
 * for its local communicator, and broadcasts the outcome to its group.
 * merge and dup: every rank of both groups gets every rank's mask (local
 * allgather, the leaders swap, local broadcast) and computes the same ids.
 * The two groups may pick the same local id: they are disjoint, as split's
 * colors are.
 *
 * The leaders' exchange runs in peerComm's collective context, under the tag
 * createGroup uses (context.ts `createGroupTag`), as MPICH sends it in the
 * peer's collective context: a user's ANY_TAG receive on peerComm cannot
 * take it. It has a code of its own (coll/calls.ts), so one that met a
 * createGroup with the same tag fails and says so rather than mixing.
 *
 * This module imports comm.ts for types only: comm.ts makes Intercomms
 * (createIntercomm), so the Comms an Intercomm builds come from the
 * `makeComm` it is given.
 *
 * # Unfinished features
 * - **7.6.2**: split, create and createGroup on an intercommunicator
 *   (MPI_Comm_split and MPI_Comm_create accept them); MPI_Comm_idup.
 * - **6.2.2**: the collectives coll/inter.ts lists as missing, and the
 *   nonblocking forms other than those below.
 * - **chapter 11**: disconnect() does not wait for requests still pending on the
 *   intercommunicator; MPI says it does. Complete them first.
 */
import { CONGRUENT, IDENT, MPIError, SIMILAR, UNEQUAL, type ErrorClassName } from '../base/index.js';
import type { RawBuffer } from '../codec/index.js';
import { Request, type Message, type Prequest, type Status } from '../p2p/index.js';
import { BAND, collectives, engineLink, inter, LinkChannel, runCollective, runInterCollective, SUM, Failure,
  Op, type Buf, type InterChannels, type InterEnds, type TypedArray } from '../coll/index.js';
import { ContextPool, createGroupTag, pointToPointContext } from './context.js';
import { createComm, type CommInit } from './create.js';
import { compareComms, Group } from './group.js';
import { checkInterRoot, checkOp, show } from './validate.js';
import type { Comm } from './comm.js';
import type { CommWorld } from './world.js';

/** Builds a plain communicator (comm.ts passes `new Comm`). */
export type MakeComm = (init: CommInit) => Comm;

/** What an Intercomm is made of (see the module's header). */
export interface IntercommInit {
  /** The local group, whose point-to-point peers are the remote group, in the intercommunicator's context. */
  p2p: Comm;
  /** The local group as an intracommunicator of its own. */
  local: Comm;
  /** For merge's communicator and a dup's parts. */
  makeComm: MakeComm;
}

/** An intercommunicator (MPI 4.1 section 7.6): a local group and a disjoint remote group. */
export class Intercomm {
  /** This process's rank in the local group (MPI_Comm_rank). */
  readonly rank: number;
  /** Size of the local group (MPI_Comm_size). */
  readonly size: number;
  /** Size of the remote group (MPI_Comm_remote_size; mpi4py's `Get_remote_size()`). */
  readonly remoteSize: number;
  /** @internal */ readonly p2p: Comm;
  /** @internal */ readonly local: Comm;
  private readonly makeComm: MakeComm;
  private readonly ends: InterEnds;
  /** Why it can no longer be used, or null while it can. */
  private endedAs: string | null = null;
  /** The nonblocking call a blocking method runs for, or null (as Comm's). */
  private callName: string | null = null;

  /** @internal Intercommunicators come from `comm.createIntercomm` and `intercomm.dup`. */
  constructor(init: IntercommInit) {
    this.p2p = init.p2p;
    this.local = init.local;
    this.makeComm = init.makeComm;
    this.rank = init.p2p.rank;
    this.size = init.p2p.size;
    this.remoteSize = init.p2p.peerGroup.length;
    this.ends = { local: init.local, remote: init.p2p, remoteSize: this.remoteSize };
  }

  /** True (MPI_Comm_test_inter). */
  get isInter(): boolean {
    return true;
  }

  /** False: an intercommunicator. */
  get isIntra(): boolean {
    return false;
  }

  getRank(): number {
    return this.rank;
  }

  getSize(): number {
    return this.size;
  }

  /** As remoteSize (mpi4py's `Get_remote_size()`). */
  getRemoteSize(): number {
    return this.remoteSize;
  }

  /** The local group (MPI_Comm_group). */
  getGroup(): Group {
    this.checkUsable('getGroup');
    return this.p2p.getGroup();
  }

  /** The remote group (MPI_Comm_remote_group; mpi4py's `remote_group`): local, no message. */
  get remoteGroup(): Group {
    return this.getRemoteGroup();
  }

  /** As remoteGroup (mpi4py's `Get_remote_group()`). */
  getRemoteGroup(): Group {
    this.checkUsable('getRemoteGroup');
    return new Group(this.p2p.peerGroup, this.p2p.world.rank);
  }

  /** The intercommunicator's name (MPI_Comm_get_name / MPI_Comm_set_name), "" until set. */
  get name(): string {
    return this.p2p.name;
  }

  set name(name: string) {
    this.p2p.name = name;
  }

  // ---- point-to-point (MPI 4.1 chapter 3): as Comm's, dest and source name ranks of the remote group ----

  send(value: unknown, dest: number, tag = 0): Promise<void> { return this.p2p.send(value, dest, tag); }
  ssend(value: unknown, dest: number, tag = 0): Promise<void> { return this.p2p.ssend(value, dest, tag); }
  isend(value: unknown, dest: number, tag = 0): Request<void> { return this.p2p.isend(value, dest, tag); }
  issend(value: unknown, dest: number, tag = 0): Request<void> { return this.p2p.issend(value, dest, tag); }
  rsend(value: unknown, dest: number, tag = 0): Promise<void> { return this.p2p.rsend(value, dest, tag); }
  irsend(value: unknown, dest: number, tag = 0): Request<void> { return this.p2p.irsend(value, dest, tag); }
  bsend(value: unknown, dest: number, tag = 0): Promise<void> { return this.p2p.bsend(value, dest, tag); }
  ibsend(value: unknown, dest: number, tag = 0): Request<void> { return this.p2p.ibsend(value, dest, tag); }
  recv<T = unknown>(source?: number, tag?: number, status?: Status): Promise<T> { return this.p2p.recv<T>(source, tag, status); }
  recvInto<B extends RawBuffer>(buf: B, source?: number, tag?: number, status?: Status): Promise<B> {
    return this.p2p.recvInto(buf, source, tag, status);
  }
  irecv<T = unknown>(source?: number, tag?: number): Request<T> { return this.p2p.irecv<T>(source, tag); }
  irecvInto<B extends RawBuffer>(buf: B, source?: number, tag?: number): Request<B> { return this.p2p.irecvInto(buf, source, tag); }
  sendrecv<T = unknown>(value: unknown, dest: number, sendtag?: number, source?: number, recvtag?: number, status?: Status): Promise<T> {
    return this.p2p.sendrecv<T>(value, dest, sendtag, source, recvtag, status);
  }
  sendrecvInto<B extends RawBuffer>(sendbuf: RawBuffer, dest: number, recvbuf: B, source?: number,
    sendtag?: number, recvtag?: number, status?: Status): Promise<B> {
    return this.p2p.sendrecvInto(sendbuf, dest, recvbuf, source, sendtag, recvtag, status);
  }
  sendrecvReplace<B extends RawBuffer>(buf: B, dest: number, source?: number, sendtag?: number, recvtag?: number, status?: Status): Promise<B> {
    return this.p2p.sendrecvReplace(buf, dest, source, sendtag, recvtag, status);
  }
  probe(source?: number, tag?: number, status?: Status): Promise<Status> { return this.p2p.probe(source, tag, status); }
  iprobe(source?: number, tag?: number, status?: Status): boolean { return this.p2p.iprobe(source, tag, status); }
  mprobe(source?: number, tag?: number, status?: Status): Promise<Message> { return this.p2p.mprobe(source, tag, status); }
  improbe(source?: number, tag?: number, status?: Status): Message | null { return this.p2p.improbe(source, tag, status); }
  sendInit(value: unknown, dest: number, tag = 0): Prequest<void> { return this.p2p.sendInit(value, dest, tag); }
  ssendInit(value: unknown, dest: number, tag = 0): Prequest<void> { return this.p2p.ssendInit(value, dest, tag); }
  rsendInit(value: unknown, dest: number, tag = 0): Prequest<void> { return this.p2p.rsendInit(value, dest, tag); }
  bsendInit(value: unknown, dest: number, tag = 0): Prequest<void> { return this.p2p.bsendInit(value, dest, tag); }
  recvInit<T = unknown>(source?: number, tag?: number): Prequest<T> { return this.p2p.recvInit<T>(source, tag); }
  recvIntoInit<B extends RawBuffer>(buf: B, source?: number, tag?: number): Prequest<B> { return this.p2p.recvIntoInit(buf, source, tag); }

  // ---- collectives (MPI 4.1 section 6.2.2); algorithms in coll/inter.ts ----

  /** Waits until every rank of both groups has called it (MPI_Barrier). */
  barrier(): Promise<void> {
    return this.collective('barrier', () => {}, (chs) => inter.barrierInter(chs));
  }

  /**
   * MPI_Bcast from the root's group to the other: the root passes
   * `root = MPI.ROOT` and its value, the other ranks of its group
   * MPI.PROC_NULL; the other group passes the root's rank in the remote
   * group and gets the value. The root's group gets null (mpi4py: None).
   */
  bcast<T>(value: T, root = 0): Promise<T | null> {
    return this.collective('bcast', () => checkInterRoot(root, this.remoteSize), (chs) => inter.bcastInter(chs, value, root));
  }

  /** MPI_Scatter: item i of the root's array of remoteSize items to rank i of the other group; null in the root's group. */
  scatter<T>(values: readonly T[] | null, root = 0): Promise<T | null> {
    return this.collective('scatter', () => checkInterRoot(root, this.remoteSize), (chs) => inter.scatterInter(chs, values, root));
  }

  /** MPI_Gather: the other group's values, in its rank order, at the root (root = MPI.ROOT); null elsewhere. */
  gather<T>(value: T, root = 0): Promise<T[] | null> {
    return this.collective('gather', () => checkInterRoot(root, this.remoteSize), (chs) => inter.gatherInter(chs, value, root));
  }

  /** MPI_Reduce: the reduction of the other group's values at the root (root = MPI.ROOT); null elsewhere. */
  reduce<T>(value: T, op: Op = SUM, root = 0): Promise<T | null> {
    return this.collective('reduce', () => { checkOp(op); checkInterRoot(root, this.remoteSize); },
      (chs) => inter.reduceInter(chs, value, op, root));
  }

  /** MPI_Allgather: every rank gets the other group's values, in its rank order. */
  allgather<T>(value: T): Promise<T[]> {
    return this.collective('allgather', () => {}, (chs) => inter.allgatherInter(chs, value));
  }

  /** MPI_Allreduce: every rank gets the reduction of the other group's values. */
  allreduce<T>(value: T, op: Op = SUM): Promise<T> {
    return this.collective('allreduce', () => checkOp(op), (chs) => inter.allreduceInter(chs, value, op));
  }

  /**
   * MPI_Bcast of a buffer (mpi4py's `Bcast`): the root (MPI.ROOT) sends its
   * `buf`, which lands in `buf` on every rank of the other group (same type
   * and length); the other ranks of the root's group pass MPI.PROC_NULL and
   * get null.
   */
  bcastInto<A extends TypedArray>(buf: Buf<A> | null, root = 0): Promise<A | null> {
    return this.collective('bcastInto', () => checkInterRoot(root, this.remoteSize), (chs) => inter.bcastIntoInter<A>(chs, buf, root));
  }

  /** MPI_Reduce of buffers (mpi4py's `Reduce`): the other group's sendbufs, reduced, land in the root's recvbuf; null elsewhere. */
  reduceInto<A extends TypedArray>(sendbuf: Buf<A> | null, recvbuf: Buf<A> | null, op: Op = SUM, root = 0): Promise<A | null> {
    return this.collective('reduceInto', () => { checkOp(op); checkInterRoot(root, this.remoteSize); },
      (chs) => inter.reduceIntoInter<A>(chs, sendbuf, recvbuf, op, root));
  }

  /**
   * MPI_Gatherv of buffers (mpi4py's `Gatherv`): rank r of the other group's
   * sendbuf lands in the root's recvbuf, `counts[r]` elements from
   * `displs[r]` (back to back when null); null elsewhere.
   */
  gathervInto<A extends TypedArray>(sendbuf: Buf<A> | null, recvbuf: Buf<A> | null, counts: readonly number[] | null,
    displs: readonly number[] | null = null, root = 0): Promise<A | null> {
    return this.collective('gathervInto', () => checkInterRoot(root, this.remoteSize),
      (chs) => inter.gathervIntoInter<A>(chs, sendbuf, recvbuf, counts, displs, root));
  }

  ibarrier(): Request<void> { return this.nonblocking(() => this.barrier(), 'ibarrier'); }
  ibcast<T>(value: T, root = 0): Request<T | null> { return this.nonblocking(() => this.bcast(value, root), 'ibcast'); }
  iscatter<T>(values: readonly T[] | null, root = 0): Request<T | null> { return this.nonblocking(() => this.scatter(values, root), 'iscatter'); }
  igather<T>(value: T, root = 0): Request<T[] | null> { return this.nonblocking(() => this.gather(value, root), 'igather'); }
  ireduce<T>(value: T, op: Op = SUM, root = 0): Request<T | null> {
    return this.nonblocking(() => this.reduce(value, op, root), 'ireduce');
  }
  iallgather<T>(value: T): Request<T[]> { return this.nonblocking(() => this.allgather(value), 'iallgather'); }
  iallreduce<T>(value: T, op: Op = SUM): Request<T> { return this.nonblocking(() => this.allreduce(value, op), 'iallreduce'); }

  // ---- communicators (MPI 4.1 section 7.6.2) ----

  /**
   * An intracommunicator of both groups (MPI_Intercomm_merge): collective
   * over both; the ranks of one group pass the same `high`. The group that
   * passed false comes first; when both passed the same, the group whose
   * rank 0 has the lower rank in COMM_WORLD comes first (MPI leaves that
   * order to the implementation). Within a group, its own order.
   */
  merge(high = false): Promise<Comm> {
    const call = 'merge';
    try {
      this.checkUsable(call);
    } catch (err) {
      return Promise.reject(err);
    }
    const entry: MergeEntry = typeof high === 'boolean' ? high : `high must be a boolean (true or false), got ${show(high)}`;
    return this.create(call, entry, (entries, pool) => {
      const problem = mergeProblem(call, this.rank, entries);
      if (problem !== null) throw new MPIError('ERR_ARG', problem);
      const localHigh = entries.local[0]![0] as boolean;
      const remoteHigh = entries.remote[0]![0] as boolean;
      const mine = this.p2p.group;
      const theirs = this.p2p.peerGroup;
      const localFirst = localHigh !== remoteHigh ? !localHigh : mine[0]! < theirs[0]!;
      const contextId = ContextPool.lowestFree(andOf([...entries.local, ...entries.remote].map((e) => e[1])));
      pool.take(contextId);
      const world = this.p2p.world;
      return this.makeComm({ world, group: localFirst ? [...mine, ...theirs] : [...theirs, ...mine], context: pointToPointContext(contextId) });
    });
  }

  /** An intercommunicator of the same groups with a matching space of its own (MPI_Comm_dup): collective over both. */
  dup(): Promise<Intercomm> {
    try {
      this.checkUsable('dup');
    } catch (err) {
      return Promise.reject(err);
    }
    return this.create('dup', true, (entries, pool) => {
      const both = andOf([...entries.local, ...entries.remote].map((e) => e[1]));
      const localFree = andOf(entries.local.map((e) => e[1]));
      const ids = pickIds(both, localFree);
      pool.take(ids.contextId);
      pool.take(ids.localId);
      return buildIntercomm(this.p2p.world, this.p2p.group, this.p2p.peerGroup, ids, this.makeComm);
    });
  }

  /**
   * MPI_Comm_disconnect (MPI 4.1 chapter 11, releasing connections): collective over both
   * groups; resolves once every rank of both has called it, and frees the
   * intercommunicator. Every call on it from the moment it is called throws.
   */
  disconnect(): Promise<void> {
    const call = 'disconnect';
    try {
      this.checkUsable(call);
    } catch (err) {
      return Promise.reject(err);
    }
    const tag = this.p2p.nextCollectiveTag();
    this.endedAs = 'this intercommunicator was disconnected';
    return runInterCollective(call, this.ends, tag, (chs) => inter.barrierInter(chs)).finally(() => this.releaseAll());
  }

  /** Releases the intercommunicator (MPI_Comm_free), locally; any further call throws. */
  free(): void {
    this.checkUsable('free');
    this.endedAs = 'this intercommunicator was freed';
    this.releaseAll();
  }

  /**
   * MPI_Comm_compare: IDENT for this very intercommunicator; CONGRUENT when
   * both its groups are the same, in the same order (a dup); SIMILAR when
   * each has the same members; UNEQUAL otherwise, and for an intracommunicator.
   */
  compare(other: Intercomm | Comm): number {
    if (!(other instanceof Intercomm)) {
      if (typeof other === 'object' && other !== null && (other as { isInter?: unknown }).isInter === false) return UNEQUAL;
      throw new MPIError('ERR_COMM', `compare: other must be an MPI.Comm or MPI.Intercomm, got ${show(other)}`);
    }
    const same = other.p2p === this.p2p;
    const local = compareComms(same, this.p2p.group, other.p2p.group);
    const remote = compareComms(same, this.p2p.peerGroup, other.p2p.peerGroup);
    // IDENT < CONGRUENT < SIMILAR < UNEQUAL: the two groups' answers combine as the weaker.
    return [IDENT, CONGRUENT, SIMILAR, UNEQUAL][Math.max(local, remote)]!;
  }

  /** Ends every rank of the job (MPI_Abort), as Comm's. */
  abort(code = 1): Promise<never> {
    return this.p2p.abort(code);
  }

  // ---- internals ----

  /** Throws, naming the user's call, once disconnected or freed. */
  private checkUsable(call: string): void {
    if (this.endedAs !== null) throw new MPIError('ERR_COMM', `${call}: ${this.endedAs}`);
  }

  private releaseAll(): void {
    const why = this.endedAs ?? 'this intercommunicator was freed';
    this.p2p.release(why);
    this.local.release(why);
  }

  /** As Comm's: checks (rejecting at once, naming the call), then the call under the next sequence number. */
  private collective<T>(blockingCall: string, check: () => void, algorithm: (chs: InterChannels) => Promise<T | Failure>): Promise<T> {
    const call = this.callName ?? blockingCall;
    this.callName = null;
    try {
      this.checkUsable(call);
      check();
    } catch (err) {
      if (err instanceof Error && !err.message.startsWith(`${call}: `)) err.message = `${call}: ${err.message}`;
      return Promise.reject(err);
    }
    return runInterCollective(call, this.ends, this.p2p.nextCollectiveTag(), algorithm);
  }

  /** A blocking collective run under the nonblocking call's name and code, its outcome as a Request (as Comm's). */
  private nonblocking<R>(run: () => Promise<R>, call: string): Request<R> {
    this.callName = call;
    let running: Promise<R>;
    try {
      running = run();
    } finally {
      this.callName = null;
    }
    return Request._of(running);
  }

  /**
   * merge and dup: every rank's [entry, free mask] on every rank of both
   * groups (coll/inter.ts allgatherBoth), then `build` from them; one
   * creation at a time in this process, as every creation.
   */
  private create<E, R>(call: string, entry: E, build: (entries: BothEntries<E>, pool: ContextPool) => R): Promise<R> {
    const tag = this.p2p.nextCollectiveTag();
    return createComm(this.p2p.world, async (pool) => {
      const offer: [E, Uint32Array] = [entry, pool.freeMask()];
      const entries = await runInterCollective(call, this.ends, tag, (chs) => inter.allgatherBoth(chs, offer));
      return build(entries, pool);
    });
  }
}

type MergeEntry = boolean | string;
type BothEntries<E> = { local: [E, Uint32Array][]; remote: [E, Uint32Array][] };

/** Why merge cannot go on, the same on every rank of both groups, or null. */
function mergeProblem(call: string, me: number, entries: BothEntries<MergeEntry>): string | null {
  for (const [side, list] of [['this group', entries.local], ['the remote group', entries.remote]] as const) {
    const bad = list.findIndex(([high]) => typeof high === 'string');
    if (bad >= 0) {
      const what = String(list[bad]![0]);
      return side === 'this group' && bad === me ? `${call}: ${what}` : `${call}: rank ${bad} of ${side} passed a bad argument: ${what}`;
    }
    if (!list.every(([high]) => high === list[0]![0])) {
      return `${call}: the ranks of ${side} passed different values of high (${list.map(([high], rank) => `rank ${rank}: ${String(high)}`).join(', ')}); ` +
        'MPI requires one value per group';
    }
  }
  return null;
}

/** The AND of free masks: the ids free on every rank that offered one. */
function andOf(masks: readonly Uint32Array[]): Uint32Array {
  const all = masks[0]!.slice();
  for (const mask of masks.slice(1)) for (let i = 0; i < all.length; i++) all[i]! &= mask[i]!;
  return all;
}

export interface Ids {
  /** The intercommunicator's: free on both groups. */
  contextId: number;
  /** Its local communicator's: free on the local group, not contextId. */
  localId: number;
}

export function pickIds(bothFree: Uint32Array, localFree: Uint32Array): Ids {
  const contextId = ContextPool.lowestFree(bothFree);
  const others = localFree.slice();
  others[contextId >>> 5]! &= ~(1 << (contextId & 31));
  return { contextId, localId: ContextPool.lowestFree(others) };
}

export function buildIntercomm(world: CommWorld, group: readonly number[], remoteGroup: readonly number[], ids: Ids, makeComm: MakeComm): Intercomm {
  return new Intercomm({
    p2p: makeComm({ world, group, remoteGroup, context: pointToPointContext(ids.contextId) }),
    local: makeComm({ world, group, context: pointToPointContext(ids.localId) }),
    makeComm,
  });
}

/** What one leader offers the other over peerComm. */
interface LeaderOffer {
  /** Its group's members, world ranks in rank order. */
  members: number[];
  /** Its group's free context ids (the AND of their masks). */
  free: Uint32Array;
}

/** What a leader tells its group: the remote group and the ids, or why there is no intercommunicator. */
type Outcome = { remote: number[]; ids: Ids } | { problem: string; errorClass: ErrorClassName };

/**
 * MPI_Intercomm_create over `parent`, the local group. `peer` matters at the
 * local leader: peerComm, or why the argument is not one (comm.ts checks
 * that it is a Comm); null at the other ranks.
 */
export function intercommCreate(parent: Comm, localLeader: number, peer: Comm | string | null, remoteLeader: number, tag: number,
  makeComm: MakeComm): Promise<Intercomm> {
  const call = 'createIntercomm';
  const maskTag = parent.nextCollectiveTag();
  const outcomeTag = parent.nextCollectiveTag();
  return createComm(parent.world, async (pool) => {
    const localFree = await runCollective(call, parent, maskTag, (ch) => collectives.allreduce(ch, pool.freeMask(), BAND));
    const mine: Outcome | null = parent.rank === localLeader ? await negotiate(parent, peer, remoteLeader, tag, localFree) : null;
    const outcome = await runCollective(call, parent, outcomeTag, (ch) => collectives.bcast(ch, mine, localLeader));
    if (outcome === null) throw new MPIError('ERR_INTERN', `${call}: the local leader sent no outcome`);
    if ('problem' in outcome) {
      const text = parent.rank === localLeader ? outcome.problem : `local leader ${localLeader} failed: ${outcome.problem}`;
      throw new MPIError(outcome.errorClass, `${call}: ${text}`);
    }
    pool.take(outcome.ids.contextId);
    pool.take(outcome.ids.localId);
    return buildIntercomm(parent.world, parent.group, outcome.remote, outcome.ids, makeComm);
  });
}

/**
 * The local leader's part: checks peerComm and remoteLeader, swaps offers
 * with the remote leader, and picks the ids. Never throws: whatever goes
 * wrong becomes the outcome its group fails with, so none of them waits.
 */
async function negotiate(parent: Comm, peer: Comm | string | null, remoteLeader: number, tag: number, localFree: Uint32Array): Promise<Outcome> {
  const call = 'createIntercomm';
  if (peer === null || typeof peer === 'string') return { problem: peer ?? 'no peerComm', errorClass: 'ERR_COMM' };
  if (!Number.isInteger(remoteLeader) || remoteLeader < 0 || remoteLeader >= peer.size) {
    return { problem: `remoteLeader ${show(remoteLeader)} is out of range for peerComm of size ${peer.size} (0..${peer.size - 1})`, errorClass: 'ERR_RANK' };
  }
  if (remoteLeader === peer.rank) {
    return { problem: `remoteLeader ${remoteLeader} is this process itself (the local leader); it must be the other group's leader`, errorClass: 'ERR_RANK' };
  }
  const remoteWorld = peer.worldRankOf(remoteLeader);
  if (parent.group.includes(remoteWorld)) {
    return { problem: `remoteLeader ${remoteLeader} of peerComm is a member of this communicator; ` +
      'the two groups of an intercommunicator must be disjoint (MPI 4.1 section 7.6.2)', errorClass: 'ERR_RANK' };
  }
  // The leaders' own channel: peerComm's collective context, under the tag's upper-half form (see the header).
  const ch = new LinkChannel(peer.rank, peer.size, engineLink(peer, createGroupTag(tag), call));
  const offer: LeaderOffer = { members: [...parent.group], free: localFree };
  let theirs: LeaderOffer | Failure;
  try {
    [, theirs] = await Promise.all([ch.send(remoteLeader, offer), ch.recv<LeaderOffer>(remoteLeader)]);
  } catch (err) {
    return { problem: `the exchange with the remote leader failed: ${err instanceof Error ? err.message : String(err)}`, errorClass: 'ERR_OTHER' };
  }
  if (theirs instanceof Failure) return { problem: `the remote leader failed: ${theirs.message}`, errorClass: theirs.errorClass ?? 'ERR_OTHER' };
  const shared = theirs.members.filter((w) => parent.group.includes(w));
  if (shared.length > 0) {
    return { problem: `the two groups share process(es) ${shared.join(', ')} of COMM_WORLD; ` +
      'the two groups of an intercommunicator must be disjoint (MPI 4.1 section 7.6.2)', errorClass: 'ERR_GROUP' };
  }
  try {
    return { remote: theirs.members, ids: pickIds(andOf([localFree, theirs.free]), localFree) };
  } catch (err) {
    return { problem: err instanceof Error ? err.message : String(err), errorClass: 'ERR_OTHER' };
  }
}
