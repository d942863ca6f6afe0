/**
 * Inclusive and exclusive prefix reductions (MPI 4.1 sections 6.11.1-6.11.2).
 *
 * # Unfinished features
 * - **6.11.1**, **6.11.2**: a scan of long arrays that allocates nothing
 *   (scanInto copies the value scan's result into the caller's buffer).
 * - **6.13.11**, **6.13.12**: MPI_Scan_init, MPI_Exscan_init.
 */
import { Failure, type Channel } from './channel.js';
import { isTypedArray, type Op } from './op.js';
import { Fold, exchange, ownOperand, reduceStep, sliceOf } from './step.js';

/** Marks "nothing yet" in an exclusive prefix: rank 0's exscan has no value. */
const NOTHING = Symbol('nothing');

type Nothing = typeof NOTHING;

export interface Prefix<T> {
  /** Combination of the ranks below this one; NOTHING on rank 0. */
  exclusive: T | Nothing;
  /** Combination up to and including this rank. */
  inclusive: T;
}

/**
 * Recursive-doubling scan with the non-power-of-two fold. Each survivor keeps
 * the total of its current block and the prefix of the blocks below it; in
 * round k it swaps totals with the partner at distance 2^k and, if that
 * partner is lower, adds its total in front of both. Blocks stay contiguous,
 * so non-commutative ops see rank order, and since every total ends as the
 * total of all ranks a failure anywhere reaches every rank.
 */
export async function scanRecursiveDoubling<T>(ch: Channel, value: T, op: Op): Promise<Prefix<T> | Failure> {
  const fold = new Fold(ch.rank, ch.size);
  const own = ownOperand(ch, op, value);
  if (fold.newRank < 0) {
    await ch.send(ch.rank + 1, own);
    // The rank above sends [has an exclusive prefix, that prefix or null, the inclusive one].
    const got = await ch.recv<[true, T, T] | [false, null, T]>(ch.rank + 1);
    if (got instanceof Failure) return got;
    return { exclusive: got[0] ? got[1] : NOTHING, inclusive: got[2] };
  }
  const lowerOwn = fold.absorbsLower ? await ch.recv<T>(ch.rank - 1) : NOTHING;
  const blockStart = lowerOwn === NOTHING ? copy(own) : reduceStep(ch, op, copy(lowerOwn), own, false);
  let total = copy(blockStart);
  let prefix: T | Failure | Nothing = NOTHING;
  for (let mask = 1; mask < fold.pof2; mask *= 2) {
    const partner = fold.newRank ^ mask;
    const incoming = await exchange(ch, fold.realRank(partner), total);
    if (partner < fold.newRank) {
      prefix = prefix === NOTHING ? copy(incoming) : reduceStep(ch, op, prefix, incoming, true);
      total = reduceStep(ch, op, total, incoming, true);
    } else {
      total = reduceStep(ch, op, total, incoming, false);
    }
  }
  if (lowerOwn === NOTHING) return prefixOrFailure(ch, prefix, after(ch, op, prefix, own));
  // This rank holds the even rank below it too: work out both, hand that rank its part.
  const lowerInclusive = after(ch, op, prefix, lowerOwn);
  const inclusive = after(ch, op, lowerInclusive, own);
  await ch.send(ch.rank - 1, ch.failure ?? [prefix !== NOTHING, prefix === NOTHING ? null : prefix, lowerInclusive]);
  return prefixOrFailure(ch, lowerInclusive, inclusive);
}

/** `before` combined with `item` (a copy of `item` when nothing comes before). */
function after<T>(ch: Channel, op: Op, before: T | Failure | Nothing, item: T | Failure): T | Failure {
  return before === NOTHING ? copy(item) : reduceStep(ch, op, copy(before), item, false);
}

/** The prefixes, or the failure: every Failure made or received is in ch.failure, and reached every rank's total. */
function prefixOrFailure<T>(ch: Channel, exclusive: T | Failure | Nothing, inclusive: T | Failure): Prefix<T> | Failure {
  if (exclusive instanceof Failure) return exclusive;
  if (inclusive instanceof Failure) return inclusive;
  return ch.failure ?? { exclusive, inclusive };
}

/** Steps reduce typed arrays in place: never into a value another variable still holds. */
function copy<T>(value: T): T {
  return isTypedArray(value) ? sliceOf(value) : value;
}

export function isNothing<T>(value: T | Nothing): value is Nothing {
  return value === NOTHING;
}
