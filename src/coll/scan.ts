/** Inclusive and exclusive prefix reductions (MPI 4.0 sections 6.11.1-6.11.2). */
import { Failure, type Channel } from './channel.js';
import type { Op } from './op.js';
import { Fold, exchange, ownOperand, reduceStep } from './step.js';

/** Marks "nothing yet" in an exclusive prefix: rank 0's exscan has no value. */
const NOTHING = Symbol('nothing');

export interface Prefix {
  /** Combination of the ranks below this one; NOTHING on rank 0. */
  exclusive: unknown;
  /** Combination up to and including this rank. */
  inclusive: unknown;
}

/**
 * Recursive-doubling scan with the non-power-of-two fold. Each survivor keeps
 * the total of its current block and the prefix of the blocks below it; in
 * round k it swaps totals with the partner at distance 2^k and, if that
 * partner is lower, adds its total in front of both. Blocks stay contiguous,
 * so non-commutative ops see rank order, and since every total ends as the
 * total of all ranks a failure anywhere reaches every rank.
 */
export async function scanRecursiveDoubling(ch: Channel, value: unknown, op: Op): Promise<Prefix | Failure> {
  const fold = new Fold(ch.rank, ch.size);
  const own = ownOperand(ch, op, value);
  if (fold.newRank < 0) {
    await ch.send(ch.rank + 1, own);
    const got = await ch.recv(ch.rank + 1);
    if (got instanceof Failure) return got;
    const [hasExclusive, exclusive, inclusive] = got as [boolean, unknown, unknown];
    return { exclusive: hasExclusive ? exclusive : NOTHING, inclusive };
  }
  const lowerOwn = fold.absorbsLower ? await ch.recv(ch.rank - 1) : NOTHING;
  const blockStart = lowerOwn === NOTHING ? copy(own) : reduceStep(ch, op, copy(lowerOwn), own, false);
  let total: unknown = copy(blockStart);
  let prefix: unknown = NOTHING;
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
  const failure = total instanceof Failure ? total : ch.failure;
  const then = (before: unknown, item: unknown): unknown => (before === NOTHING ? copy(item) : reduceStep(ch, op, copy(before), item, false));
  if (lowerOwn === NOTHING) return failure ?? { exclusive: prefix, inclusive: then(prefix, own) };
  // This rank holds the even rank below it too: work out both, hand that rank its part.
  const lowerInclusive = then(prefix, lowerOwn);
  await ch.send(ch.rank - 1, failure ?? [prefix !== NOTHING, prefix === NOTHING ? null : prefix, lowerInclusive]);
  return failure ?? { exclusive: lowerInclusive, inclusive: reduceStep(ch, op, copy(lowerInclusive), own, false) };
}

/** Steps reduce typed arrays in place: never into a value another variable still holds. */
function copy(value: unknown): unknown {
  return ArrayBuffer.isView(value) && !(value instanceof DataView) ? (value as Uint8Array).slice() : value;
}

export function isNothing(value: unknown): boolean {
  return value === NOTHING;
}
