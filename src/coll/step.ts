/**
 * Pieces shared by the algorithms: reduction steps that carry failures, the
 * agreement on shapes, and the power-of-two fold.
 *
 * # Unfinished features
 * None of its own: it serves the algorithms, whose modules list theirs.
 */
import { isTypedArray, Op, type TypedArray } from './op.js';
import { Failure, type Channel } from './channel.js';
import { MPIError } from '../base/index.js';

/**
 * This rank's operand, checked against the op and, for a typed array under a
 * predefined op, copied once so later steps can reduce into it in place.
 */
export function ownOperand<T>(ch: Channel, op: Op, value: T | Failure): T | Failure {
  if (value instanceof Failure) return value;
  const problem = op.problem(value);
  if (problem !== null) return noteFailure(ch, new TypeError(problem));
  return op.isPredefined && isTypedArray(value) ? sliceOf(value) : value;
}

/**
 * ownOperand for a predefined op on a typed array that is reduced into `into`
 * (allreduceInto's recvbuf): the copy goes there, not into a new array, and
 * each round sends that same array, whose codec facts are then known
 * (codec/views.ts). A new array each call missed that cache and added a
 * WeakMap entry: about a third of an 8 B allreduceInto's time, with the GC
 * that followed, in a CPU profile.
 */
export function ownOperandInto<A extends TypedArray>(ch: Channel, op: Op, value: A | Failure, into: A): A | Failure {
  if (value instanceof Failure) return value;
  const problem = op.problem(value);
  if (problem !== null) return noteFailure(ch, new TypeError(problem));
  if (into !== value) into.set(value as never);
  return into;
}

/*
 * A typed array's constructor and slice() give arrays of its own type, but
 * TypeScript's lib says so class by class: on a type parameter it knows only
 * the union. These two say it once.
 */

/** A zeroed typed array of `sample`'s type. */
export function newLike<A extends TypedArray>(sample: A, length: number): A {
  return new (sample.constructor as new (n: number) => A)(length);
}

/** `array.slice(start, end)`, of `array`'s type. */
export function sliceOf<A extends TypedArray>(array: A, start?: number, end?: number): A {
  return array.slice(start, end) as A;
}

/** A local check that fails this rank's contribution instead of throwing, so peers learn of it too. */
export function guard<T>(ch: Channel, check: () => T): T | Failure {
  try {
    return check();
  } catch (err) {
    return noteFailure(ch, err);
  }
}

export function noteFailure(ch: Channel, err: unknown): Failure {
  // A level of a two-level call (hierarchy.ts) numbers its ranks afresh: failures name the call's own rank.
  const failure = err instanceof Failure ? err : Failure.of(err, ch.origin ?? ch.rank);
  ch.failure ??= failure;
  return failure;
}

/** A typed array's shape, sent instead of its data when ranks first agree on shapes. */
export interface Shape {
  shapeOf: string;
  length: number;
  extra: string;
}

export function shapeOf(value: TypedArray, extra = ''): Shape {
  return { shapeOf: value.constructor.name, length: value.length, extra };
}

function isShape(value: unknown): value is Shape {
  return typeof value === 'object' && value !== null && typeof (value as Shape).shapeOf === 'string';
}

function lengthOf(value: unknown): string {
  if (isShape(value)) return `${value.length} elements of ${value.shapeOf}`;
  if (isTypedArray(value)) return `${value.length} elements of ${value.constructor.name}`;
  return 'no typed array';
}

/** Ranks agree on shapes (type, length, counts); a difference fails on every rank. */
export const AGREE_SHAPES = Op.create<unknown>((a, b) => {
  if (isShape(a) && isShape(b) && a.shapeOf === b.shapeOf && a.length === b.length && a.extra === b.extra) return a;
  if (isShape(a) && isShape(b) && a.extra !== b.extra) {
    throw new MPIError('ERR_COUNT', `ranks disagree on the counts: [${a.extra}] and [${b.extra}]`);
  }
  throw new MPIError('ERR_COUNT', `typed arrays differ between ranks (${lengthOf(a)} and ${lengthOf(b)}); every rank must pass the same type and length`);
});

/**
 * `acc` combined with `incoming` (from the lower ranks when `incomingIsLower`).
 * A failure on either side wins; an op that throws becomes a failure. Under a
 * predefined op a typed-array `acc` (this rank's own copy) is reduced in place.
 */
export function reduceStep<T>(ch: Channel, op: Op, acc: T | Failure, incoming: T | Failure, incomingIsLower: boolean): T | Failure {
  if (acc instanceof Failure) return acc;
  if (incoming instanceof Failure) return noteFailure(ch, incoming);
  try {
    if (isShape(incoming) && op !== AGREE_SHAPES) {
      // A rank whose array took the long-message path sent its shape: the lengths differ.
      throw AGREE_SHAPES.combine(acc, incoming);
    }
    if (op.isPredefined && isTypedArray(acc)) {
      op.accumulate(acc, incoming);
      return acc;
    }
    // An op maps two operands to one of their type (MPI: of the same datatype).
    return (incomingIsLower ? op.combine(incoming, acc) : op.combine(acc, incoming)) as T;
  } catch (err) {
    return noteFailure(ch, err);
  }
}

/**
 * The non-power-of-two fix-up (as MPICH's recursive doubling): of the first
 * 2*rem ranks each even one hands its data to the odd one above it and sits
 * out, leaving a power of two of survivors, each holding a contiguous block of
 * ranks, so rank order is kept.
 */
export class Fold {
  readonly pof2: number;
  readonly rem: number;
  /** This rank's number among the survivors, or -1 if it sits out. */
  readonly newRank: number;

  constructor(readonly rank: number, readonly size: number) {
    let pof2 = 1;
    while (pof2 * 2 <= size) pof2 *= 2;
    this.pof2 = pof2;
    this.rem = size - pof2;
    if (rank < 2 * this.rem) this.newRank = rank % 2 === 0 ? -1 : rank >> 1;
    else this.newRank = rank - this.rem;
  }

  /** Did this rank take over the block of the even rank below it? */
  get absorbsLower(): boolean {
    return this.rank < 2 * this.rem && this.rank % 2 === 1;
  }

  realRank(newRank: number): number {
    return newRank < this.rem ? newRank * 2 + 1 : newRank + this.rem;
  }
}

/** Sends and receives at once with one peer. */
export async function exchange<T>(ch: Channel, peer: number, value: T | Failure): Promise<T | Failure> {
  const [, incoming] = await Promise.all([ch.send(peer, value), ch.recv<T>(peer)]);
  return incoming;
}
