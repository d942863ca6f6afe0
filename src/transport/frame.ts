/**
 * The wire frame: a fixed 32-byte little-endian header and, for kinds that
 * carry one, a payload.
 *
 *   0 u8  version       4 u32 context     16 u32 rendezvous id
 *   1 u8  kind          8 i32 source      20 u32 collective word (0: none)
 *   2 u8  payload type 12 i32 tag         24 u32 length, low 32 bits
 *   3 u8  flags                           28 u32 length, high bits
 *
 * `length` is the payload length for EAGER and DATA frames, the announced
 * message size for RTS frames (which carry no payload) and the bytes handed
 * back for CREDIT frames. `collective` is the word of the collective call a
 * message of a collective context belongs to (coll/calls.ts: the call's code
 * and the arguments every rank must pass alike: root, op, element type,
 * count), so that ranks whose calls disagree fail with an error saying so
 * instead of misreading each other's data.
 *
 * Validation is here too, beside the layout, in one function (decodeHeader)
 * that both readers call: the socket stream's (frame-reader.ts) and the
 * shared-memory ring's (shm-ring.ts).
 *
 * # Unfinished features
 * - No checksum of header or payload: TCP's own and the memory's integrity
 *   are relied on; a frame that decodes is believed.
 * - No negotiation of the protocol: every rank of a job must run the same
 *   mpi4ts; the version byte tells a stranger from a peer early, it does not
 *   make two versions talk.
 */
import { ProtocolError } from '../base/index.js';

export const FRAME_VERSION = 1;
export const HEADER_BYTES = 32;

/** Frame kinds. Every switch over them is exhaustive. */
export const FrameKind = {
  /** A whole small message. */
  EAGER: 1,
  /** Ready-to-send: a large (or synchronous) message's envelope, no payload. */
  RTS: 2,
  /** Clear-to-send: the receiver matched an RTS and has room for the payload. */
  CTS: 3,
  /** The payload of a rendezvous message, after a CTS. */
  DATA: 4,
  /**
   * Eager flow control: the receiver has consumed `length` bytes of this
   * sender's eager messages, which the sender may now spend again.
   */
  CREDIT: 5,
  /**
   * The sender's program is done: no message (EAGER or RTS) follows on this
   * connection, only DATA for rendezvous already announced. A receive still
   * waiting for this sender can then never complete.
   */
  BYE: 6,
  /**
   * Wake up: the sender wrote into this rank's shared-memory ring while it
   * slept, or made room in a ring this rank waits on (shm-transport.ts). No
   * payload, no envelope; it goes over the socket only and stops at the
   * shared-memory transport, never reaching the p2p engine.
   */
  DOORBELL: 7,
  /**
   * The sender wrote a rendezvous payload straight into the receiver's
   * buffer (cross-memory attach, cma.ts), as the receiver's clear-to-send
   * offered: no DATA follows for this rendezvous id. No payload.
   */
  WRITTEN: 8,
  /**
   * The sender of a split rendezvous (the CTS offered SPLIT) says where the
   * tail of its payload is: the receiver reads those `length` bytes
   * straight from the sender's memory (context and collective fields: the
   * address's high and low 32 bits) into the end of its buffer while the
   * sender writes the head, and answers READ_DONE. Comes before the
   * rendezvous's WRITTEN. No payload.
   */
  READ_FROM: 9,
  /**
   * The receiver of a split rendezvous has read the tail (the sender may
   * reuse its buffer), or with flag READ_REFUSED could not (the sender then
   * writes the tail itself and sends a second WRITTEN). No payload.
   */
  READ_DONE: 10,
} as const;
export type FrameKindCode = (typeof FrameKind)[keyof typeof FrameKind];

/**
 * Flags of a CTS frame. WRITE_INTO: the receiver is on the sender's host and
 * offers its buffer for a direct write; the frame's context and collective
 * fields then hold the high and low 32 bits of the buffer's address (a CTS
 * has no envelope of its own to put there).
 */
export const CtsFlag = {
  WRITE_INTO: 1,
  /**
   * With WRITE_INTO: the receiver can also read from the sender's memory and
   * has a core to do it with (its host is not oversubscribed), so the two
   * may copy half the payload each, at once (READ_FROM).
   */
  SPLIT: 2,
} as const;

/** Flags of a READ_DONE frame. READ_REFUSED: the kernel refused the read (EPERM, ENOSYS): the sender writes the tail. */
export const ReadDoneFlag = {
  READ_REFUSED: 1,
} as const;

export function kindCarriesPayload(kind: FrameKindCode): boolean {
  switch (kind) {
    case FrameKind.EAGER:
    case FrameKind.DATA:
      return true;
    case FrameKind.RTS:
    case FrameKind.CTS:
    case FrameKind.CREDIT:
    case FrameKind.BYE:
    case FrameKind.DOORBELL:
    case FrameKind.WRITTEN:
    case FrameKind.READ_FROM:
    case FrameKind.READ_DONE:
      return false;
    default: {
      const unknownKind: never = kind;
      throw new ProtocolError(`unknown frame kind ${String(unknownKind)}`);
    }
  }
}

function isFrameKind(value: number): value is FrameKindCode {
  return value >= FrameKind.EAGER && value <= FrameKind.READ_DONE;
}

/** What a reader accepts: checked in decodeHeader before anything is allocated for a frame. */
export interface FrameReaderLimits {
  /** Largest EAGER payload accepted. */
  maxEagerBytes: number;
  /** Largest RTS/DATA length accepted. */
  maxMessageBytes: number;
}

/** A decoded header. Readers reuse one object per connection: copy what you keep. */
export interface FrameHeader {
  kind: FrameKindCode;
  payloadType: number;
  flags: number;
  context: number;
  source: number;
  tag: number;
  rendezvousId: number;
  /** The word of a collective-context message's call (coll/calls.ts), 0 for point-to-point. */
  collective: number;
  length: number;
}

export function newHeader(): FrameHeader {
  return { kind: FrameKind.EAGER, payloadType: 0, flags: 0, context: 0, source: 0, tag: 0, rendezvousId: 0, collective: 0, length: 0 };
}

const TWO_32 = 0x1_0000_0000;

export function encodeHeader(h: FrameHeader, out: Buffer = Buffer.allocUnsafe(HEADER_BYTES)): Buffer {
  encodeHeaderInto(h, out, 0);
  return out;
}

/**
 * Writes a header at `offset` of any byte array (a ring in shared memory, a
 * send buffer), byte by byte: no Buffer view per frame.
 */
export function encodeHeaderInto(h: FrameHeader, out: Uint8Array, offset: number): void {
  // Byte stores wrap what does not fit: a bad envelope must fail here, not reach a peer.
  if ((h.context >>> 0) !== h.context || (h.source | 0) !== h.source || (h.tag | 0) !== h.tag ||
      (h.rendezvousId >>> 0) !== h.rendezvousId || (h.collective >>> 0) !== h.collective ||
      !(Number.isSafeInteger(h.length) && h.length >= 0)) {
    throw new ProtocolError(`cannot encode frame header: context ${h.context}, source ${h.source}, tag ${h.tag}, ` +
      `rendezvous id ${h.rendezvousId}, collective ${h.collective} and length ${h.length} must be 32-bit integers (a non-negative length)`);
  }
  out[offset] = FRAME_VERSION;
  out[offset + 1] = h.kind;
  out[offset + 2] = h.payloadType;
  out[offset + 3] = h.flags;
  uint32Into(out, offset + 4, h.context);
  uint32Into(out, offset + 8, h.source);
  uint32Into(out, offset + 12, h.tag);
  uint32Into(out, offset + 16, h.rendezvousId);
  uint32Into(out, offset + 20, h.collective);
  uint32Into(out, offset + 24, h.length % TWO_32);
  uint32Into(out, offset + 28, Math.floor(h.length / TWO_32));
}

/** Little-endian low 32 bits of `value` (negative source and tag values as two's complement). */
function uint32Into(out: Uint8Array, at: number, value: number): void {
  out[at] = value & 0xff;
  out[at + 1] = (value >>> 8) & 0xff;
  out[at + 2] = (value >>> 16) & 0xff;
  out[at + 3] = (value >>> 24) & 0xff;
}

/**
 * Parses and validates a header in place: the one check of every frame that
 * comes in, whichever reader it came through. Throws ProtocolError for
 * anything a well-behaved peer never sends (a wrong version, an unknown kind,
 * a length beyond `limits`), before anything is allocated for it; allocates
 * nothing itself unless it throws.
 */
export function decodeHeader(buf: Uint8Array, offset: number, into: FrameHeader, limits: FrameReaderLimits): FrameHeader {
  // Byte arithmetic, not a Buffer view: this runs for every frame, and a view is an allocation.
  const version = buf[offset]!;
  if (version !== FRAME_VERSION) {
    throw new ProtocolError(`bad frame: protocol version ${version}, expected ${FRAME_VERSION} (a different mpi4ts version, or not an mpi4ts peer)`);
  }
  const kind = buf[offset + 1]!;
  if (!isFrameKind(kind)) throw new ProtocolError(`bad frame: unknown kind ${kind}`);
  const length = uint32At(buf, offset + 28) * TWO_32 + uint32At(buf, offset + 24);
  // The larger limit first: it holds for every kind; then the eager one, narrower.
  if (length > limits.maxMessageBytes) {
    throw new ProtocolError(`bad frame: length ${length} exceeds the limit of ${limits.maxMessageBytes} bytes`);
  }
  if (kind === FrameKind.EAGER && length > limits.maxEagerBytes) {
    throw new ProtocolError(`bad frame: eager payload of ${length} bytes exceeds the limit of ${limits.maxEagerBytes}`);
  }
  into.kind = kind;
  into.payloadType = buf[offset + 2]!;
  into.flags = buf[offset + 3]!;
  into.context = uint32At(buf, offset + 4);
  into.source = uint32At(buf, offset + 8) | 0;
  into.tag = uint32At(buf, offset + 12) | 0;
  into.rendezvousId = uint32At(buf, offset + 16);
  into.collective = uint32At(buf, offset + 20);
  into.length = length;
  return into;
}

/**
 * The buffer a DATA frame's payload goes into, as the receiver registered it
 * (FrameHandler.dataTarget), checked to be exactly the frame's length.
 */
export function checkedDataTarget(header: FrameHeader, target: Uint8Array): Uint8Array {
  if (target.length !== header.length) {
    throw new ProtocolError(`bad frame: DATA of ${header.length} bytes for a receive of ${target.length}`);
  }
  return target;
}

function uint32At(buf: Uint8Array, at: number): number {
  return (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24)) >>> 0;
}
