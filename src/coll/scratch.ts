/**
 * Scratch memory for the buffer collectives' intermediate data (the partial
 * results of a reduce-scatter on ranks other than the root, a copy of the
 * outgoing blocks of an in-place alltoall). Fresh memory costs a page fault
 * per 4 KiB page on first touch, more than the data's copy, and a program
 * that reduces in a loop would otherwise allocate per iteration: so buffers
 * are kept and reused. Several calls may be in flight at once (nonblocking
 * collectives), so each takes a buffer of its own and gives it back.
 *
 * Bound: at most KEEP buffers are kept, each at most KEEP_BYTES; larger ones
 * are allocated per call and left to the collector.
 *
 * # Unfinished features
 * None of its own: it serves the algorithms, whose modules list theirs.
 */
import type { TypedArray } from './op.js';

const KEEP = 4;
const KEEP_BYTES = 64 * 1024 * 1024;

const free: ArrayBuffer[] = [];

/** A view of `length` elements of `sample`'s type over kept memory; give it back with `release`. */
export function acquireLike<A extends TypedArray>(sample: A, length: number): A {
  const bytes = length * sample.BYTES_PER_ELEMENT;
  let best = -1;
  for (let i = 0; i < free.length; i++) {
    if (free[i]!.byteLength >= bytes && (best < 0 || free[i]!.byteLength < free[best]!.byteLength)) best = i;
  }
  // Round up to whole pages so that a slightly larger call next time reuses it.
  const memory = best >= 0 ? free.splice(best, 1)[0]! : new ArrayBuffer(Math.max(4096, Math.ceil(bytes / 4096) * 4096));
  return new (sample.constructor as new (b: ArrayBuffer, o: number, n: number) => A)(memory, 0, length);
}

/** Gives scratch memory back for the next call. */
export function release(view: TypedArray): void {
  const memory = view.buffer as ArrayBuffer;
  if (memory.byteLength > KEEP_BYTES || free.includes(memory)) return;
  if (free.length >= KEEP) {
    // Keep the larger ones: a small one is cheap to make again.
    let smallest = 0;
    for (let i = 1; i < free.length; i++) if (free[i]!.byteLength < free[smallest]!.byteLength) smallest = i;
    if (free[smallest]!.byteLength >= memory.byteLength) return;
    free.splice(smallest, 1);
  }
  free.push(memory);
}

/** How much scratch memory is kept (for tests of the bound). */
export function keptBytes(): number {
  return free.reduce((sum, memory) => sum + memory.byteLength, 0);
}
