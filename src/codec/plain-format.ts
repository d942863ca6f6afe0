/**
 * The plain format: our own binary form for the values most messages are made
 * of (plain objects, dense arrays, numbers, strings, booleans, null,
 * undefined, whole-buffer typed arrays). `v8.serialize` costs about 6 us for
 * `{ bytes: Uint8Array(8) }` and `v8.deserialize` 2 us, most of an 8-byte
 * object message's latency; this form costs a fraction of that. A value is
 * written in it only when it decodes to a value structured clone would have
 * produced too; anything else (shared references and cycles, Map, Set, Date,
 * BigInt, class instances, views into part of a buffer, deeper than
 * MAX_PLAIN_DEPTH) makes the whole value go through `v8.serialize` instead.
 *
 * Layout, little endian: one tag byte per value, then
 *   INT32: 4 bytes; FLOAT64: 8 bytes; STRING: u32 byte length + UTF-8;
 *   ARRAY: u32 count + that many values; OBJECT: u32 count + (STRING key
 *   bytes without the tag, value) pairs; TYPED: one byte of the payload type
 *   code of its constructor (codec.ts PayloadType) + u32 byte length + bytes.
 */

export const PlainTag = {
  UNDEFINED: 0,
  NULL: 1,
  FALSE: 2,
  TRUE: 3,
  INT32: 4,
  FLOAT64: 5,
  STRING: 6,
  ARRAY: 7,
  OBJECT: 8,
  TYPED: 9,
} as const;

/**
 * Nesting deeper than this goes through `v8.serialize`, and a plain payload
 * that claims more is refused: the decoder recurses, and a peer must not be
 * able to exhaust its stack.
 */
export const MAX_PLAIN_DEPTH = 64;

/**
 * Arrays longer than this go through `v8.serialize`: proving an array has no
 * holes or named properties costs an `Object.keys` over all its indices, and
 * from about 1000 elements on that check eats the whole gain (measured in
 * encode + decode of arrays of numbers and of short strings: 2-4x faster than
 * `v8.serialize` up to 64 elements, 1.3x at 1024, even at 4096).
 */
export const MAX_PLAIN_ARRAY = 1024;
