/**
 * Reduction operations (MPI 4.1 sections 6.9.2-6.9.5). The predefined ops
 * work on numbers, bigints and element by element on typed arrays (and the
 * logical ones on booleans); MAXLOC and MINLOC on `[value, index]` pairs.
 * User ops (`Op.create`) combine any two values.
 *
 * Order: `combine(lower, higher)` takes the partial result of the lower ranks
 * first, so a non-commutative op is applied in rank order when the
 * algorithm keeps blocks of ranks contiguous.
 *
 * # Unfinished features
 * - **6.9.4**: MAXLOC and MINLOC on typed arrays of (value, index) pairs, as
 *   MPI's pair datatypes (MPI_2INT, MPI_DOUBLE_INT, ...) hold them: only
 *   `[value, index]` arrays.
 * - **6.9.7**: MPI_Reduce_local: `combine` and `accumulate` are internal.
 */
import { kernelFor } from './kernels.js';
import { typedArrayTypeOf } from '../codec/index.js';
import { MPIError } from '../base/index.js';

export type TypedArray =
  | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array
  | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

export function isTypedArray(value: unknown): value is TypedArray {
  return ArrayBuffer.isView(value) && !(value instanceof DataView);
}

type Predefined = 'SUM' | 'PROD' | 'MAX' | 'MIN' | 'LAND' | 'LOR' | 'LXOR' | 'BAND' | 'BOR' | 'BXOR' | 'MAXLOC' | 'MINLOC';
const LOGICAL = new Set<string>(['LAND', 'LOR', 'LXOR']);
const BITWISE = new Set<string>(['BAND', 'BOR', 'BXOR']);
const LOCATION = new Set<string>(['MAXLOC', 'MINLOC']);

/** What kind of operand a value is, for error messages and agreement between ranks. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (isTypedArray(value)) return `${article(value.constructor.name)} of ${value.length} elements`;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return article(value.constructor.name);
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'no prototype'})`;
  return article(typeof value);
}

/** "an Int32Array", "an undefined", but "a Uint8Array" (said "you-int"). */
function article(word: string): string {
  return /^([aeio]|un)/i.test(word) ? `an ${word}` : `a ${word}`;
}

type UserFn = (a: never, b: never) => unknown;

export class Op {
  private constructor(
    /** The op's name: `SUM` etc., or `user op` for Op.create. */
    readonly name: string,
    /** May operands be swapped? Predefined ops all commute. */
    readonly commute: boolean,
    private readonly userFn: UserFn | null,
  ) {}

  /**
   * A user reduction (MPI_Op_create): `fn(a, b)` combines the result of
   * lower ranks `a` with that of higher ranks `b`. With `commute = false` it
   * is applied in rank order.
   */
  static create<T>(fn: (a: T, b: T) => T, commute = true): Op {
    if (typeof fn !== 'function') throw new TypeError(`Op.create: fn must be a function, got ${describe(fn)}`);
    return new Op('user op', commute !== false, fn as UserFn);
  }

  /** @internal */
  static predefined(name: Predefined): Op {
    return new Op(name, true, null);
  }

  /** @internal True for SUM, PROD, ...: ops the library knows, cheap and element-wise. */
  get isPredefined(): boolean {
    return this.userFn === null;
  }

  /** @internal Why `value` is no operand of this op, or null if it is one (predefined ops only). */
  problem(value: unknown): string | null {
    if (this.userFn !== null) return null;
    const name = this.name;
    if (LOCATION.has(name)) {
      return isPair(value) ? null : `${name} needs a [value, index] pair (value a number or bigint, index an integer), got ${describe(value)}`;
    }
    if (typeof value === 'number') {
      if (BITWISE.has(name) && !Number.isInteger(value)) return `${name} needs integers, got ${value}`;
      return null;
    }
    if (typeof value === 'bigint') return null;
    if (typeof value === 'boolean') return LOGICAL.has(name) ? null : `${name} cannot reduce a boolean (only LAND, LOR and LXOR can)`;
    if (isTypedArray(value)) {
      if (BITWISE.has(name) && (value instanceof Float32Array || value instanceof Float64Array)) {
        return `${name} needs an integer type, got a ${value.constructor.name}`;
      }
      return null;
    }
    return `${name} cannot reduce ${describe(value)} (it takes numbers, bigints and typed arrays)`;
  }

  /** @internal `lower op higher`, a new value (neither operand is changed). */
  combine(lower: unknown, higher: unknown): unknown {
    if (this.userFn !== null) return (this.userFn as (a: unknown, b: unknown) => unknown)(lower, higher);
    if (isTypedArray(lower)) {
      const result = lower.slice();
      this.accumulate(result, higher);
      return result;
    }
    this.checkSameKind(lower, higher);
    return combineScalars(this.name as Predefined, lower, higher);
  }

  /**
   * @internal `target = target op source` element by element, in place: a
   * large reduction allocates nothing per element. Predefined ops only.
   */
  accumulate(target: TypedArray, source: unknown): void {
    this.checkSameKind(target, source);
    accumulateInto(this.name as Predefined, target, source as TypedArray);
  }

  private checkSameKind(a: unknown, b: unknown): void {
    for (const operand of [a, b]) {
      const problem = this.problem(operand);
      if (problem !== null) throw new TypeError(problem);
    }
    if (isTypedArray(a) || isTypedArray(b)) {
      if (!isTypedArray(a) || !isTypedArray(b) || a.constructor !== b.constructor) {
        throw new TypeError(`${this.name}: every rank must pass the same kind of value, got ${describe(a)} and ${describe(b)}`);
      }
      if (a.length !== b.length) {
        throw new MPIError('ERR_COUNT', `${this.name}: typed arrays differ in length between ranks (${a.length} and ${b.length} elements of ${a.constructor.name}); every rank must pass the same length`);
      }
      return;
    }
    const kindA = LOCATION.has(this.name) ? typeof (a as [unknown])[0] : typeof a;
    const kindB = LOCATION.has(this.name) ? typeof (b as [unknown])[0] : typeof b;
    if (kindA !== kindB) throw new TypeError(`${this.name}: every rank must pass the same kind of value, got ${article(kindA)} and ${article(kindB)}`);
  }

  toString(): string {
    return this.name;
  }
}

function isPair(value: unknown): value is [number | bigint, number] {
  return Array.isArray(value) && value.length === 2 && (typeof value[0] === 'number' || typeof value[0] === 'bigint')
    && Number.isInteger(value[1]);
}

function truth(value: unknown): boolean {
  return value !== 0 && value !== 0n && value !== false;
}

/** Logical results keep the operands' kind: boolean, 1/0 or 1n/0n (as C's int results). */
function logical(sample: unknown, result: boolean): unknown {
  if (typeof sample === 'boolean') return result;
  if (typeof sample === 'bigint') return result ? 1n : 0n;
  return result ? 1 : 0;
}

/** Bitwise on numbers through BigInt, so integers beyond 32 bits are exact (two's complement). */
function bitwise(name: Predefined, a: number | bigint, b: number | bigint): number | bigint {
  const x = BigInt(a);
  const y = BigInt(b);
  const r = name === 'BAND' ? x & y : name === 'BOR' ? x | y : x ^ y;
  return typeof a === 'bigint' ? r : Number(r);
}

function combineScalars(name: Predefined, a: unknown, b: unknown): unknown {
  switch (name) {
    case 'SUM': return (a as number) + (b as number);
    case 'PROD': return (a as number) * (b as number);
    // A NaN on either side wins, as in the typed-array loops, so the result does not depend on the order.
    case 'MAX': return Number.isNaN(b) || (a as number) < (b as number) ? b : a;
    case 'MIN': return Number.isNaN(b) || (a as number) > (b as number) ? b : a;
    case 'LAND': return logical(a, truth(a) && truth(b));
    case 'LOR': return logical(a, truth(a) || truth(b));
    case 'LXOR': return logical(a, truth(a) !== truth(b));
    case 'BAND': case 'BOR': case 'BXOR': return bitwise(name, a as number, b as number);
    case 'MAXLOC': case 'MINLOC': return location(name, a as [number, number], b as [number, number]);
  }
}

/** MPI's MAXLOC/MINLOC: the extreme value, and on a tie the lowest index. */
function location(name: 'MAXLOC' | 'MINLOC', a: [number | bigint, number], b: [number | bigint, number]): [number | bigint, number] {
  if (a[0] === b[0]) return [a[0], Math.min(a[1], b[1])];
  const aWins = name === 'MAXLOC' ? a[0] > b[0] : a[0] < b[0];
  return aWins ? [a[0], a[1]] : [b[0], b[1]];
}

/** The element type: the array's own, or the built-in type it extends. */
function elementType(t: TypedArray): { name: string } {
  return typedArrayTypeOf(t) ?? (t.constructor as { name: string });
}

/** Element by element, with a loop compiled for this op and element type (kernels.ts). */
function accumulateInto(name: Predefined, t: TypedArray, s: TypedArray): void {
  if (name === 'MAXLOC' || name === 'MINLOC') throw new TypeError(`${name} needs [value, index] pairs, not a typed array`);
  kernelFor(name, elementType(t))(t, s);
}

export const SUM = Op.predefined('SUM');
export const PROD = Op.predefined('PROD');
export const MAX = Op.predefined('MAX');
export const MIN = Op.predefined('MIN');
export const LAND = Op.predefined('LAND');
export const LOR = Op.predefined('LOR');
export const LXOR = Op.predefined('LXOR');
export const BAND = Op.predefined('BAND');
export const BOR = Op.predefined('BOR');
export const BXOR = Op.predefined('BXOR');
export const MAXLOC = Op.predefined('MAXLOC');
export const MINLOC = Op.predefined('MINLOC');
