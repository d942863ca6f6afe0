/**
 * Value <-> bytes. Typed arrays, DataView, ArrayBuffer and Buffer travel as
 * their raw bytes with a type code, so they arrive as the same type without
 * serialisation. Numbers, well-formed strings, booleans, null and undefined,
 * the commonest small messages, have codes of their own: v8.serialize costs
 * microseconds per call even for one number, more than the whole trip through
 * shared memory. Plain objects and dense arrays of such values (and of
 * whole-buffer typed arrays) go in our own plain format (plain-format.ts),
 * several times cheaper than `v8.serialize` and decoding to exactly what
 * structured clone would give. Every other value goes through structured
 * clone (`v8.serialize`). Neither runs code when decoded, unlike pickle.
 */
import { serialize, deserialize } from 'node:v8';
import { copyBytes, options } from '../base/index.js';
import { cloneProblem } from './cloneable.js';
import { encodePlain, encodedInScratch } from './plain-encoder.js';
import { decodePlain } from './plain-decoder.js';
import { MAX_MESSAGE_BYTES, MessageTooLargeError } from './limits.js';
import { viewFacts } from './views.js';
import { PayloadType, typedArrayByCode, codeByTypedArray, typedArrayTypeOf, type PayloadTypeCode } from './payload-type.js';

export { PayloadType, type PayloadTypeCode, MAX_MESSAGE_BYTES, MessageTooLargeError };

export type RawBuffer = ArrayBufferView | ArrayBuffer;

/**
 * Why a payload of `type` cannot be `length` bytes long, or null when it can:
 * checked when a frame arrives, before anything is decoded, so that a peer
 * cannot make this rank build a Float64Array from 7 bytes.
 */
export function payloadProblem(type: number, length: number): string | null {
  if (!Number.isInteger(type) || type < PayloadType.CLONE || type > PayloadType.PLAIN) return `unknown payload type code ${type}`;
  switch (type) {
    case PayloadType.NUMBER:
      return length === 8 ? null : `a number payload of ${length} bytes (not 8)`;
    case PayloadType.TRUE:
    case PayloadType.FALSE:
    case PayloadType.NULL:
    case PayloadType.UNDEFINED:
      return length === 0 ? null : `a ${payloadTypeName(type)} payload of ${length} bytes (not 0)`;
    default: {
      const ctor = typedArrayByCode.get(type);
      if (ctor === undefined || length % ctor.BYTES_PER_ELEMENT === 0) return null;
      return `a ${payloadTypeName(type)} payload of ${length} bytes, not a whole number of ${ctor.BYTES_PER_ELEMENT}-byte elements`;
    }
  }
}

/** Whose memory an encoded payload's bytes are: what a sender may do with them. */
export const BytesOwner = {
  /** Fresh memory: it may be kept as is. */
  FRESH: 0,
  /** The caller's own buffer (a typed array goes as is): the caller may change it once the send completes. */
  CALLER: 1,
  /** The encoder's scratch memory, valid until the next encode: copy it to keep it. */
  SCRATCH: 2,
} as const;
export type BytesOwnerCode = (typeof BytesOwner)[keyof typeof BytesOwner];

export interface EncodedPayload {
  type: PayloadTypeCode;
  /** The bytes to send. */
  bytes: Uint8Array;
  owner: BytesOwnerCode;
}

/** True for values that travel as raw bytes. */
export function isRawBuffer(value: unknown): value is RawBuffer {
  return ArrayBuffer.isView(value) || value instanceof ArrayBuffer;
}

/** Bytes of a raw buffer as a Uint8Array view (no copy). */
export function bytesOf(value: RawBuffer): Uint8Array {
  if (value.constructor === Uint8Array) return value as Uint8Array;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return viewFacts(value).bytes;
}

export function rawTypeOf(value: RawBuffer): PayloadTypeCode {
  if (value instanceof ArrayBuffer) return PayloadType.ARRAYBUFFER;
  if (Buffer.isBuffer(value)) return PayloadType.BUFFER;
  if (value instanceof DataView) return PayloadType.DATAVIEW;
  const code = codeByTypedArray.get(value.constructor);
  if (code !== undefined) return code;
  // A subclass of a typed array travels as its base type.
  const base = typedArrayTypeOf(value);
  return base === undefined ? PayloadType.UINT8 : codeByTypedArray.get(base)!;
}

/** True for payloads that decode to a value, not to raw bytes (recvInto refuses them). */
export function isStructured(type: number): boolean {
  return type === PayloadType.CLONE || type >= PayloadType.NUMBER;
}

const EMPTY = new Uint8Array(0);
const float64Scratch = new Float64Array(1);
const float64ScratchBytes = new Uint8Array(float64Scratch.buffer);
/** Where a number is encoded: its own, so a decode between encode and send cannot touch it. */
const numberScratch = new Float64Array(1);
const numberScratchBytes = new Uint8Array(numberScratch.buffer);

/** The payload of a primitive with a code of its own, or null for anything else. */
function encodePrimitive(value: unknown): EncodedPayload | null {
  switch (typeof value) {
    case 'number':
      numberScratch[0] = value;
      return { type: PayloadType.NUMBER, bytes: numberScratchBytes, owner: BytesOwner.SCRATCH };
    case 'string':
      // A lone surrogate does not survive UTF-8; structured clone keeps it.
      return value.isWellFormed() ? { type: PayloadType.STRING, bytes: Buffer.from(value, 'utf8'), owner: BytesOwner.FRESH } : null;
    case 'boolean':
      return { type: value ? PayloadType.TRUE : PayloadType.FALSE, bytes: EMPTY, owner: BytesOwner.FRESH };
    case 'undefined':
      return { type: PayloadType.UNDEFINED, bytes: EMPTY, owner: BytesOwner.FRESH };
    default:
      return value === null ? { type: PayloadType.NULL, bytes: EMPTY, owner: BytesOwner.FRESH } : null;
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
 * Whether plain objects and arrays use the plain format (plain-format.ts).
 * MPI4TS_PLAIN_CODEC=0 sends everything structured through `v8.serialize`,
 * to rule the fast path out when chasing a problem.
 */
let plainCodec: boolean | null = null;

function usePlainCodec(): boolean {
  plainCodec ??= options().plainCodec;
  return plainCodec;
}

/** A getter that throws while the value is walked is the value's fault: say so as encode does. */
function encodePlainOrExplain(value: unknown): Uint8Array | null {
  try {
    return encodePlain(value);
  } catch (err) {
    if (err instanceof MessageTooLargeError) throw err;
    throw new TypeError(`cannot send this value: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/**
 * Encodes any sendable value; `owner` says whether the bytes may be kept as
 * they are (see BytesOwner). Throws a TypeError naming the problem for values
 * structured clone cannot carry (functions, symbols, ...); nothing is sent then.
 */
export function encode(value: unknown): EncodedPayload {
  if (isRawBuffer(value)) {
    if (value.byteLength > MAX_MESSAGE_BYTES) throw new MessageTooLargeError(value.byteLength, false);
    return { type: rawTypeOf(value), bytes: bytesOf(value), owner: BytesOwner.CALLER };
  }
  const primitive = encodePrimitive(value);
  if (primitive !== null) return primitive;
  const plain = usePlainCodec() ? encodePlainOrExplain(value) : null;
  if (plain !== null) {
    // A large value is encoded into a buffer grown for it, which is the caller's: no copy needed.
    return { type: PayloadType.PLAIN, bytes: plain, owner: encodedInScratch() ? BytesOwner.SCRATCH : BytesOwner.FRESH };
  }
  const problem = cloneProblem(value);
  if (problem !== null) throw new TypeError(`cannot send this value: ${problem}`);
  let bytes: Buffer;
  try {
    bytes = serialize(value);
  } catch (err) {
    throw new TypeError(`cannot send this value: ${err instanceof Error ? err.message : String(err)}; ` +
      'send structured-clonable data (numbers, strings, plain objects, arrays, Map, Set, Date, BigInt, typed arrays)',
      { cause: err });
  }
  if (bytes.length > MAX_MESSAGE_BYTES) throw new MessageTooLargeError(bytes.length, false);
  return { type: PayloadType.CLONE, bytes, owner: BytesOwner.FRESH };
}


/**
 * Decodes a payload. `owned` says the bytes are a fresh allocation no one else
 * uses, so a typed array may wrap them without a copy when aligned.
 */
export function decode(type: number, bytes: Uint8Array, owned: boolean): unknown {
  if (type === PayloadType.CLONE) return deserialize(bytes);
  if (type === PayloadType.PLAIN) return decodePlain(bytes);
  if (type >= PayloadType.NUMBER) {
    if (type > PayloadType.PLAIN) throw new TypeError(`unknown payload type code ${type}`);
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
