/**
 * A rank's slot on its host's board (DESIGN.md "Collectives on one host"):
 * a region of its shared-memory inbox, after the header, that only the
 * owner writes and every local peer reads. Small collectives (barrier,
 * bcast and allreduce of a few hundred bytes) meet there instead of
 * exchanging messages: on a host with more ranks than cores each message
 * step waits for the peer to be scheduled, and one look at the board
 * replaces log2(n) of them (Open MPI's coll/sm and MPICH's release/gather
 * work the same way).
 *
 * Layout (little-endian 32-bit words, BOARD_BYTES in all):
 *
 *     0  BOARD_ENTRIES entries of ENTRY_BYTES, call c in entry c mod ENTRIES:
 *          +0 i32 call (stored last: the entry is whole once it reads c)
 *          +4 i32 code (what the call is; the p2p layer's HostBoard decides)
 *          +8 i32 aux (the root of a bcast, or a length)
 *         +12 i32 length (payload bytes)
 *         +16 i32 signature (the call and its arguments, as its messages carry them)
 *         +64 BOARD_PAYLOAD_BYTES of payload
 *
 * An entry is reused BOARD_ENTRIES calls later, once every peer has
 * published the call after the old one (so it is done with it): a rank
 * publishes at most BOARD_ENTRIES - 1 calls past the last one the slowest
 * rank of its host published, and then waits for it. Every
 * load of a word another process writes, and the store of the call word,
 * is an Atomics call: V8 may otherwise keep a plain load of an ArrayBuffer
 * in a register across a polling loop, and Atomics are sequentially
 * consistent, so the fields and payload written before the call word are
 * seen whole by whoever sees the call word.
 *
 * # Unfinished features
 * - One board per host for COMM_WORLD only: other communicators use
 *   messages (HostBoard's comment says why).
 */

/**
 * Entries per slot (a power of two): one more than the collective calls one
 * rank may run ahead of another on its host. Call numbers are 32-bit and wrap; an
 * entry is found by the low bits, which keeps counting across the wrap.
 */
export const BOARD_ENTRIES = 16;
/** The largest payload one entry holds: bcast of a small object, allreduce of 128 doubles. */
export const BOARD_PAYLOAD_BYTES = 1024;
const ENTRY_META_BYTES = 64;
const ENTRY_BYTES = ENTRY_META_BYTES + BOARD_PAYLOAD_BYTES;
const FIRST_ENTRY = 0;
/** Bytes of one slot: whole pages, so the rings after it stay page-aligned. */
export const BOARD_BYTES = Math.ceil((FIRST_ENTRY + BOARD_ENTRIES * ENTRY_BYTES) / 4096) * 4096;

const E_CALL = 0;
const E_CODE = 1;
const E_AUX = 2;
const E_LENGTH = 3;
const E_SIGNATURE = 4;

/** A typed array's constructor, as view() takes it. */
export interface ViewType<V> {
  new(buffer: ArrayBuffer, byteOffset: number, length: number): V;
  readonly BYTES_PER_ELEMENT: number;
}

/** One rank's slot, as mapped in this process (its own, or a peer's). */
export class BoardSlot {
  private readonly words: Int32Array;
  private readonly bytes: Uint8Array;
  /** Payload views by type, then by entry (view()). */
  private readonly views = new Map<ViewType<unknown>, unknown[]>();

  /** `offset`: where the slot starts in `buffer` (a multiple of 8). */
  constructor(buffer: ArrayBuffer, offset: number) {
    this.words = new Int32Array(buffer, offset, BOARD_BYTES / 4);
    this.bytes = new Uint8Array(buffer, offset, BOARD_BYTES);
  }

  /** The call whose entry sits where `call`'s goes: `call` once it is published. */
  callAt(call: number): number {
    return Atomics.load(this.words, wordOf(call) + E_CALL);
  }

  code(call: number): number {
    return Atomics.load(this.words, wordOf(call) + E_CODE);
  }

  aux(call: number): number {
    return Atomics.load(this.words, wordOf(call) + E_AUX);
  }

  length(call: number): number {
    return Atomics.load(this.words, wordOf(call) + E_LENGTH);
  }

  /**
   * The payload area of `call`'s entry, all BOARD_PAYLOAD_BYTES of it, as a
   * `ctor` view (one made per entry and type, then kept: no allocation per
   * call). Valid while the entry holds that call; the owner fills it before
   * publish(), after checking that the peers are done with the entry.
   */
  view<V>(call: number, ctor: ViewType<V>): V {
    const entry = call & (BOARD_ENTRIES - 1);
    let views = this.views.get(ctor) as V[] | undefined;
    if (views === undefined) {
      views = [];
      this.views.set(ctor, views);
    }
    let view = views[entry];
    if (view === undefined) {
      const at = this.bytes.byteOffset + FIRST_ENTRY + entry * ENTRY_BYTES + ENTRY_META_BYTES;
      view = new ctor(this.bytes.buffer as ArrayBuffer, at, BOARD_PAYLOAD_BYTES / ctor.BYTES_PER_ELEMENT);
      views[entry] = view;
    }
    return view;
  }

  /** The signature, a non-negative 32-bit number (kept in an Int32 word: read back unsigned). */
  signature(call: number): number {
    return Atomics.load(this.words, wordOf(call) + E_SIGNATURE) >>> 0;
  }

  /** Owner: publishes `call`'s entry (its payload already written): the call word last. */
  publish(call: number, code: number, aux: number, length: number, signature: number): void {
    const at = wordOf(call);
    const words = this.words;
    // Plain stores: the call word's Atomics.store comes after them (V8 keeps the order, and it fences).
    words[at + E_CODE] = code;
    words[at + E_AUX] = aux;
    words[at + E_LENGTH] = length;
    words[at + E_SIGNATURE] = signature;
    Atomics.store(words, at + E_CALL, call);
  }
}

function wordOf(call: number): number {
  return (FIRST_ENTRY + (call & (BOARD_ENTRIES - 1)) * ENTRY_BYTES) / 4;
}
