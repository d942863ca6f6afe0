/**
 * Reads the plain format (plain-format.ts). The bytes come from a peer, so
 * every length and count is checked against what is left before anything is
 * allocated, nesting is bounded, and a key named `__proto__` becomes an own
 * property (as structured clone makes it), never the object's prototype.
 */
import { typedArrayByCode } from './payload-type.js';
import { copyInto } from '../base/index.js';
import { MAX_PLAIN_DEPTH, PlainTag } from './plain-format.js';

/** Float64 decoding without a DataView per payload (an allocation on every message). */
const float64Scratch = new Float64Array(1);
const float64ScratchBytes = new Uint8Array(float64Scratch.buffer);
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

class PlainReader {
  private position = 0;

  constructor(private readonly bytes: Uint8Array) {}

  readAll(): unknown {
    const value = this.readValue(0);
    if (this.position !== this.bytes.length) this.fail(`${this.bytes.length - this.position} bytes left over after the value`);
    return value;
  }

  private readValue(depth: number): unknown {
    const tag = this.readU8();
    switch (tag) {
      case PlainTag.UNDEFINED: return undefined;
      case PlainTag.NULL: return null;
      case PlainTag.FALSE: return false;
      case PlainTag.TRUE: return true;
      case PlainTag.INT32: return this.readInt32();
      case PlainTag.FLOAT64: return this.readFloat64();
      case PlainTag.STRING: return this.readString();
      case PlainTag.ARRAY: return this.readArray(this.deeper(depth));
      case PlainTag.OBJECT: return this.readObject(this.deeper(depth));
      case PlainTag.TYPED: return this.readTypedArray();
      default: return this.fail(`unknown tag ${tag} at byte ${this.position - 1}`);
    }
  }

  private deeper(depth: number): number {
    if (depth >= MAX_PLAIN_DEPTH) this.fail(`nesting deeper than ${MAX_PLAIN_DEPTH}`);
    return depth + 1;
  }

  private readArray(depth: number): unknown[] {
    // Every element takes at least one byte: a count beyond that is a lie, refused before allocating.
    const count = this.readCount(1);
    // Pushed, not preallocated: a preallocated array stays "holey" in V8, slower for the user.
    const array: unknown[] = [];
    for (let i = 0; i < count; i++) array.push(this.readValue(depth));
    return array;
  }

  private readObject(depth: number): Record<string, unknown> {
    // Every entry takes at least a 4-byte key length and a 1-byte value.
    const count = this.readCount(5);
    const object: Record<string, unknown> = {};
    for (let i = 0; i < count; i++) {
      const key = this.readString();
      const value = this.readValue(depth);
      if (key === '__proto__') {
        Object.defineProperty(object, key, { value, enumerable: true, configurable: true, writable: true });
      } else {
        object[key] = value;
      }
    }
    return object;
  }

  private readTypedArray(): ArrayBufferView {
    const code = this.readU8();
    const ctor = typedArrayByCode.get(code);
    if (ctor === undefined) this.fail(`unknown typed-array code ${code}`);
    const byteLength = this.readU32();
    if (byteLength % ctor.BYTES_PER_ELEMENT !== 0) {
      this.fail(`a ${ctor.name} of ${byteLength} bytes, not a multiple of ${ctor.BYTES_PER_ELEMENT}`);
    }
    const start = this.take(byteLength);
    const source = this.bytes.subarray(start, start + byteLength);
    // A copy of its own: aligned, and not keeping the whole message alive. (Not
    // bytes.slice: the bytes may be a Buffer, whose slice is a view of the read buffer.)
    if (ctor.BYTES_PER_ELEMENT === 1) {
      // Byte arrays copy element-wise without touching `.buffer`, which V8 would have to
      // move off its heap for a small array: half the cost of an 8-byte array.
      const array = new (ctor as Uint8ArrayConstructor)(byteLength);
      copyInto(array, source);
      return array;
    }
    const own = new ArrayBuffer(byteLength);
    new Uint8Array(own).set(source);
    return new ctor(own);
  }

  private readString(): string {
    const byteLength = this.readU32();
    const start = this.take(byteLength);
    const bytes = this.bytes;
    if (byteLength <= SHORT_STRING_BYTES) return shortString(bytes, start, byteLength);
    return decodeUtf8(bytes, start, byteLength);
  }

  private readInt32(): number {
    const at = this.take(4);
    const b = this.bytes;
    return b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);
  }

  private readFloat64(): number {
    const at = this.take(8);
    const b = this.bytes;
    for (let i = 0; i < 8; i++) float64ScratchBytes[i] = b[littleEndian ? at + i : at + 7 - i]!;
    return float64Scratch[0]!;
  }

  private readU32(): number {
    return this.readInt32() >>> 0;
  }

  private readU8(): number {
    const at = this.take(1);
    return this.bytes[at]!;
  }

  /** A count of items each at least `minBytes` long, checked against the bytes left. */
  private readCount(minBytes: number): number {
    const count = this.readU32();
    if (count * minBytes > this.bytes.length - this.position) {
      this.fail(`a count of ${count} at byte ${this.position - 4} does not fit the ${this.bytes.length - this.position} bytes left`);
    }
    return count;
  }

  /** Claims `n` bytes and returns where they start. */
  private take(n: number): number {
    const at = this.position;
    if (n > this.bytes.length - at) this.fail(`needs ${n} bytes at byte ${at}, but the payload ends at ${this.bytes.length}`);
    this.position = at + n;
    return at;
  }

  private fail(why: string): never {
    throw new TypeError(`malformed plain payload (${this.bytes.length} bytes): ${why}`);
  }
}

/** Strings up to this many bytes (most keys) are looked up in, and built for, the cache below. */
const SHORT_STRING_BYTES = 32;
const STRING_CACHE_SLOTS = 256;
/**
 * Short strings seen lately, by a hash of their bytes. The same keys come in
 * message after message; a hit costs a compare, where building the string
 * costs a concatenation per character and V8's lookup when it is used as a key.
 */
const stringCache: string[] = new Array<string>(STRING_CACHE_SLOTS).fill('');

function shortString(bytes: Uint8Array, start: number, byteLength: number): string {
  if (byteLength === 0) return '';
  const last = start + byteLength - 1;
  const slot = (byteLength * 31 + bytes[start]! * 7 + bytes[last]! * 13 + bytes[start + (byteLength >> 1)]!) & (STRING_CACHE_SLOTS - 1);
  const cached = stringCache[slot]!;
  if (cached.length === byteLength && sameAscii(cached, bytes, start)) return cached;
  let text = '';
  for (let i = start; i <= last; i++) {
    const c = bytes[i]!;
    // Not ASCII: the UTF-8 decoder, and nothing cached (its length in chars differs from its bytes').
    if (c >= 0x80) return decodeUtf8(bytes, start, byteLength);
    text += String.fromCharCode(c);
  }
  stringCache[slot] = text;
  return text;
}

function sameAscii(text: string, bytes: Uint8Array, start: number): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== bytes[start + i]) return false;
  return true;
}

function decodeUtf8(bytes: Uint8Array, start: number, byteLength: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, byteLength).toString('utf8');
}

/** The value a plain payload holds; a TypeError naming the fault for malformed bytes. */
export function decodePlain(bytes: Uint8Array): unknown {
  return new PlainReader(bytes).readAll();
}
