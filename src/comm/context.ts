/**
 * Context ids: every communicator owns one, and its messages carry it, so two
 * communicators never match each other's traffic (MPI 4.0 section 7.1.2).
 *
 * Id `n` gives the point-to-point context `2n` and the collective context
 * `2n + 1`. COMM_WORLD has id 0 and COMM_SELF id 1. A new communicator's id
 * must be the same on all its members, so its creators agree on it, as MPICH
 * does: each offers the mask of ids it has free, the masks are AND-ed across
 * the parent communicator, and the lowest id free everywhere is taken.
 */
import { MPIError } from '../base/index.js';

/** How many communicators a process can hold at once (MPICH allows 2048 too). */
export const MAX_CONTEXT_IDS = 2048;
export const WORLD_CONTEXT_ID = 0;
export const SELF_CONTEXT_ID = 1;

const WORD_BITS = 32;

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

  take(id: number): void {
    this.free[id >>> 5]! &= ~(1 << (id & 31));
  }

  release(id: number): void {
    this.free[id >>> 5]! |= 1 << (id & 31);
  }

  isFree(id: number): boolean {
    return (this.free[id >>> 5]! & (1 << (id & 31))) !== 0;
  }

  /**
   * Runs one communicator creation after those already started in this
   * process. MPI requires collective calls on overlapping communicators in the
   * same order everywhere, so this order cannot deadlock a correct program.
   */
  serialize<T>(create: () => Promise<T>): Promise<T> {
    const run = this.creating.then(create, create);
    this.creating = run.catch(() => undefined);
    return run;
  }
}

export function pointToPointContext(id: number): number {
  return 2 * id;
}

export function contextIdOf(pointToPointContext: number): number {
  return pointToPointContext / 2;
}
