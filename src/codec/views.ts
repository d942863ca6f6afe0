/**
 * What the codec needs to know of a typed array's memory, remembered per
 * array: `.buffer` is a call into C++ each time (under `perf record`, the
 * largest item of encoding a small array), and programs send the same arrays
 * over and over. A WeakMap keeps no array alive.
 */
export interface ViewFacts {
  /** The array's bytes, as a Uint8Array view. */
  bytes: Uint8Array;
  buffer: ArrayBufferLike;
  /** The array spans the whole of a plain (neither shared nor resizable) ArrayBuffer. */
  wholePlainBuffer: boolean;
}

const remembered = new WeakMap<ArrayBufferView, ViewFacts>();

export function viewFacts(view: ArrayBufferView): ViewFacts {
  const known = remembered.get(view);
  // A detached or shrunk buffer changes the length: look again (and fail as a fresh look would).
  if (known !== undefined && known.bytes.byteLength === view.byteLength && view.byteLength !== 0) return known;
  const buffer = view.buffer;
  const facts: ViewFacts = {
    bytes: new Uint8Array(buffer, view.byteOffset, view.byteLength),
    buffer,
    wholePlainBuffer: view.byteOffset === 0 && view.byteLength === buffer.byteLength && buffer instanceof ArrayBuffer && !isResizable(buffer),
  };
  remembered.set(view, facts);
  return facts;
}

/** Node 20 has resizable ArrayBuffers; structured clone keeps their maximum size, the plain format would not. */
function isResizable(buffer: ArrayBuffer): boolean {
  return (buffer as { resizable?: boolean }).resizable === true;
}
