/**
 * Context ids: every communicator owns one, and its messages carry it, so two
 * communicators never match each other's traffic (MPI 4.1 section 7.2.2).
 *
 * "Context" names two things, kept apart by name in comm/:
 * - the **context id** `n` of a communicator (`contextId`), which this pool
 *   hands out and takes back: the number the members agree on;
 * - the **matching contexts** of the p2p engine derived from it, two per
 *   communicator as MPI's advice to implementors suggests:
 *   `pointToPointContext(n) = 2n` for sends and receives, and
 *   `collectiveContext(n) = 2n + 1` for collectives, where no user receive,
 *   not even ANY_TAG, can look. The engine knows only these.
 *
 * COMM_WORLD has id 0 and COMM_SELF id 1. A new communicator's id must be the
 * same on all its members, so its creators agree on it, as MPICH does: each
 * offers the mask of ids it has free, the masks are AND-ed across the parent
 * communicator, and the lowest id free everywhere is taken (comm/create.ts).
 * An intercommunicator takes one id free on both its groups and, for its
 * local communicator, one free on its own group (comm/intercomm.ts).
 *
 * # Unfinished features
 * - **7.4.2**: MPI_Comm_idup: creations here run one at a time (`serialize`),
 *   a nonblocking one would need ids reserved ahead.
 */
import { MPIError } from '../base/index.js';

/**
 * Tags in a collective context: a communicator's collective calls take
 * 0..COLLECTIVE_SEQUENCE_TAGS-1 in turn (their sequence numbers, wrapping);
 * createGroup, which only some members call and so cannot take a sequence
 * number, uses the upper half, offset by the user's tag, so that concurrent
 * createGroup calls with different tags keep apart (MPI 4.1 section 7.4.2).
 */
export const COLLECTIVE_SEQUENCE_TAGS = 2 ** 30;

/**
 * The collective-context tag of createGroup(group, tag), and of the leaders'
 * exchange in createIntercomm(..., peerComm, ..., tag), which runs in
 * peerComm's collective context: neither can take a sequence number, since
 * only some ranks call them. Their calls' codes differ (coll/calls.ts), so
 * two that met under one tag fail rather than mix.
 */
export function createGroupTag(tag: number): number {
  return COLLECTIVE_SEQUENCE_TAGS + (tag % COLLECTIVE_SEQUENCE_TAGS);
}

/** How many communicators a process can hold at once (MPICH allows 2048 too). */
export const MAX_CONTEXT_IDS = 2048;
export const WORLD_CONTEXT_ID = 0;
export const SELF_CONTEXT_ID = 1;

const WORD_BITS = 32;

/** The context ids of one process: which are free, and the one creation at a time that may take one. */
export class ContextPool {
  /** Bit set = id free. */
  private readonly free = new Uint32Array(MAX_CONTEXT_IDS / WORD_BITS).fill(0xffff_ffff);
  /** Creations run one at a time, so two never offer the same free id. */
  private creating: Promise<unknown> = Promise.resolve();

  constructor() {
    this.take(WORLD_CONTEXT_ID);
    this.take(SELF_CONTEXT_ID);
  }

  /** A copy of the free mask, to AND with the other members' masks. */
  freeMask(): Uint32Array {
    return this.free.slice();
  }

  /** The lowest id set in `mask` (a mask AND-ed across members). */
  static lowestFree(mask: Uint32Array): number {
    for (let word = 0; word < mask.length; word++) {
      const bits = mask[word]!;
      if (bits !== 0) return word * WORD_BITS + (31 - Math.clz32(bits & -bits));
    }
    throw new MPIError('ERR_OTHER', `no communicator context left: ${MAX_CONTEXT_IDS} communicators exist at once ` +
      'on some rank of the parent communicator; free() the ones you no longer use');
  }

  take(contextId: number): void {
    this.free[contextId >>> 5]! &= ~(1 << (contextId & 31));
  }

  release(contextId: number): void {
    this.free[contextId >>> 5]! |= 1 << (contextId & 31);
  }

  isFree(contextId: number): boolean {
    return (this.free[contextId >>> 5]! & (1 << (contextId & 31))) !== 0;
  }

  /**
   * Runs one communicator creation after those already started in this
   * process. MPI requires collective calls on overlapping communicators in the
   * same order everywhere, so this order cannot deadlock a correct program.
   * A creation that fails does not stop the next.
   */
  serialize<T>(create: () => Promise<T>): Promise<T> {
    const run = this.creating.then(create, create);
    this.creating = run.catch(() => undefined);
    return run;
  }
}

/** The engine's matching context for point-to-point traffic of communicator `contextId`. */
export function pointToPointContext(contextId: number): number {
  return 2 * contextId;
}

/** The engine's matching context for collective traffic of communicator `contextId`. */
export function collectiveContext(contextId: number): number {
  return 2 * contextId + 1;
}

/** The context id whose point-to-point matching context is `pointToPoint`. */
export function contextIdOf(pointToPoint: number): number {
  return pointToPoint / 2;
}
