/**
 * The buffer arguments of the collectives that fill the caller's memory
 * (mpi4py's upper-case `Bcast(buf)`, `Gather(sendbuf, recvbuf)`...):
 * MPI_IN_PLACE, the `{ buf, offset, count }` form for part of an array, and
 * the layout of the parts of a v-variant (counts and displacements, MPI 4.1
 * sections 6.5-6.8).
 *
 * Every check here throws; the entry points (buffers.ts) turn what they
 * throw into a Failure that travels with the data, so the peers of a rank
 * with a bad buffer learn of it instead of waiting.
 *
 * # Unfinished features
 * - **chapter 5**: derived datatypes: a part is a run of elements of one
 *   typed array, not a datatype's map; alltoallw takes one typed array per
 *   peer instead.
 */
import { MPIError } from '../base/index.js';
import { describe, isTypedArray, type TypedArray } from './op.js';

/**
 * MPI_IN_PLACE: passed as the send buffer, the operand is taken from the
 * receive buffer (or, at the root of scatter, the root's part stays where it is).
 */
export const IN_PLACE: unique symbol = Symbol.for('mpi4ts.IN_PLACE');
export type InPlace = typeof IN_PLACE;

/** Part of a typed array: `count` elements (default: to the end) from `offset` (default 0). */
export interface BufferPart<A extends TypedArray = TypedArray> {
  buf: A;
  offset?: number;
  count?: number;
}

/** A buffer argument: a whole typed array, or a part of one. */
export type Buf<A extends TypedArray = TypedArray> = A | BufferPart<A>;

function isPart(value: unknown): value is BufferPart {
  return typeof value === 'object' && value !== null && !ArrayBuffer.isView(value) && 'buf' in value;
}

/**
 * The typed array a buffer argument names: the array itself, or a view of
 * the part (a subarray shares the memory: what lands in it lands in `buf`).
 */
export function viewOf<A extends TypedArray>(arg: Buf<A> | unknown, what: string): A {
  if (isTypedArray(arg)) return arg as A;
  if (!isPart(arg)) {
    const hint = arg === IN_PLACE ? ' (IN_PLACE is not allowed here)' : '';
    throw new TypeError(`${what} must be a typed array or { buf, offset, count }, got ${arg === IN_PLACE ? 'IN_PLACE' : describe(arg)}${hint}`);
  }
  const { buf } = arg;
  if (!isTypedArray(buf)) throw new TypeError(`${what}.buf must be a typed array, got ${describe(buf)}`);
  const offset = arg.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0 || offset > buf.length) {
    throw new RangeError(`${what}.offset is ${String(offset)}; it must be an integer from 0 to ${buf.length} (the length of ${what}.buf)`);
  }
  const count = arg.count ?? buf.length - offset;
  if (!Number.isInteger(count) || count < 0 || offset + count > buf.length) {
    throw new RangeError(`${what}.count is ${String(count)}; from offset ${offset} it must be an integer from 0 to ${buf.length - offset}`);
  }
  return buf.subarray(offset, offset + count) as A;
}

/** The send buffer, or null for IN_PLACE (where the call allows it). */
export function sendViewOf<A extends TypedArray>(arg: Buf<A> | InPlace | unknown, what: string): A | null {
  return arg === IN_PLACE ? null : viewOf<A>(arg, what);
}

/** Do two views share any byte? */
export function overlap(a: TypedArray, b: TypedArray): boolean {
  return a.buffer === b.buffer && a.byteLength > 0 && b.byteLength > 0
    && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

/** Send and receive buffers must not share memory (MPI: use IN_PLACE instead). */
export function checkApart(send: TypedArray, recv: TypedArray): void {
  if (overlap(send, recv)) {
    throw new MPIError('ERR_BUFFER', 'sendbuf and recvbuf overlap; pass MPI.IN_PLACE as sendbuf to work in place');
  }
}

/** Both of one element type: parts travel as raw bytes, so a Float32 part into a Float64 array would be garbage. */
export function checkSameType(send: TypedArray, recv: TypedArray): void {
  if (send.constructor !== recv.constructor) {
    throw new MPIError('ERR_TYPE', `sendbuf is ${describe(send)} but recvbuf is ${describe(recv)}; both must have one element type`);
  }
}

/** `length` cut into `size` equal blocks, or why it cannot be. */
export function blockOf(length: number, size: number, what: string): number {
  if (length % size !== 0) {
    throw new MPIError('ERR_COUNT', `${what} has ${length} elements, which is not a multiple of the ${size} ranks (one equal block per rank)`);
  }
  return length / size;
}

/** Integers >= 0, one per rank (counts or displacements). */
export function checkPerRank(values: unknown, size: number, what: string): readonly number[] {
  if (!Array.isArray(values) || values.length !== size) {
    throw new MPIError('ERR_COUNT', `${what} must be an array of ${size} integers (one per rank), got ${describe(values)}`);
  }
  for (let i = 0; i < size; i++) {
    const v: unknown = values[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new MPIError('ERR_COUNT', `${what}[${i}] is ${String(v)}; it must be an integer >= 0`);
    }
  }
  return values as number[];
}

/** Displacements of parts that lie back to back in rank order (what MPI programs compute by hand). */
export function packedDispls(counts: readonly number[]): number[] {
  const displs: number[] = [];
  let at = 0;
  for (const count of counts) {
    displs.push(at);
    at += count;
  }
  return displs;
}

/**
 * The view of each rank's part in `buf`: `counts[r]` elements from
 * `displs[r]` (back to back when `displs` is null). Parts must lie inside
 * `buf`; receive parts must not overlap one another (MPI: a location is
 * written once), send parts may.
 */
export function partsOf<A extends TypedArray>(buf: A, counts: unknown, displs: unknown, size: number,
  what: string, receiving: boolean): A[] {
  const c = checkPerRank(counts, size, `${what} counts`);
  const d = displs === null || displs === undefined ? packedDispls(c) : checkPerRank(displs, size, `${what} displs`);
  const known = lastCut(buf, c, d, receiving);
  if (known !== null) return known as A[];
  const parts: A[] = [];
  for (let r = 0; r < size; r++) {
    const end = d[r]! + c[r]!;
    if (end > buf.length) {
      throw new MPIError('ERR_BUFFER', `${what}'s part for rank ${r} (${c[r]} elements from ${d[r]}) ends at ${end}, ` +
        `past the end of ${what} (${buf.length} elements)`);
    }
    parts.push(buf.subarray(d[r], end) as A);
  }
  if (receiving) checkDisjoint(parts, d, what);
  const cut: Cut = { counts: c.slice(), displs: d.slice(), parts };
  const both = cuts.get(buf);
  if (both === undefined) cuts.set(buf, receiving ? [null, cut] : [cut, null]);
  else both[receiving ? 1 : 0] = cut;
  return parts;
}

/**
 * The parts a buffer was last cut into, as sent from and as received into.
 * Programs call alltoallv and the v-variants with one layout over and over,
 * and new subarrays each call cost more than their cutting: each is a
 * miss in the codec's per-view facts (views.ts, a WeakMap set each) and a
 * new overlap check. A CPU profile of alltoallv of 1 MiB blocks on two
 * ranks had those at about 10 us a call. A WeakMap keeps no buffer alive;
 * two cuts per buffer at most.
 */
interface Cut {
  counts: number[];
  displs: number[];
  parts: TypedArray[];
}

const cuts = new WeakMap<TypedArray, [Cut | null, Cut | null]>();

/** The parts of the last cut of `buf` in this direction, if it had these counts and displacements and no part has changed length since (a detached buffer's have). */
function lastCut(buf: TypedArray, counts: readonly number[], displs: readonly number[], receiving: boolean): TypedArray[] | null {
  const cut = cuts.get(buf)?.[receiving ? 1 : 0];
  if (cut === undefined || cut === null || cut.counts.length !== counts.length) return null;
  for (let r = 0; r < counts.length; r++) {
    if (cut.counts[r] !== counts[r] || cut.displs[r] !== displs[r] || cut.parts[r]!.length !== counts[r]) return null;
  }
  return cut.parts;
}

function checkDisjoint(parts: readonly TypedArray[], displs: readonly number[], what: string): void {
  const order = parts.map((_, r) => r).filter((r) => parts[r]!.length > 0).sort((a, b) => displs[a]! - displs[b]!);
  for (let i = 1; i < order.length; i++) {
    const [a, b] = [order[i - 1]!, order[i]!];
    if (displs[a]! + parts[a]!.length > displs[b]!) {
      throw new MPIError('ERR_BUFFER', `${what}'s parts for ranks ${a} and ${b} overlap; each element of a receive buffer can be written once`);
    }
  }
}

/** The smallest length that holds every part: what a result allocated for counts and displacements needs. */
export function extentOf(counts: readonly number[], displs: readonly number[] | null): number {
  const d = displs ?? packedDispls(counts);
  let extent = 0;
  for (let r = 0; r < counts.length; r++) extent = Math.max(extent, d[r]! + counts[r]!);
  return extent;
}

/** Equal blocks of `count` elements, one per rank. */
export function blocksOf<A extends TypedArray>(buf: A, count: number, size: number): A[] {
  return Array.from({ length: size }, (_, r) => buf.subarray(r * count, (r + 1) * count) as A);
}
