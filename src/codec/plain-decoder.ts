/**
 * Reads the plain format (plain-format.ts). The bytes come from a peer, so
 * every length and count is checked against what is left before anything is
 * allocated, nesting is bounded, and a key named `__proto__` becomes an own
 * property (as structured clone makes it), never the object's prototype.
 */
import { typedArrayByCode } from './payload-type.js';
import { MAX_PLAIN_DEPTH, PlainTag } from './plain-format.js';

class PlainReader {
  private readonly view: DataView;
  private position = 0;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

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
    // A copy of its own: aligned, and not keeping the whole message alive. (Not
    // bytes.slice: the bytes may be a Buffer, whose slice is a view of the read buffer.)
    const own = new ArrayBuffer(byteLength);
    new Uint8Array(own).set(this.bytes.subarray(start, start + byteLength));
    return new ctor(own);
  }

  private readString(): string {
    const byteLength = this.readU32();
    const start = this.take(byteLength);
    const bytes = this.bytes;
    if (byteLength <= 32) {
      // Short ASCII (most keys): by hand, cheaper than the UTF-8 decoder's call.
      let text = '';
      for (let i = start; i < start + byteLength; i++) {
        const c = bytes[i]!;
        if (c >= 0x80) return decodeUtf8(bytes, start, byteLength);
        text += String.fromCharCode(c);
      }
      return text;
    }
    return decodeUtf8(bytes, start, byteLength);
  }

  private readInt32(): number {
    const at = this.take(4);
    return this.view.getInt32(at, true);
  }

  private readFloat64(): number {
    const at = this.take(8);
    return this.view.getFloat64(at, true);
  }

  private readU32(): number {
    const at = this.take(4);
    return this.view.getUint32(at, true);
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

function decodeUtf8(bytes: Uint8Array, start: number, byteLength: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, byteLength).toString('utf8');
}

/** The value a plain payload holds; a TypeError naming the fault for malformed bytes. */
export function decodePlain(bytes: Uint8Array): unknown {
  return new PlainReader(bytes).readAll();
}
