/**
 * Buffered mode (MPI 4.1 sections 3.4 and 3.6): bsend completes at once,
 * whatever the receiver does, because the message is kept in a buffer the
 * program attached (MPI.attachBuffer); too little room left there is the
 * program's error (MPI_ERR_BUFFER), not a wait.
 *
 * What is observable of MPI's buffer is kept; the memory is not. The engine
 * needs no buffer to let a send complete early (an eager message is in the
 * ring or socket when the send returns, and one that must wait gets bytes of
 * its own), so the attached memory is never written: only its size counts.
 * Each bsend reserves its encoded size plus BSEND_OVERHEAD until its real
 * send completes (the frame written, or the rendezvous data handed over),
 * then the room is free again; detachBuffer waits for every reserved message.
 *
 * The buffer is the process's, as MPI's MPI_Buffer_attach: one at a time.
 *
 * # Unfinished features
 * - **3.6.1** (MPI 4.1): buffers per communicator or session
 *   (MPI_Comm_attach_buffer, MPI_Session_attach_buffer), MPI_BUFFER_AUTOMATIC
 *   and MPI_Buffer_flush / MPI_Buffer_iflush.
 */
import { MPIError, PROC_NULL } from '../base/index.js';
import { BytesOwner, type EncodedPayload } from '../codec/index.js';
import { encodeFor, type P2PEngine } from './engine.js';
import { Request } from './request.js';

/**
 * Bytes of the attached buffer each buffered message takes beyond its own
 * (MPI_BSEND_OVERHEAD). MPI promises only that a buffer of the messages'
 * sizes plus this much for each suffices; 128, as Open MPI's, so a program
 * that sizes its buffer for Open MPI needs no change here.
 */
export const BSEND_OVERHEAD = 128;

/** What attachBuffer takes: a size in bytes, or memory whose size counts. */
export type AttachedMemory = number | ArrayBuffer | Uint8Array;

class AttachedBuffer {
  /** Bytes reserved by buffered messages whose send has not completed. */
  used = 0;
  /** Those messages. */
  inFlight = 0;
  private drainedWaiters: (() => void)[] = [];

  constructor(readonly given: AttachedMemory, readonly capacity: number) {}

  reserve(bytes: number): void {
    this.used += bytes;
    this.inFlight++;
  }

  release(bytes: number): void {
    this.used -= bytes;
    this.inFlight--;
    if (this.inFlight === 0) for (const w of this.drainedWaiters.splice(0)) w();
  }

  /** Resolves once every reserved message has been delivered. */
  drained(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainedWaiters.push(resolve));
  }
}

let attached: AttachedBuffer | null = null;

/**
 * Gives buffered sends room (MPI_Buffer_attach): `buffer` is a size in bytes,
 * or an ArrayBuffer or Uint8Array whose byteLength is that size (it is never
 * written: see the module's header). One buffer at a time.
 */
export function attachBuffer(buffer: AttachedMemory): void {
  let capacity: number;
  if (typeof buffer === 'number') {
    if (!Number.isSafeInteger(buffer) || buffer < 0) {
      throw new MPIError('ERR_ARG', `attachBuffer: size ${String(buffer)} is not a number of bytes (an integer >= 0)`);
    }
    capacity = buffer;
  } else if (buffer instanceof ArrayBuffer || buffer instanceof Uint8Array) {
    capacity = buffer.byteLength;
  } else {
    const got = buffer === null ? 'null' : typeof buffer === 'object' ? ((buffer as object).constructor?.name ?? 'object') : typeof buffer;
    throw new TypeError(`attachBuffer: buffer must be a size in bytes, an ArrayBuffer or a Uint8Array, got ${got}`);
  }
  if (attached !== null) {
    throw new MPIError('ERR_BUFFER', `attachBuffer: a buffer of ${attached.capacity} bytes is attached already; ` +
      'await MPI.detachBuffer() before attaching another (MPI allows one at a time)');
  }
  attached = new AttachedBuffer(buffer, capacity);
}

/**
 * Takes the buffer back (MPI_Buffer_detach): from now on bsend fails for
 * want of a buffer, and the promise resolves, with what was attached, once
 * every buffered message sent from it has been delivered. Null when none
 * was attached.
 */
export function detachBuffer(): Promise<AttachedMemory | null> {
  const space = attached;
  if (space === null) return Promise.resolve(null);
  attached = null;
  return space.drained().then(() => space.given);
}

/** The attached buffer's size, bytes reserved and messages in flight; null without one (for tests). */
export function bufferSpace(): { capacity: number; used: number; inFlight: number } | null {
  return attached === null ? null : { capacity: attached.capacity, used: attached.used, inFlight: attached.inFlight };
}

/**
 * A buffered send (MPI_Ibsend): `request` completes at once; the message
 * takes room in the attached buffer until its send completes. Throws,
 * sending nothing, without a buffer or without room.
 */
export function bufferedSend(engine: Pick<P2PEngine, 'isendEncoded'>, context: number, source: number, destWorld: number,
  tag: number, value: unknown, call: string, request: Request<void>): Request<void> {
  const space = attached;
  if (space === null) {
    throw new MPIError('ERR_BUFFER', `${call}: no buffer is attached for buffered sends; call MPI.attachBuffer(bytes) first, ` +
      `with room for every message in flight plus MPI.BSEND_OVERHEAD (${BSEND_OVERHEAD}) bytes each`);
  }
  if (destWorld === PROC_NULL) {
    request._resolve(undefined);
    return request;
  }
  const payload = encodeFor(call, value);
  const cost = payload.bytes.length + BSEND_OVERHEAD;
  if (space.used + cost > space.capacity) {
    throw new MPIError('ERR_BUFFER', `${call}: the attached buffer has ${space.capacity - space.used} of its ${space.capacity} bytes free ` +
      `(${space.inFlight} buffered message(s) not delivered yet), and this message needs ${cost} ` +
      `(${payload.bytes.length} bytes + MPI.BSEND_OVERHEAD ${BSEND_OVERHEAD}); attach a larger buffer`);
  }
  space.reserve(cost);
  // The caller may change its array as soon as bsend returns: bytes it owns go as scratch, copied if they must wait.
  const send = engine.isendEncoded(context, source, destWorld, tag, volatileBytes(payload), false, call, 0, new Request<void>());
  // A closure per buffered message: bsend is the mode that copies, not the hot path.
  send._whenDone(() => space.release(cost));
  request._resolve(undefined);
  return request;
}

/**
 * The payload with the caller's bytes marked as scratch: the engine then
 * copies them exactly when the send cannot take them at once (a rendezvous,
 * a full ring), so the caller may change them as soon as the call returns.
 */
export function volatileBytes(payload: EncodedPayload): EncodedPayload {
  return payload.owner === BytesOwner.CALLER ? { type: payload.type, bytes: payload.bytes, owner: BytesOwner.SCRATCH } : payload;
}
