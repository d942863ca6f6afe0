/** Byte copies on the path of every message, shared by the codec and the transports. */

/** Copies up to this many bytes element by element. */
const SMALL_COPY_BYTES = 64;

/**
 * Copies `src` into `dest` from `at` on. A few bytes (the commonest messages)
 * go by a loop, which beats the call into TypedArray#set.
 */
export function copyInto(dest: Uint8Array, src: Uint8Array, at = 0): void {
  if (src.length > SMALL_COPY_BYTES) {
    dest.set(src, at);
    return;
  }
  for (let i = 0; i < src.length; i++) dest[at + i] = src[i]!;
}

/** A fresh copy of `bytes`, owned by the caller. */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy;
}
