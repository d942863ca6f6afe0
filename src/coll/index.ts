/**
 * Collective operations as algorithms over point-to-point messages in the
 * communicator's collective context (DESIGN.md "Collectives").
 *
 * # Unfinished features
 * Each algorithm's module lists those of its area; across the folder:
 * - **6.2.2**: the intercommunicator collectives inter.ts lists as missing.
 * - Derived datatypes (chapter 5) in any collective: the buffer forms
 *   (buffers.ts) move runs of elements of typed arrays.
 * - **6.9.7**: MPI_Reduce_local.
 * - **6.13**: persistent collectives (MPI_Bcast_init, ...).
 * - **8.6**-**8.8**: neighborhood collectives on Cartesian communicators
 *   (MPI_Neighbor_allgather, MPI_Neighbor_alltoall, ...), blocking,
 *   nonblocking and persistent.
 */
import type { RawBuffer } from '../codec/index.js';
import type { P2PEngine } from '../p2p/index.js';
import { Failure, fromWire, LinkChannel, toWire, type Channel, type Link } from './channel.js';
import { collectiveCode } from './calls.js';
import type { InterChannels } from './inter.js';

export { callName, callSignature, collectiveCode, collectiveName, describeCall, sameCall } from './calls.js';

export { Op, SUM, PROD, MAX, MIN, LAND, LOR, LXOR, BAND, BOR, BXOR, MAXLOC, MINLOC, isTypedArray } from './op.js';
export type { TypedArray } from './op.js';
export * as collectives from './collectives.js';
export * as buffers from './buffers.js';
export * as inter from './inter.js';
export * as host from './host.js';
export type { InterChannels } from './inter.js';
export { IN_PLACE } from './buffer.js';
export type { Buf, BufferPart, InPlace } from './buffer.js';
export { Failure, LinkChannel, mismatchFailure } from './channel.js';
export type { Channel, Link, CallPlace } from './channel.js';

/** What a collective needs of a communicator. */
export interface CollectiveEndpoint {
  readonly rank: number;
  readonly size: number;
  readonly collContext: number;
  worldRankOf(rank: number): number;
  readonly world: { readonly engine: Pick<P2PEngine, 'isend' | 'irecv'> & Partial<Pick<P2PEngine, 'pollNow'>> };
  /** Where a call stands, for errors ("as collective #7 on COMM_WORLD"); without it, "as call number 7". */
  collectivePlace?(tag: number): string;
  /** Each rank's host as a small integer, alike on every rank (Channel.hosts), or null where unknown. */
  hostIndex?(): readonly number[] | null;
}

/**
 * Point-to-point under one tag in the collective context of `comm`, for the
 * call named `call`; its messages carry `code` (calls.ts: the call and its
 * arguments that must agree).
 */
export function engineLink(comm: CollectiveEndpoint, tag: number, call: string, code = collectiveCode(call)): Link {
  const engine = comm.world.engine;
  const context = comm.collContext;
  // Native promises (Request.wait), not the Requests themselves: awaiting a thenable
  // costs an extra job and two more promises on every message of a collective.
  return {
    isend: (dest, wire) => engine.isend(context, comm.rank, comm.worldRankOf(dest), tag, wire, false, call, code).wait(),
    irecv: (source) => engine.irecv(context, source, comm.worldRankOf(source), tag, null, call, code).wait(),
    irecvInto: (source, target) => landedOrInstead(engine.irecv(context, source, comm.worldRankOf(source), tag, target, call, code), target),
    progress: () => engine.pollNow?.(),
  };
}

/** The engine gives back the target when raw bytes landed there, or the value that came instead (Link.irecvInto). */
function landedOrInstead(request: ReturnType<P2PEngine['irecv']>, target: RawBuffer): Promise<number | { instead: unknown }> {
  return request.wait().then((got) => (got === target ? request.status.count : { instead: got }));
}

/**
 * runCollective among some members of `comm` only, as MPI_Comm_create_group
 * runs over the group alone (MPI 4.1 section 7.4.2). `members` are their ranks
 * in comm, indexed by rank among them; frames still carry ranks in comm, which
 * is what the engine checks a collective context's senders against.
 */
export function runCollectiveAmong<T>(call: string, comm: CollectiveEndpoint, members: readonly number[], tag: number,
  algorithm: (ch: Channel) => Promise<T | Failure>): Promise<T> {
  const engine = comm.world.engine;
  const context = comm.collContext;
  const code = collectiveCode(call);
  const link: Link = {
    isend: (dest, wire) => engine.isend(context, comm.rank, comm.worldRankOf(members[dest]!), tag, wire, false, call, code).wait(),
    irecv: (source) => engine.irecv(context, members[source]!, comm.worldRankOf(members[source]!), tag, null, call, code).wait(),
    irecvInto: (source, target) =>
      landedOrInstead(engine.irecv(context, members[source]!, comm.worldRankOf(members[source]!), tag, target, call, code), target),
  };
  return runCollectiveOn(call, new LinkChannel(members.indexOf(comm.rank), members.length, link, comm, tag), algorithm);
}

/**
 * Runs one collective call under `tag` and throws, on this rank, the first
 * failure it sent, received or made (after the algorithm has run its whole
 * pattern, so no peer is left waiting). `code`: what its messages carry of
 * the call (calls.ts callSignature); the call's bare code by default.
 */
export function runCollective<T>(call: string, comm: CollectiveEndpoint, tag: number,
  algorithm: (ch: Channel) => Promise<T | Failure>, code = collectiveCode(call)): Promise<T> {
  return runCollectiveOn(call, new LinkChannel(comm.rank, comm.size, engineLink(comm, tag, call, code), comm, tag, comm.hostIndex?.() ?? null), algorithm);
}

/** runCollective over a channel of one's own (unit tests pass one over an in-memory link). */
export function runCollectiveOn<T>(call: string, ch: Channel, algorithm: (ch: Channel) => Promise<T | Failure>): Promise<T> {
  let running: Promise<T | Failure>;
  try {
    running = algorithm(ch);
  } catch (err) {
    return Promise.reject(err);
  }
  return running.then((result) => {
    // The algorithms note every Failure they return; a result that is one is thrown all the same.
    if (result instanceof Failure) throw (ch.failure ?? result).toError(call, ch.rank);
    if (ch.failure !== null) throw ch.failure.toError(call, ch.rank);
    return result;
  });
}

/** The two ends of a call on an intercommunicator (coll/inter.ts). */
export interface InterEnds {
  /** The intercommunicator's own group, as an intracommunicator of its own. */
  readonly local: CollectiveEndpoint;
  /** Its ranks' sends name the remote group's ranks (worldRankOf maps them), in the intercommunicator's context. */
  readonly remote: CollectiveEndpoint;
  readonly remoteSize: number;
}

/**
 * runCollective on an intercommunicator (MPI 4.1 section 6.2.2): the
 * algorithm gets a channel to its own group and one to the other, both under
 * `tag`, and this rank throws the first failure either saw.
 */
export function runInterCollective<T>(call: string, ends: InterEnds, tag: number,
  algorithm: (chs: InterChannels) => Promise<T | Failure>): Promise<T> {
  const local = new LinkChannel(ends.local.rank, ends.local.size, engineLink(ends.local, tag, call));
  const remote = new LinkChannel(ends.remote.rank, ends.remoteSize, fromRemoteGroup(engineLink(ends.remote, tag, call), ends.remote.rank, call));
  let running: Promise<T | Failure>;
  try {
    running = algorithm({ local, remote });
  } catch (err) {
    return Promise.reject(err);
  }
  return running.then((result) => {
    if (result instanceof Failure) throw (local.failure ?? remote.failure ?? result).toError(call, local.rank);
    const failure = local.failure ?? remote.failure;
    if (failure !== null) throw failure.toError(call, local.rank);
    return result;
  });
}

/**
 * A failure from the other group names its rank there, and becomes this
 * rank's own to pass on: its rank number alone would read as one of this group.
 */
function fromRemoteGroup(link: Link, me: number, call: string): Link {
  const relabel = (wire: unknown): unknown => {
    const value = fromWire(wire);
    if (!(value instanceof Failure)) return wire;
    const own = value.message.startsWith(`${call}: `) ? value.message.slice(call.length + 2) : value.message;
    return toWire(new Failure(value.kind, `rank ${value.origin} of the remote group failed: ${own}`, value.errorClass, me));
  };
  return {
    isend: link.isend,
    irecv: (source) => Promise.resolve(link.irecv(source)).then(relabel),
    irecvInto: link.irecvInto,
  };
}
