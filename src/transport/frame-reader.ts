/**
 * Turns a byte stream into frames. Bytes arrive in chunks of any size; a
 * header or payload may be split anywhere. Frames are handed up by synchronous
 * callback (no microtask per frame). Each header is checked by frame.ts's
 * decodeHeader, as the shared-memory ring's reader does.
 *
 * # Unfinished features
 * - A DATA payload lands in one contiguous buffer, the receive's own: no
 *   scatter into several, as MPI's derived datatypes would need (mpi4ts
 *   sends whole values and whole typed arrays only).
 */
import { checkedDataTarget, decodeHeader, FrameKind, HEADER_BYTES, kindCarriesPayload, newHeader, type FrameHeader, type FrameReaderLimits } from './frame.js';

export type { FrameReaderLimits };

export interface FrameHandler {
  /**
   * A whole frame. When `owned` is false, `payload` is a view into a read
   * buffer that is reused after the call: copy what you keep past it.
   */
  onFrame(header: FrameHeader, payload: Uint8Array | null, owned: boolean): void;
  /**
   * Where the payload of a DATA frame goes: a buffer of exactly `header.length`
   * bytes registered when the CTS was sent. Throws if none is expected.
   */
  dataTarget(header: FrameHeader): Uint8Array;
}

/**
 * A payload read straight into its destination must be at least this long;
 * shorter ones go through the read buffer, so that a stream of small frames
 * costs one read per buffer-full, not one per frame.
 */
const DIRECT_READ_MIN_BYTES = 16 * 1024;

export class FrameReader {
  private readonly header = newHeader();
  private readonly headerScratch = Buffer.allocUnsafe(HEADER_BYTES);
  private headerFill = 0;
  /** Payload being assembled across chunks, or null while reading a header. */
  private payload: Uint8Array | null = null;
  private payloadFill = 0;
  private payloadOwned = false;

  constructor(private readonly handler: FrameHandler, private readonly limits: FrameReaderLimits) {}

  /** Feeds a chunk. Throws ProtocolError on a malformed frame; the connection must then be closed. */
  push(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.length) {
      offset = this.payload === null ? this.readHeader(chunk, offset) : this.readPayload(chunk, offset);
    }
  }

  /**
   * Where the next socket read should land: the rest of the payload being
   * assembled when it is large (the kernel then copies straight into the
   * receive buffer: no copy in JavaScript), else `readBuffer`.
   */
  nextReadTarget(readBuffer: Uint8Array): Uint8Array {
    const payload = this.payload;
    if (payload !== null && payload.length - this.payloadFill >= DIRECT_READ_MIN_BYTES) {
      return payload.subarray(this.payloadFill);
    }
    return readBuffer;
  }

  /** `count` bytes were read into `target`, a buffer that nextReadTarget gave. */
  pushRead(target: Uint8Array, count: number): void {
    const payload = this.payload;
    if (payload !== null && target.buffer === payload.buffer && target.byteOffset === payload.byteOffset + this.payloadFill) {
      this.payloadFill += count;
      if (this.payloadFill === payload.length) this.finishPayload(0);
      return;
    }
    this.push(target.subarray(0, count));
  }

  /** True when the stream ended cleanly between frames. */
  get atFrameBoundary(): boolean {
    return this.headerFill === 0 && this.payload === null;
  }

  private readHeader(chunk: Uint8Array, offset: number): number {
    const available = chunk.length - offset;
    if (this.headerFill === 0 && available >= HEADER_BYTES) {
      decodeHeader(chunk, offset, this.header, this.limits);
      return this.startPayload(chunk, offset + HEADER_BYTES);
    }
    const take = Math.min(HEADER_BYTES - this.headerFill, available);
    this.headerScratch.set(chunk.subarray(offset, offset + take), this.headerFill);
    this.headerFill += take;
    if (this.headerFill < HEADER_BYTES) return offset + take;
    this.headerFill = 0;
    decodeHeader(this.headerScratch, 0, this.header, this.limits);
    return this.startPayload(chunk, offset + take);
  }

  /** After a header: deliver a payload-less frame, or set up the payload. */
  private startPayload(chunk: Uint8Array, offset: number): number {
    const h = this.header;
    if (!kindCarriesPayload(h.kind)) {
      this.handler.onFrame(h, null, false);
      return offset;
    }
    if (h.kind === FrameKind.DATA) {
      this.payload = checkedDataTarget(h, this.handler.dataTarget(h));
      this.payloadOwned = true;
    } else if (chunk.length - offset >= h.length) {
      // The whole eager payload is in this chunk: hand up a view, no copy.
      this.handler.onFrame(h, chunk.subarray(offset, offset + h.length), false);
      return offset + h.length;
    } else {
      this.payload = new Uint8Array(h.length);
      this.payloadOwned = true;
    }
    this.payloadFill = 0;
    if (h.length === 0) return this.finishPayload(offset);
    return offset;
  }

  private readPayload(chunk: Uint8Array, offset: number): number {
    const payload = this.payload!;
    const take = Math.min(payload.length - this.payloadFill, chunk.length - offset);
    payload.set(chunk.subarray(offset, offset + take), this.payloadFill);
    this.payloadFill += take;
    if (this.payloadFill < payload.length) return offset + take;
    return this.finishPayload(offset + take);
  }

  private finishPayload(offset: number): number {
    const payload = this.payload!;
    this.payload = null;
    this.payloadFill = 0;
    this.handler.onFrame(this.header, payload, this.payloadOwned);
    return offset;
  }
}
