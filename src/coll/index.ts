/**
 * Collective operations as algorithms over point-to-point messages in the
 * communicator's collective context (DESIGN.md "Collectives").
 */
import type { P2PEngine } from '../p2p/index.js';
import { Failure, LinkChannel, type Channel, type Link } from './channel.js';
import { collectiveCode } from './calls.js';

export { collectiveCode, collectiveName } from './calls.js';

export { Op, SUM, PROD, MAX, MIN, LAND, LOR, LXOR, BAND, BOR, BXOR, MAXLOC, MINLOC, isTypedArray } from './op.js';
export type { TypedArray } from './op.js';
export * as collectives from './collectives.js';
export { Failure, LinkChannel } from './channel.js';
export type { Channel, Link } from './channel.js';

/** What a collective needs of a communicator. */
export interface CollectiveEndpoint {
  readonly rank: number;
  readonly size: number;
  readonly collContext: number;
  worldRankOf(rank: number): number;
  readonly world: { readonly engine: P2PEngine };
}

/** Point-to-point under one tag in the collective context of `comm`, for the call named `call`. */
export function engineLink(comm: CollectiveEndpoint, tag: number, call: string): Link {
  const engine = comm.world.engine;
  const context = comm.collContext;
  const code = collectiveCode(call);
  // Native promises (Request.wait), not the Requests themselves: awaiting a thenable
  // costs an extra job and two more promises on every message of a collective.
  return {
    isend: (dest, wire) => engine.isend(context, comm.rank, comm.worldRankOf(dest), tag, wire, false, call, code).wait(),
    irecv: (source) => engine.irecv(context, source, comm.worldRankOf(source), tag, null, call, code).wait(),
    irecvInto: async (source, target) => {
      const request = engine.irecv(context, source, comm.worldRankOf(source), tag, target, call, code);
      await request.wait();
      return request.status.count;
    },
  };
}

/**
 * Runs one collective call under `tag` and throws, on this rank, the first
 * failure it sent, received or made (after the algorithm has run its whole
 * pattern, so no peer is left waiting).
 */
export function runCollective<T>(call: string, comm: CollectiveEndpoint, tag: number,
  algorithm: (ch: Channel) => Promise<T>): Promise<T> {
  return runCollectiveOn(call, new LinkChannel(comm.rank, comm.size, engineLink(comm, tag, call)), algorithm);
}

/** runCollective over a channel of one's own (unit tests pass one over an in-memory link). */
export function runCollectiveOn<T>(call: string, ch: Channel, algorithm: (ch: Channel) => Promise<T>): Promise<T> {
  let running: Promise<T>;
  try {
    running = algorithm(ch);
  } catch (err) {
    return Promise.reject(err);
  }
  return running.then((result) => {
    // The algorithms note every Failure they return; a result that is one is thrown all the same.
    const failure = ch.failure ?? (result instanceof Failure ? result : null);
    if (failure !== null) throw failure.toError(call, ch.rank);
    return result;
  });
}
