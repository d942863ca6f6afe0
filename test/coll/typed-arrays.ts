// Typed-array test data shared by the in-memory collective tests: every
// element type, and arrays whose elements differ by a seed (a rank) and index.
import type { TypedArray } from '../../src/coll/op.js';

export type Ctor = new (n: number) => TypedArray;

export const TYPES: Ctor[] = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array];

/** An array of `type` whose elements differ by seed and index (small, so any type holds them). */
export function filled(type: Ctor, length: number, seed: number): TypedArray {
  const array = new type(length);
  const big = array instanceof BigInt64Array || array instanceof BigUint64Array;
  for (let i = 0; i < length; i++) (array as unknown as unknown[])[i] = big ? BigInt((seed * 7 + i) % 100) : (seed * 7 + i) % 100;
  return array;
}
