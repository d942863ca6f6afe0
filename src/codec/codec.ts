/**
 * Value <-> bytes. Typed arrays, DataView, ArrayBuffer and Buffer travel as
 * their raw bytes with a type code, so they arrive as the same type without
 * serialisation. Numbers, well-formed strings, booleans, null and undefined,
 * the commonest small messages, have codes of their own: v8.serialize costs
 * microseconds per call even for one number, more than the whole trip through
 * shared memory. Every other value goes through structured clone
 * (`v8.serialize`), which, unlike pickle, runs no code when decoded.
 */
import { serialize, deserialize } from 'node:v8';
import { cloneProblem } from './cloneable.js';

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
} as const;
export type PayloadTypeCode = (typeof PayloadType)[keyof typeof PayloadType];

export type RawBuffer = ArrayBufferView | ArrayBuffer;

type TypedArrayConstructor =
  | Int8ArrayConstructor | Uint8ArrayConstructor | Uint8ClampedArrayConstructor
  | Int16ArrayConstructor | Uint16ArrayConstructor | Int32ArrayConstructor | Uint32ArrayConstructor
  | Float32ArrayConstructor | Float64ArrayConstructor | BigInt64ArrayConstructor | BigUint64ArrayConstructor;

const typedArrayByCode = new Map<number, TypedArrayConstructor>([
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
const codeByTypedArray = new Map<unknown, PayloadTypeCode>(
  [...typedArrayByCode].map(([code, ctor]) => [ctor, code as PayloadTypeCode]),
);

export interface EncodedPayload {
  type: PayloadTypeCode;
  /** The bytes to send. For raw buffers this aliases the caller's memory. */
  bytes: Uint8Array;
}

/**
 * A copy in fresh memory. (Buffer#slice does not copy: it is subarray.)
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy;
}

/** True for values that travel as raw bytes. */
export function isRawBuffer(value: unknown): value is RawBuffer {
  return ArrayBuffer.isView(value) || value instanceof ArrayBuffer;
}

/** Bytes of a raw buffer as a Uint8Array view (no copy). */
export function bytesOf(value: RawBuffer): Uint8Array {
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

export function rawTypeOf(value: RawBuffer): PayloadTypeCode {
  if (value instanceof ArrayBuffer) return PayloadType.ARRAYBUFFER;
  if (Buffer.isBuffer(value)) return PayloadType.BUFFER;
  if (value instanceof DataView) return PayloadType.DATAVIEW;
  const code = codeByTypedArray.get(value.constructor);
  // A subclass of a typed array travels as its base type.
  if (code !== undefined) return code;
  for (const [ctor, c] of codeByTypedArray) if (value instanceof (ctor as unknown as typeof Uint8Array)) return c;
  return PayloadType.UINT8;
}

/** True for payloads that decode to a value, not to raw bytes (recvInto refuses them). */
export function isStructured(type: number): boolean {
  return type === PayloadType.CLONE || type >= PayloadType.NUMBER;
}

const EMPTY = new Uint8Array(0);
const float64Scratch = new Float64Array(1);
const float64ScratchBytes = new Uint8Array(float64Scratch.buffer);

/** The payload of a primitive with a code of its own, or null for anything else. */
function encodePrimitive(value: unknown): EncodedPayload | null {
  switch (typeof value) {
    case 'number': {
      const bytes = new Uint8Array(8);
      float64Scratch[0] = value;
      bytes.set(float64ScratchBytes);
      return { type: PayloadType.NUMBER, bytes };
    }
    case 'string':
      // A lone surrogate does not survive UTF-8; structured clone keeps it.
      return value.isWellFormed() ? { type: PayloadType.STRING, bytes: Buffer.from(value, 'utf8') } : null;
    case 'boolean':
      return { type: value ? PayloadType.TRUE : PayloadType.FALSE, bytes: EMPTY };
    case 'undefined':
      return { type: PayloadType.UNDEFINED, bytes: EMPTY };
    default:
      return value === null ? { type: PayloadType.NULL, bytes: EMPTY } : null;
  }
}

function decodePrimitive(type: number, bytes: Uint8Array): unknown {
  switch (type) {
    case PayloadType.NUMBER:
      if (bytes.length !== 8) throw new TypeError(`a number payload has ${bytes.length} bytes, not 8`);
      float64ScratchBytes.set(bytes);
      return float64Scratch[0];
    case PayloadType.STRING:
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    case PayloadType.TRUE:
      return true;
    case PayloadType.FALSE:
      return false;
    case PayloadType.NULL:
      return null;
    default:
      return undefined;
  }
}

/**
 * Encodes any sendable value. Throws a TypeError naming the problem for values
 * structured clone cannot carry (functions, symbols, ...); nothing is sent then.
 */
export function encode(value: unknown): EncodedPayload {
  if (isRawBuffer(value)) return { type: rawTypeOf(value), bytes: bytesOf(value) };
  const primitive = encodePrimitive(value);
  if (primitive !== null) return primitive;
  const problem = cloneProblem(value);
  if (problem !== null) throw new TypeError(`cannot send this value: ${problem}`);
  try {
    return { type: PayloadType.CLONE, bytes: serialize(value) };
  } catch (err) {
    throw new TypeError(`cannot send this value: ${err instanceof Error ? err.message : String(err)}; ` +
      'send structured-clonable data (numbers, strings, plain objects, arrays, Map, Set, Date, BigInt, typed arrays)',
      { cause: err });
  }
}


/**
 * Decodes a payload. `owned` says the bytes are a fresh allocation no one else
 * uses, so a typed array may wrap them without a copy when aligned.
 */
export function decode(type: number, bytes: Uint8Array, owned: boolean): unknown {
  if (type === PayloadType.CLONE) return deserialize(bytes);
  if (type >= PayloadType.NUMBER) {
    if (type > PayloadType.UNDEFINED) throw new TypeError(`unknown payload type code ${type}`);
    return decodePrimitive(type, bytes);
  }
  const own = owned ? bytes : copyBytes(bytes);
  switch (type) {
    case PayloadType.BUFFER:
      return Buffer.from(own.buffer, own.byteOffset, own.byteLength);
    case PayloadType.ARRAYBUFFER:
      return own.byteOffset === 0 && own.byteLength === own.buffer.byteLength
        ? own.buffer : own.buffer.slice(own.byteOffset, own.byteOffset + own.byteLength);
    case PayloadType.DATAVIEW:
      return new DataView(own.buffer, own.byteOffset, own.byteLength);
    default: {
      const ctor = typedArrayByCode.get(type);
      if (ctor === undefined) throw new TypeError(`unknown payload type code ${type}`);
      const aligned = own.byteOffset % ctor.BYTES_PER_ELEMENT === 0 ? own : copyBytes(own);
      return new ctor(aligned.buffer as ArrayBuffer, aligned.byteOffset, aligned.byteLength / ctor.BYTES_PER_ELEMENT);
    }
  }
}

/** The name of a payload type, for error messages. */
export function payloadTypeName(type: number): string {
  for (const [name, code] of Object.entries(PayloadType)) if (code === type) return name.toLowerCase();
  return `type ${type}`;
}
