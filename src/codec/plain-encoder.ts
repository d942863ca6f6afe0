/**
 * Writes a value in the plain format (plain-format.ts), or gives up with
 * `null` the moment the value holds anything structured clone would carry
 * differently from a plain walk: the caller then uses `v8.serialize`.
 */
import { codeByTypedArray } from './payload-type.js';
import { copyInto } from '../base/index.js';
import { MAX_MESSAGE_BYTES, MessageTooLargeError } from './limits.js';
import { viewFacts } from './views.js';
import { MAX_PLAIN_ARRAY, MAX_PLAIN_DEPTH, PlainTag } from './plain-format.js';

/** Thrown inside the walk to abandon it; never escapes this module. */
const NOT_PLAIN = Symbol('not plain');

const SCRATCH_BYTES = 16 * 1024;
const MAX_ASCII_PROBE = 64;

/** Objects a value may hold before shared references are looked up in a Set, not a list. */
const SEEN_LIST_MAX = 32;

/** One growable output: bytes, a Buffer over them for UTF-8, a DataView for numbers. */
interface Output {
  bytes: Uint8Array;
  text: Buffer;
  view: DataView;
}

function outputOf(size: number): Output {
  const bytes = new Uint8Array(size);
  return { bytes, text: Buffer.from(bytes.buffer), view: new DataView(bytes.buffer) };
}

class PlainWriter {
  private readonly scratch = outputOf(SCRATCH_BYTES);
  private bytes = this.scratch.bytes;
  private text = this.scratch.text;
  private view = this.scratch.view;
  private length = 0;
  private scratchView = this.scratch.bytes.subarray(0, 0);
  /**
   * Objects and buffers already written: a second sight is a shared reference.
   * A short list first (a Set's clear() reallocates its table: most of the cost of
   * encoding a small object), a Set once a value holds many objects.
   */
  private readonly seenList: (object | null)[] = [];
  private seenCount = 0;
  private seenSet: Set<object> | null = null;

  /** True while a value is being written: a getter that sends a message must not reuse this writer. */
  private busy = false;

  /**
   * The encoded bytes, or null when the value is not plain. They may be this
   * writer's scratch memory, valid until the next call: copy what you keep.
   */
  encode(value: unknown): Uint8Array | null {
    if (this.busy) return null;
    this.busy = true;
    this.length = 0;
    this.use(this.scratch);
    try {
      this.writeValue(value, 0);
    } catch (err) {
      // Let go of a buffer grown for this value (it may be gigabytes).
      this.use(this.scratch);
      if (err === NOT_PLAIN) return null;
      throw err;
    } finally {
      this.forgetSeen();
      this.busy = false;
    }
    return this.result();
  }

  /** Whether the last encode's bytes are the scratch memory (else a grown buffer no one else holds). */
  get lastInScratch(): boolean {
    return this.bytes === this.scratch.bytes;
  }

  /** The bytes written, as a view; the scratch's last view again when the length repeats (a loop's messages). */
  private result(): Uint8Array {
    if (this.bytes !== this.scratch.bytes) return this.bytes.subarray(0, this.length);
    if (this.scratchView.length !== this.length) this.scratchView = this.bytes.subarray(0, this.length);
    return this.scratchView;
  }

  private use(output: Output): void {
    this.bytes = output.bytes;
    this.text = output.text;
    this.view = output.view;
  }

  /** Throws NOT_PLAIN on a second sight of `item` (a shared reference or a cycle). */
  private visit(item: object): void {
    const set = this.seenSet;
    if (set !== null) {
      if (set.has(item)) throw NOT_PLAIN;
      set.add(item);
      return;
    }
    const list = this.seenList;
    const count = this.seenCount;
    for (let i = 0; i < count; i++) if (list[i] === item) throw NOT_PLAIN;
    list[count] = item;
    this.seenCount = count + 1;
    if (count + 1 === SEEN_LIST_MAX) this.seenSet = new Set(list as object[]);
  }

  /** Drops the references, so the writer keeps no user object alive. */
  private forgetSeen(): void {
    // A loop: Array#fill is a call into C++, dearer than a few stores.
    const list = this.seenList;
    for (let i = 0; i < this.seenCount; i++) list[i] = null;
    this.seenCount = 0;
    this.seenSet = null;
  }

  private writeValue(value: unknown, depth: number): void {
    switch (typeof value) {
      case 'number':
        return this.writeNumber(value);
      case 'string':
        this.writeTag(PlainTag.STRING);
        return this.writeString(value);
      case 'boolean':
        return this.writeTag(value ? PlainTag.TRUE : PlainTag.FALSE);
      case 'undefined':
        return this.writeTag(PlainTag.UNDEFINED);
      case 'object':
        if (value === null) return this.writeTag(PlainTag.NULL);
        return this.writeObject(value, depth + 1);
      default:
        // bigint, function, symbol
        throw NOT_PLAIN;
    }
  }

  private writeObject(value: object, depth: number): void {
    if (depth > MAX_PLAIN_DEPTH) throw NOT_PLAIN;
    this.visit(value);
    // Typed arrays first: Object.getPrototypeOf takes V8's slow path for them.
    if (ArrayBuffer.isView(value)) return this.writeTypedArray(value);
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto === Object.prototype) return this.writePlainObject(value as Record<string, unknown>, depth);
    if (proto === Array.prototype) return this.writeArray(value as unknown[], depth);
    throw NOT_PLAIN;
  }

  private writePlainObject(value: Record<string, unknown>, depth: number): void {
    const keys = Object.keys(value);
    this.ensure(5);
    this.bytes[this.length++] = PlainTag.OBJECT;
    this.writeU32(keys.length);
    for (const key of keys) {
      this.writeString(key);
      this.writeValue(value[key], depth);
    }
  }

  private writeArray(value: unknown[], depth: number): void {
    const count = value.length;
    // Holes and named properties survive structured clone but not this form.
    if (count > MAX_PLAIN_ARRAY || Object.keys(value).length !== count) throw NOT_PLAIN;
    this.ensure(5);
    this.bytes[this.length++] = PlainTag.ARRAY;
    this.writeU32(count);
    for (let i = 0; i < count; i++) {
      const item = value[i];
      // Arrays of numbers are common and long: skip the dispatch for them.
      if (typeof item === 'number') this.writeNumber(item);
      else this.writeValue(item, depth);
    }
  }

  /** Only a view of a whole, plain ArrayBuffer: structured clone keeps the rest of a buffer and its sharing. */
  private writeTypedArray(view: ArrayBufferView): void {
    // Before any view of its bytes: Node cannot make a Uint8Array over more than 4 GiB.
    if (this.length + view.byteLength > MAX_MESSAGE_BYTES) throw new MessageTooLargeError(this.length + view.byteLength, true);
    const code = codeByTypedArray.get(view.constructor);
    const facts = viewFacts(view);
    if (code === undefined || !facts.wholePlainBuffer) throw NOT_PLAIN;
    this.visit(facts.buffer);
    this.ensure(6 + view.byteLength);
    this.bytes[this.length++] = PlainTag.TYPED;
    this.bytes[this.length++] = code;
    this.writeU32(view.byteLength);
    copyInto(this.bytes, facts.bytes, this.length);
    this.length += view.byteLength;
  }

  private writeNumber(value: number): void {
    this.ensure(9);
    // -0 is not an int32: it must come back as -0.
    if ((value | 0) === value && (value !== 0 || 1 / value > 0)) {
      this.bytes[this.length++] = PlainTag.INT32;
      this.view.setInt32(this.length, value, true);
      this.length += 4;
    } else {
      this.bytes[this.length++] = PlainTag.FLOAT64;
      this.view.setFloat64(this.length, value, true);
      this.length += 8;
    }
  }

  /** u32 byte length + UTF-8; a lone surrogate would not survive UTF-8, so it is not plain. */
  private writeString(value: string): void {
    const chars = value.length;
    this.ensure(4 + chars * 3);
    const start = this.length + 4;
    let written = chars <= MAX_ASCII_PROBE ? this.writeAscii(value, start) : -1;
    if (written < 0) {
      if (!value.isWellFormed()) throw NOT_PLAIN;
      written = this.text.write(value, start, 'utf8');
    }
    this.view.setUint32(this.length, written, true);
    this.length = start + written;
  }

  /** Short ASCII strings (most keys) are cheaper copied by hand than through the UTF-8 encoder. */
  private writeAscii(value: string, at: number): number {
    const bytes = this.bytes;
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c >= 0x80) return -1;
      bytes[at + i] = c;
    }
    return value.length;
  }

  private writeTag(tag: number): void {
    this.ensure(1);
    this.bytes[this.length++] = tag;
  }

  private writeU32(value: number): void {
    this.view.setUint32(this.length, value, true);
    this.length += 4;
  }

  private ensure(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.bytes.length) return;
    if (needed > MAX_MESSAGE_BYTES) throw new MessageTooLargeError(needed, true);
    // Room for what is needed now and as much again as is written so far:
    // amortised growth without doubling a large typed array's allocation.
    const grown = outputOf(needed + Math.max(1024, this.length));
    grown.bytes.set(this.bytes.subarray(0, this.length));
    this.use(grown);
  }
}

const writer = new PlainWriter();

/**
 * The plain-format bytes of `value`, or null when it must go through
 * structured clone. When `encodedInScratch()` says so they are the writer's
 * scratch memory, valid until the next call, and the caller copies what it
 * keeps; a value larger than the scratch gets fresh memory of its own.
 */
export function encodePlain(value: unknown): Uint8Array | null {
  return writer.encode(value);
}

/** Whether the bytes encodePlain returned last are its scratch memory. */
export function encodedInScratch(): boolean {
  return writer.lastInScratch;
}
