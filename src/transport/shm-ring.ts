/**
 * A single-producer single-consumer byte ring in shared memory, and the frame
 * writer and reader on its two ends (DESIGN.md "Transports").
 *
 * The ring is a byte stream, like a socket: frames (the 32-byte header of
 * frame.ts, then the payload) are written into it in pieces as space frees,
 * so a frame may be larger than the ring. Layout, from `offset` in a buffer:
 *
 *     0 i32 head           bytes ever written (mod 2^32), stored by the producer
 *    64 i32 tail           bytes ever read (mod 2^32), stored by the consumer
 *   128 i32 writerWaiting  1: the producer sleeps with frames queued; the
 *                          consumer clears it and rings the producer's doorbell
 *   256 data               `capacity` bytes, a power of two
 *
 * Index words sit on separate cache lines so the two sides do not bounce one
 * line between cores. Atomics.load/store order the data copies against the
 * index updates (sequentially consistent, also on ARM).
 *
 * # Unfinished features
 * - No single-copy path for large messages: every byte is copied into the
 *   ring by the writer and out of it by the reader. Open MPI copies once,
 *   from the sender's memory straight into the receiver's (CMA,
 *   process_vm_readv; or XPMEM/KNEM); a large allreduce on one host spends
 *   a third of its time in these copies (DESIGN.md "Progress").
 */
import { copyInto } from '../base/index.js';
import { checkedDataTarget, decodeHeader, encodeHeader, encodeHeaderInto, FrameKind, HEADER_BYTES, kindCarriesPayload, newHeader,
  type FrameHeader, type FrameReaderLimits } from './frame.js';

export const RING_CONTROL_BYTES = 256;
const HEAD = 0;
const TAIL = 16;
const WRITER_WAITING = 32;
/** Bytes copied per step: the other side starts on a chunk while the next is copied. */
const CHUNK_BYTES = 256 * 1024;
/** Where a header that wraps round the ring's end is put together. */
const headerScratch = new Uint8Array(HEADER_BYTES);

/** Bytes a ring of `capacity` data bytes takes in the segment. */
export function ringBytes(capacity: number): number {
  return RING_CONTROL_BYTES + capacity;
}

export function checkRingCapacity(capacity: number): void {
  if (!Number.isInteger(capacity) || capacity < 64 || capacity > 2 ** 30 || (capacity & (capacity - 1)) !== 0) {
    throw new RangeError(`ring capacity ${capacity} must be a power of two from 64 to 2^30 bytes`);
  }
}

/** One end's view of a ring. */
export class Ring {
  readonly control: Int32Array;
  readonly data: Uint8Array;
  private readonly mask: number;
  /**
   * Each end keeps its own index in a field: only the producer stores head
   * and only the consumer tail, so neither needs an atomic load of its own
   * index, and a poll of an empty ring is one atomic load.
   */
  private head: number;
  private tail: number;
  /**
   * The producer's last look at tail. Space it knows is free stays free, so
   * it reloads tail only when that is not enough: the consumer stores tail
   * on every frame, and loading it each time would pull that cache line
   * across cores for every message.
   */
  private tailSeen: number;

  constructor(buffer: ArrayBufferLike, offset: number, readonly capacity: number) {
    checkRingCapacity(capacity);
    this.control = new Int32Array(buffer, offset, RING_CONTROL_BYTES / 4);
    this.data = new Uint8Array(buffer, offset + RING_CONTROL_BYTES, capacity);
    this.mask = capacity - 1;
    this.head = Atomics.load(this.control, HEAD) >>> 0;
    this.tail = Atomics.load(this.control, TAIL) >>> 0;
    this.tailSeen = this.tail;
  }

  /** Consumer: bytes written and not yet read. */
  used(): number {
    return ((Atomics.load(this.control, HEAD) >>> 0) - this.tail) >>> 0;
  }

  /** Producer: bytes that can be written now. */
  free(): number {
    this.tailSeen = Atomics.load(this.control, TAIL) >>> 0;
    return this.freeSeen();
  }

  /** Producer: room for `n` bytes, looking at tail again only if what it saw last is not enough. */
  private hasRoom(n: number): boolean {
    return this.freeSeen() >= n || this.free() >= n;
  }

  private freeSeen(): number {
    return this.capacity - ((this.head - this.tailSeen) >>> 0);
  }

  /** Consumer: nothing to read (the cheap check a spinning poll makes). */
  isEmpty(): boolean {
    return (Atomics.load(this.control, HEAD) >>> 0) === this.tail;
  }

  /** Producer: copies up to one chunk of `src` in; returns how many bytes went. */
  write(src: Uint8Array): number {
    const n = Math.min(src.length, this.free(), CHUNK_BYTES);
    if (n === 0) return 0;
    this.copyIn(src, n, this.head & this.mask);
    this.publishHead(n);
    return n;
  }

  /**
   * Producer: a whole frame, header and payload, made visible to the
   * consumer at once (one index store, and the reader never finds half a
   * frame); false, writing nothing, when it does not fit now.
   */
  writeFrame(header: FrameHeader, payload: Uint8Array | null): boolean {
    const bodyBytes = payload === null ? 0 : payload.length;
    if (bodyBytes > CHUNK_BYTES || !this.hasRoom(HEADER_BYTES + bodyBytes)) return false;
    const at = this.head & this.mask;
    if (at + HEADER_BYTES <= this.capacity) {
      encodeHeaderInto(header, this.data, at);
    } else {
      encodeHeaderInto(header, headerScratch, 0);
      this.copyIn(headerScratch, HEADER_BYTES, at);
    }
    if (bodyBytes > 0) this.copyIn(payload!, bodyBytes, (at + HEADER_BYTES) & this.mask);
    this.publishHead(HEADER_BYTES + bodyBytes);
    return true;
  }

  /** Consumer: copies up to one chunk out into `dst` from `offset` on; returns how many bytes came. */
  read(dst: Uint8Array, offset = 0): number {
    const n = Math.min(dst.length - offset, this.used(), CHUNK_BYTES);
    if (n <= 0) return 0;
    const at = this.tail & this.mask;
    const first = Math.min(n, this.capacity - at);
    dst.set(this.data.subarray(at, at + first), offset);
    if (first < n) dst.set(this.data.subarray(0, n - first), offset + first);
    this.consume(n);
    return n;
  }

  /** Consumer: where in `data` the byte `skip` bytes past the tail is. */
  offsetAt(skip: number): number {
    return (this.tail + skip) & this.mask;
  }

  /** Consumer: copies `dst.length` unread bytes from `skip` bytes past the tail, wrapping as needed; the tail stays. */
  copyOut(skip: number, dst: Uint8Array): void {
    const at = (this.tail + skip) & this.mask;
    const first = Math.min(dst.length, this.capacity - at);
    dst.set(this.data.subarray(at, at + first));
    if (first < dst.length) dst.set(this.data.subarray(0, dst.length - first), first);
  }

  /** Consumer: gives `n` bytes read in place (at offsetAt) back to the producer. */
  consume(n: number): void {
    this.tail = (this.tail + n) >>> 0;
    Atomics.store(this.control, TAIL, this.tail | 0);
  }

  /** Producer: announce (true) or withdraw that it sleeps with frames queued. */
  setWriterWaiting(waiting: boolean): void {
    Atomics.store(this.control, WRITER_WAITING, waiting ? 1 : 0);
  }

  /** Consumer: true once per announcement that the producer sleeps waiting for space. */
  takeWriterWaiting(): boolean {
    return Atomics.load(this.control, WRITER_WAITING) === 1 && Atomics.compareExchange(this.control, WRITER_WAITING, 1, 0) === 1;
  }

  /** Producer: the first `n` bytes of `src` in at data offset `at`, wrapping round the end. */
  private copyIn(src: Uint8Array, n: number, at: number): void {
    const first = Math.min(n, this.capacity - at);
    if (first === src.length) {
      copyInto(this.data, src, at);
      return;
    }
    this.data.set(src.subarray(0, first), at);
    if (first < n) this.data.set(src.subarray(first, n), 0);
  }

  /** Producer: the bytes written become the consumer's. */
  private publishHead(n: number): void {
    this.head = (this.head + n) >>> 0;
    Atomics.store(this.control, HEAD, this.head | 0);
  }
}

interface QueuedFrame {
  header: Buffer;
  payload: Uint8Array | null;
  /** Bytes of header + payload already in the ring. */
  done: number;
  onWritten: ((err?: Error | null) => void) | undefined;
}

/**
 * The producer end: frames go straight into the ring when it has room, else
 * queue in order (keeping the caller's payload, no copy) until the consumer
 * frees space.
 */
export class RingWriter {
  private readonly queue: QueuedFrame[] = [];
  private queued = 0;
  private failed: Error | null = null;

  constructor(readonly ring: Ring) {}

  /** Why this writer takes no more frames (its peer is gone), or null. */
  get failure(): Error | null {
    return this.failed;
  }

  /** Bytes accepted and not yet in the ring. */
  get queuedBytes(): number {
    return this.queued;
  }

  send(header: FrameHeader, payload: Uint8Array | null, onWritten?: (err?: Error | null) => void): void {
    if (this.failed !== null) {
      onWritten?.(this.failed);
      return;
    }
    const body = payload !== null && payload.length > 0 ? payload : null;
    if (this.sendNow(header, body)) {
      onWritten?.(null);
      return;
    }
    const frame: QueuedFrame = { header: encodeHeader(header), payload: body, done: 0, onWritten };
    this.queue.push(frame);
    this.queued += frameBytes(frame);
    this.flush();
  }

  /**
   * The common case: nothing queued and room for the whole frame, written at
   * once without allocating; false (nothing written) otherwise.
   */
  sendNow(header: FrameHeader, payload: Uint8Array | null): boolean {
    if (this.failed !== null || this.queue.length > 0) return false;
    if (this.ring.writeFrame(header, payload)) return true;
    const bodyBytes = payload?.length ?? 0;
    if (bodyBytes <= CHUNK_BYTES || this.ring.free() < HEADER_BYTES + bodyBytes) return false;
    // Larger than a chunk, and it fits: chunk by chunk, so the reader starts on one while the next is copied.
    encodeHeaderInto(header, headerScratch, 0);
    this.ring.write(headerScratch);
    this.writeAll(payload!);
    return true;
  }

  /** Moves queued frames into the ring as far as it has room; true if any byte moved. */
  flush(): boolean {
    let moved = false;
    while (this.queue.length > 0) {
      const frame = this.queue[0]!;
      const before = frame.done;
      if (!this.advance(frame)) {
        if (frame.done > before) moved = true;
        break;
      }
      moved = true;
      this.queue.shift();
      frame.onWritten?.(null);
    }
    return moved;
  }

  /** The peer is gone: fail what is queued and every later send. */
  fail(err: Error): void {
    this.failed = err;
    for (const frame of this.queue.splice(0)) frame.onWritten?.(err);
    this.queued = 0;
  }

  /** Writes bytes known to fit (in chunks). */
  private writeAll(bytes: Uint8Array): void {
    for (let done = 0; done < bytes.length;) done += this.ring.write(done === 0 ? bytes : bytes.subarray(done));
  }

  /** Writes what fits of one frame; true when it is all in. */
  private advance(frame: QueuedFrame): boolean {
    const total = frameBytes(frame);
    while (frame.done < total) {
      const n = frame.done < HEADER_BYTES
        ? this.ring.write(frame.header.subarray(frame.done))
        : this.ring.write(frame.payload!.subarray(frame.done - HEADER_BYTES));
      if (n === 0) return false;
      frame.done += n;
      this.queued -= n;
    }
    return true;
  }
}

function frameBytes(frame: QueuedFrame): number {
  return HEADER_BYTES + (frame.payload?.length ?? 0);
}

/** What the reader's fast path did with the frame at the tail. */
const WHOLE = { TAKEN: 0, NOT_YET: 1, PIECEWISE: 2 } as const;
type WholeFrame = (typeof WHOLE)[keyof typeof WHOLE];

/** Where the consumer end delivers frames (the FrameSink, for one peer). */
export interface RingFrameHandler {
  onFrame(header: FrameHeader, payload: Uint8Array | null, owned: boolean): void;
  dataTarget(header: FrameHeader): Uint8Array;
}

/**
 * The consumer end: parses frames out of the ring. An eager frame that fits
 * the ring goes up whole as a view of the ring (or of a scratch buffer when
 * it wraps round the end), valid during onFrame only: the engine copies it
 * into the receive's buffer, or keeps a copy. A frame larger than the ring is
 * copied out piecewise into a fresh buffer the receiver owns. DATA payloads
 * go straight into the buffer the receive registered (recvInto's own buffer).
 * Either way, one copy.
 */
export class RingReader {
  private readonly header = newHeader();
  private readonly headerBytes = Buffer.allocUnsafe(HEADER_BYTES);
  private headerFill = 0;
  private payload: Uint8Array | null = null;
  private payloadFill = 0;
  /** Where a whole eager frame that wraps round the ring's end is put together. */
  private scratch = new Uint8Array(4096);

  constructor(readonly ring: Ring, private readonly handler: RingFrameHandler, private readonly limits: FrameReaderLimits) {}

  /** True when no frame is half read. */
  get atFrameBoundary(): boolean {
    return this.headerFill === 0 && this.payload === null;
  }

  /**
   * Reads what the ring holds, delivering up to `maxFrames` frames; true if
   * any byte was read. Throws ProtocolError on a malformed frame.
   */
  poll(maxFrames = 64): boolean {
    let moved = false;
    let frames = 0;
    if (this.ring.isEmpty()) return false;
    while (frames < maxFrames) {
      if (this.atFrameBoundary) {
        const taken = this.takeWholeFrame();
        if (taken === WHOLE.TAKEN) {
          moved = true;
          frames++;
          continue;
        }
        if (taken === WHOLE.NOT_YET) break;
      }
      if (this.payload === null) {
        const n = this.ring.read(this.headerBytes, this.headerFill);
        if (n === 0) break;
        moved = true;
        this.headerFill += n;
        if (this.headerFill < HEADER_BYTES) break;
        this.headerFill = 0;
        if (this.startFrame()) frames++;
      } else {
        const n = this.ring.read(this.payload, this.payloadFill);
        if (n === 0) break;
        moved = true;
        this.payloadFill += n;
        if (this.payloadFill === this.payload.length) {
          this.finishFrame();
          frames++;
        }
      }
    }
    return moved;
  }

  /**
   * The fast path: a payload-less or eager frame that fits the ring is
   * delivered once it is all there, as a view of the ring (or, when it wraps
   * round the end, of a reused scratch buffer), not owned: the receiver
   * copies what it keeps. Its bytes go back to the writer after onFrame. No
   * allocation, one copy. Waiting for the whole frame (NOT_YET) cannot stall
   * the writer: the frame fits, so everything before it has been read.
   * PIECEWISE leaves DATA frames and frames larger than the ring to the
   * piecewise path.
   */
  private takeWholeFrame(): WholeFrame {
    const ring = this.ring;
    const available = ring.used();
    if (available < HEADER_BYTES) return WHOLE.NOT_YET;
    const at = ring.offsetAt(0);
    let h: FrameHeader;
    if (at + HEADER_BYTES <= ring.capacity) {
      h = decodeHeader(ring.data, at, this.header, this.limits);
    } else {
      // The header wraps round the end of the ring.
      ring.copyOut(0, this.headerBytes);
      h = decodeHeader(this.headerBytes, 0, this.header, this.limits);
    }
    if (h.kind === FrameKind.DATA) return WHOLE.PIECEWISE;
    if (!kindCarriesPayload(h.kind)) {
      ring.consume(HEADER_BYTES);
      this.handler.onFrame(h, null, false);
      return WHOLE.TAKEN;
    }
    // An eager frame, whose length decodeHeader has held to the eager limit.
    if (HEADER_BYTES + h.length > ring.capacity) return WHOLE.PIECEWISE;
    if (available < HEADER_BYTES + h.length) return WHOLE.NOT_YET;
    const payloadAt = ring.offsetAt(HEADER_BYTES);
    const payload = payloadAt + h.length <= ring.capacity
      ? ring.data.subarray(payloadAt, payloadAt + h.length)
      : this.wrappedPayload(h.length);
    this.handler.onFrame(h, payload, false);
    ring.consume(HEADER_BYTES + h.length);
    return WHOLE.TAKEN;
  }

  /** A payload that wraps round the end of the ring, copied whole into the scratch buffer. */
  private wrappedPayload(length: number): Uint8Array {
    if (this.scratch.length < length) this.scratch = new Uint8Array(Math.max(length, this.scratch.length * 2));
    const payload = this.scratch.subarray(0, length);
    this.ring.copyOut(HEADER_BYTES, payload);
    return payload;
  }

  /** After a header: deliver a payload-less frame (true), or set up its payload. */
  private startFrame(): boolean {
    const h = decodeHeader(this.headerBytes, 0, this.header, this.limits);
    if (!kindCarriesPayload(h.kind)) {
      this.handler.onFrame(h, null, false);
      return true;
    }
    if (h.kind === FrameKind.DATA) {
      this.payload = checkedDataTarget(h, this.handler.dataTarget(h));
    } else {
      this.payload = new Uint8Array(h.length);
    }
    this.payloadFill = 0;
    if (h.length > 0) return false;
    this.finishFrame();
    return true;
  }

  private finishFrame(): void {
    const payload = this.payload!;
    this.payload = null;
    this.payloadFill = 0;
    this.handler.onFrame(this.header, payload, true);
  }
}
