/**
 * Payload type codes (one byte in the frame header) and the typed-array
 * constructor each raw code stands for.
 */

/** Payload type codes on the wire (one byte in the frame header). */
export const PayloadType = {
  CLONE: 0,
  INT8: 1,
  UINT8: 2,
  UINT8_CLAMPED: 3,
  INT16: 4,
  UINT16: 5,
  INT32: 6,
  UINT32: 7,
  FLOAT32: 8,
  FLOAT64: 9,
  BIGINT64: 10,
  BIGUINT64: 11,
  DATAVIEW: 12,
  ARRAYBUFFER: 13,
  BUFFER: 14,
  NUMBER: 15,
  STRING: 16,
  TRUE: 17,
  FALSE: 18,
  NULL: 19,
  UNDEFINED: 20,
  /** Plain objects, dense arrays and primitives in our own form (plain-format.ts). */
  PLAIN: 21,
} as const;
export type PayloadTypeCode = (typeof PayloadType)[keyof typeof PayloadType];

export type TypedArrayConstructor =
  | Int8ArrayConstructor | Uint8ArrayConstructor | Uint8ClampedArrayConstructor
  | Int16ArrayConstructor | Uint16ArrayConstructor | Int32ArrayConstructor | Uint32ArrayConstructor
  | Float32ArrayConstructor | Float64ArrayConstructor | BigInt64ArrayConstructor | BigUint64ArrayConstructor;

export const typedArrayByCode = new Map<number, TypedArrayConstructor>([
  [PayloadType.INT8, Int8Array],
  [PayloadType.UINT8, Uint8Array],
  [PayloadType.UINT8_CLAMPED, Uint8ClampedArray],
  [PayloadType.INT16, Int16Array],
  [PayloadType.UINT16, Uint16Array],
  [PayloadType.INT32, Int32Array],
  [PayloadType.UINT32, Uint32Array],
  [PayloadType.FLOAT32, Float32Array],
  [PayloadType.FLOAT64, Float64Array],
  [PayloadType.BIGINT64, BigInt64Array],
  [PayloadType.BIGUINT64, BigUint64Array],
]);
export const codeByTypedArray = new Map<unknown, PayloadTypeCode>(
  [...typedArrayByCode].map(([code, ctor]) => [ctor, code as PayloadTypeCode]),
);

/** The built-in typed-array type of `view`: its own, or the one it extends (Buffer: Uint8Array); undefined for a DataView. */
export function typedArrayTypeOf(view: ArrayBufferView): TypedArrayConstructor | undefined {
  const ctor = view.constructor;
  if (codeByTypedArray.has(ctor)) return ctor as TypedArrayConstructor;
  for (const base of typedArrayByCode.values()) if (view instanceof base) return base;
  return undefined;
}
