/**
 * The point-to-point engine: eager and rendezvous protocols over a Transport,
 * and MPI matching per context (DESIGN.md "Messages").
 *
 * - A message up to `eagerThreshold` bytes goes whole in one EAGER frame.
 * - A larger one, and every synchronous send, goes as RTS; the receiver
 *   answers CTS once a receive matches, and the payload follows as DATA,
 *   written straight into the receive buffer. A fast sender therefore never
 *   fills a slow receiver's memory, and ssend completes exactly at the match.
 */
import { PROC_NULL } from '../constants.js';
import { JobError, MPIError, TruncationError } from '../errors.js';
import { BytesOwner, copyBytes, copyInto, decode, encode, bytesOf, payloadTypeName, isStructured, type BytesOwnerCode, type RawBuffer } from '../codec/index.js';
import { FrameKind, newHeader, type FrameHeader, type FrameSink, type Transport } from '../transport/index.js';
import type { Progress } from '../runtime/progress.js';
import { envelopeMatches, MatchQueues } from './matching.js';
import { Request, type Cancellable } from './request.js';
import { Status } from './status.js';

/** Where a message came from, for replies (CTS) and failure handling. */
interface IncomingMessage {
  source: number;
  tag: number;
  payloadType: number;
  byteLength: number;
  fromWorld: number;
  /** The whole payload for an eager message; null for a rendezvous one. */
  eager: Uint8Array | null;
  owned: boolean;
  /** Rendezvous id chosen by the sender. */
  rendezvousId: number;
  /** For messages to oneself sent by rendezvous: hand over the bytes. */
  local: { bytes: Uint8Array; onMatched: () => void } | null;
}

/** A receive waiting for its message; it can take itself back (MPI_Cancel) until one matches. */
class PostedReceive implements Cancellable {
  constructor(
    readonly source: number,
    readonly tag: number,
    /** World rank of the expected sender, or -1 for ANY_SOURCE. */
    readonly sourceWorld: number,
    readonly target: RawBuffer | null,
    readonly request: Request<unknown>,
    private readonly queues: MatchQueues<PostedReceive, IncomingMessage>,
    private readonly progress: Progress,
  ) {}

  cancel(): boolean {
    if (!this.queues.withdraw(this)) return false;
    this.progress.end();
    const status = this.request.status;
    status.cancelled = true;
    status.source = this.source;
    status.tag = this.tag;
    this.request._resolve(null);
    return true;
  }
}

interface PendingRendezvousSend {
  dest: number;
  bytes: Uint8Array;
  request: Request<void>;
}

interface PendingData {
  target: Uint8Array;
  finish: (bytes: Uint8Array) => void;
  fail: (err: Error) => void;
}

interface ProbeWaiter {
  source: number;
  tag: number;
  sourceWorld: number;
  resolve: (message: IncomingMessage) => void;
  reject: (err: Error) => void;
}

export interface EngineOptions {
  eagerThreshold: number;
}

/** Rendezvous keys combine a sender's world rank and its id in one number. */
const RDV_KEY_SPAN = 0x1_0000_0000;

export class P2PEngine implements FrameSink {
  private readonly contexts = new Map<number, MatchQueues<PostedReceive, IncomingMessage>>();
  private readonly probeWaiters = new Map<number, ProbeWaiter[]>();
  private readonly pendingSends = new Map<number, PendingRendezvousSend>();
  private readonly pendingData = new Map<number, PendingData>();
  private nextRendezvousId = 1;
  private lastContext = -1;
  private lastQueues: MatchQueues<PostedReceive, IncomingMessage> | null = null;
  private transport: Transport | null = null;

  constructor(
    readonly worldRank: number,
    private readonly progress: Progress,
    private readonly options: EngineOptions,
  ) {}

  attach(transport: Transport): void {
    this.transport = transport;
  }

  /**
   * Starts a send. `source` is the sender's rank in the communicator (what the
   * receiver matches on); `destWorld` is where the frame goes.
   * Throws a TypeError, sending nothing, for a value that cannot be encoded.
   */
  isend(context: number, source: number, destWorld: number, tag: number, value: unknown, sync: boolean): Request<void> {
    const request = new Request<void>();
    if (destWorld === PROC_NULL) {
      request._resolve(undefined);
      return request;
    }
    const payload = encode(value);
    if (destWorld === this.worldRank) {
      this.sendToSelf(context, source, tag, payload.type, payload.bytes, payload.owner, sync, request);
    } else if (!sync && payload.bytes.length <= this.options.eagerThreshold) {
      this.sendEager(context, source, destWorld, tag, payload.type, payload.bytes, payload.owner, request);
    } else {
      // The bytes wait for the receiver's clear-to-send: the encoder's scratch would be reused by then.
      const bytes = payload.owner === BytesOwner.SCRATCH ? copyBytes(payload.bytes) : payload.bytes;
      this.sendRendezvous(context, source, destWorld, tag, payload.type, bytes, request);
    }
    return request;
  }

  /** Posts a receive; `target` makes it a receive into a caller's buffer. */
  irecv(context: number, source: number, sourceWorld: number, tag: number, target: RawBuffer | null): Request<unknown> {
    const request = new Request<unknown>();
    if (source === PROC_NULL) {
      request.status.source = PROC_NULL;
      request._resolve(target ?? null);
      return request;
    }
    const queues = this.queuesOf(context);
    const posted = new PostedReceive(source, tag, sourceWorld, target, request, queues, this.progress);
    const message = queues.post(posted);
    if (message !== undefined) {
      this.deliver(message, posted);
      return request;
    }
    this.progress.begin();
    request._onCancel(posted);
    return request;
  }

  /** A message waiting to be received, left in place (MPI_Iprobe). */
  iprobe(context: number, source: number, tag: number, status?: Status): boolean {
    if (source === PROC_NULL) {
      if (status !== undefined) status.source = PROC_NULL;
      return true;
    }
    const message = this.contexts.get(context)?.peek(source, tag);
    if (message === undefined) return false;
    if (status !== undefined) fillStatus(status, message);
    return true;
  }

  /** Waits until a matching message is there, without receiving it (MPI_Probe). */
  probe(context: number, source: number, sourceWorld: number, tag: number): Promise<Status> {
    const status = new Status();
    if (this.iprobe(context, source, tag, status)) return Promise.resolve(status);
    this.progress.begin();
    return new Promise<Status>((resolve, reject) => {
      const waiters = this.probeWaiters.get(context) ?? [];
      this.probeWaiters.set(context, waiters);
      waiters.push({
        source, tag, sourceWorld,
        resolve: (message) => {
          this.progress.end();
          resolve(fillStatus(status, message));
        },
        reject: (err) => {
          this.progress.end();
          reject(err);
        },
      });
    });
  }

  // ---- FrameSink: frames from the transport ----

  onFrame(from: number, header: FrameHeader, payload: Uint8Array | null, owned: boolean): void {
    this.progress.activity();
    switch (header.kind) {
      case FrameKind.EAGER:
        this.arrive(header.context, {
          source: header.source, tag: header.tag, payloadType: header.payloadType, byteLength: header.length,
          fromWorld: from, eager: payload, owned, rendezvousId: 0, local: null,
        });
        return;
      case FrameKind.RTS:
        this.arrive(header.context, {
          source: header.source, tag: header.tag, payloadType: header.payloadType, byteLength: header.length,
          fromWorld: from, eager: null, owned: false, rendezvousId: header.rendezvousId, local: null,
        });
        return;
      case FrameKind.CTS:
        this.clearToSend(from, header.rendezvousId);
        return;
      case FrameKind.DATA: {
        const key = from * RDV_KEY_SPAN + header.rendezvousId;
        const pending = this.pendingData.get(key);
        this.pendingData.delete(key);
        pending?.finish(payload!);
        return;
      }
      default: {
        const unknownKind: never = header.kind;
        throw new MPIError('ERR_INTERN', `unhandled frame kind ${String(unknownKind)}`);
      }
    }
  }

  dataTarget(from: number, header: FrameHeader): Uint8Array {
    const pending = this.pendingData.get(from * RDV_KEY_SPAN + header.rendezvousId);
    if (pending === undefined) throw new MPIError('ERR_INTERN', `rank ${from} sent data for rendezvous ${header.rendezvousId}, which no receive asked for`);
    return pending.target;
  }

  onPeerLost(rank: number, reason: Error): void {
    const err = new JobError(`rank ${rank} is gone: ${reason.message}`, { cause: reason });
    for (const queues of this.contexts.values()) {
      for (const posted of [...queues.postedReceives]) {
        if (posted.sourceWorld === rank && queues.withdraw(posted)) {
          this.progress.end();
          posted.request._reject(err);
        }
      }
    }
    for (const [id, send] of this.pendingSends) {
      if (send.dest !== rank) continue;
      this.pendingSends.delete(id);
      this.progress.end();
      send.request._reject(err);
    }
    for (const [key, data] of this.pendingData) {
      if (Math.floor(key / RDV_KEY_SPAN) !== rank) continue;
      this.pendingData.delete(key);
      data.fail(err);
    }
    for (const waiters of this.probeWaiters.values()) {
      for (const w of waiters.filter((x) => x.sourceWorld === rank)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.reject(err);
      }
    }
  }

  /** True when nothing is pending in either direction (used at finalisation). */
  get idle(): boolean {
    return this.pendingSends.size === 0 && this.pendingData.size === 0;
  }

  // ---- sending ----

  private sendEager(context: number, source: number, dest: number, tag: number, type: number,
    bytes: Uint8Array, owner: BytesOwnerCode, request: Request<void>): void {
    const transport = this.transport!;
    const header = frameHeader(FrameKind.EAGER, context, source, tag, type, bytes.length, 0);
    if (owner === BytesOwner.FRESH) {
      transport.send(dest, header, bytes);
    } else if (!transport.trySend(dest, header, bytes)) {
      // Not written at once (a full shared-memory ring): the frame waits for room.
      if (owner === BytesOwner.SCRATCH) {
        // With bytes of its own: the encoder reuses its scratch.
        transport.send(dest, header, copyBytes(bytes));
      } else {
        this.sendCallerBytesLater(dest, header, bytes, request);
        return;
      }
    }
    if (transport.writable(dest)) {
      request._resolve(undefined);
      return;
    }
    // Bound what piles up in user space when the peer reads slower than we write.
    this.progress.begin();
    transport.whenWritable(dest).then(() => {
      this.progress.end();
      request._resolve(undefined);
    });
  }

  /**
   * The caller's buffer waits for room in the ring, uncopied; the send
   * completes once it is in and the caller may change it: an operation
   * pending on the network, for the progress engine.
   */
  private sendCallerBytesLater(dest: number, header: FrameHeader, bytes: Uint8Array, request: Request<void>): void {
    // begin() only schedules polling, never polls: no frame can arrive and reuse `header` before send().
    this.progress.begin();
    this.transport!.send(dest, header, bytes, (err) => {
      this.progress.end();
      if (err === undefined || err === null) request._resolve(undefined);
      else request._reject(err);
    });
  }

  private sendRendezvous(context: number, source: number, dest: number, tag: number, type: number,
    bytes: Uint8Array, request: Request<void>): void {
    const id = this.nextRendezvousId;
    this.nextRendezvousId = id >= 0xffff_ffff ? 1 : id + 1;
    this.pendingSends.set(id, { dest, bytes, request });
    this.progress.begin();
    this.transport!.send(dest, frameHeader(FrameKind.RTS, context, source, tag, type, bytes.length, id), null);
  }

  private clearToSend(from: number, id: number): void {
    const send = this.pendingSends.get(id);
    if (send === undefined || send.dest !== from) {
      throw new MPIError('ERR_INTERN', `rank ${from} sent clear-to-send for unknown rendezvous ${id}`);
    }
    this.pendingSends.delete(id);
    const header = frameHeader(FrameKind.DATA, 0, 0, 0, 0, send.bytes.length, id);
    this.transport!.send(from, header, send.bytes, (err) => {
      this.progress.end();
      if (err === undefined || err === null) send.request._resolve(undefined);
      else send.request._reject(err);
    });
  }

  private sendToSelf(context: number, source: number, tag: number, type: number, bytes: Uint8Array,
    owner: BytesOwnerCode, sync: boolean, request: Request<void>): void {
    // Bytes of its own now (fresh ones already are): standard-mode send to oneself must not wait
    // for the receive (it would deadlock a lone rank).
    const copy = owner === BytesOwner.FRESH ? bytes : copyBytes(bytes);
    const message: IncomingMessage = {
      source, tag, payloadType: type, byteLength: copy.length, fromWorld: this.worldRank,
      eager: sync ? null : copy, owned: true, rendezvousId: 0, local: null,
    };
    if (sync) {
      this.progress.begin();
      message.local = {
        bytes: copy,
        onMatched: () => {
          this.progress.end();
          request._resolve(undefined);
        },
      };
    } else {
      request._resolve(undefined);
    }
    this.arrive(context, message);
  }

  // ---- receiving ----

  private arrive(context: number, message: IncomingMessage): void {
    const queues = this.queuesOf(context);
    const posted = queues.arrive(message);
    if (posted !== undefined) {
      this.progress.end();
      this.deliver(message, posted);
      return;
    }
    // Unexpected: the payload may be a view into the transport's read buffer, reused after this call.
    if (message.eager !== null && !message.owned) {
      message.eager = copyBytes(message.eager);
      message.owned = true;
    }
    this.wakeProbes(context, message);
  }

  private deliver(message: IncomingMessage, posted: PostedReceive): void {
    const request = posted.request;
    fillStatus(request.status, message);
    const problem = this.checkTarget(message, posted);
    if (message.eager !== null) {
      if (problem !== null) request._reject(problem);
      else this.complete(request, message.payloadType, message.eager, message.owned, posted.target, false);
      return;
    }
    // Rendezvous: choose where the payload lands, then ask for it.
    const target = problem === null && posted.target !== null
      ? bytesOf(posted.target).subarray(0, message.byteLength)
      : new Uint8Array(message.byteLength);
    const finish = (bytes: Uint8Array): void => {
      this.progress.end();
      if (problem !== null) request._reject(problem);
      else this.complete(request, message.payloadType, bytes, true, posted.target, true);
    };
    this.progress.begin();
    if (message.local !== null) {
      target.set(message.local.bytes);
      message.local.onMatched();
      finish(target);
      return;
    }
    this.pendingData.set(message.fromWorld * RDV_KEY_SPAN + message.rendezvousId, {
      target, finish,
      fail: (err) => {
        this.progress.end();
        request._reject(err);
      },
    });
    this.transport!.send(message.fromWorld, frameHeader(FrameKind.CTS, 0, 0, 0, 0, 0, message.rendezvousId), null);
  }

  /** Why a message cannot land in a receive's buffer, or null when it can. */
  private checkTarget(message: IncomingMessage, posted: PostedReceive): MPIError | null {
    const target = posted.target;
    if (target === null) return null;
    if (isStructured(message.payloadType)) {
      return new MPIError('ERR_TYPE', `recvInto: the message from rank ${message.source} (tag ${message.tag}) is a structured value, ` +
        'not raw bytes; receive it with recv(), or send a typed array');
    }
    if (message.byteLength > target.byteLength) {
      return new TruncationError(`recvInto: message of ${message.byteLength} bytes (${payloadTypeName(message.payloadType)}) from rank ` +
        `${message.source} (tag ${message.tag}) does not fit the ${target.byteLength}-byte buffer (MPI_ERR_TRUNCATE)`);
    }
    return null;
  }

  /**
   * Completes a receive with its payload. `landed`: the bytes already are in
   * the receive's buffer (a rendezvous payload is written straight there).
   */
  private complete(request: Request<unknown>, type: number, bytes: Uint8Array, owned: boolean,
    target: RawBuffer | null, landed: boolean): void {
    if (target !== null) {
      if (!landed) copyInto(bytesOf(target), bytes);
      request._resolve(target);
      return;
    }
    try {
      request._resolve(decode(type, bytes, owned));
    } catch (err) {
      request._reject(err);
    }
  }

  private wakeProbes(context: number, message: IncomingMessage): void {
    const waiters = this.probeWaiters.get(context);
    if (waiters === undefined) return;
    for (let i = 0; i < waiters.length;) {
      const w = waiters[i]!;
      if (envelopeMatches(w.source, w.tag, message.source, message.tag)) {
        waiters.splice(i, 1);
        w.resolve(message);
      } else {
        i++;
      }
    }
  }

  private queuesOf(context: number): MatchQueues<PostedReceive, IncomingMessage> {
    // Most programs talk in one communicator at a time: skip the map for a run of them.
    if (context === this.lastContext) return this.lastQueues!;
    let queues = this.contexts.get(context);
    if (queues === undefined) {
      queues = new MatchQueues();
      this.contexts.set(context, queues);
    }
    this.lastContext = context;
    this.lastQueues = queues;
    return queues;
  }
}

/**
 * The header of the frame being sent. One object for every send: transports
 * encode the header during send() and never keep it.
 */
const outgoingHeader = newHeader();

function frameHeader(kind: FrameHeader['kind'], context: number, source: number, tag: number,
  payloadType: number, length: number, rendezvousId: number): FrameHeader {
  const h = outgoingHeader;
  h.kind = kind;
  h.context = context;
  h.source = source;
  h.tag = tag;
  h.payloadType = payloadType;
  h.length = length;
  h.rendezvousId = rendezvousId;
  return h;
}

function fillStatus(status: Status, message: IncomingMessage): Status {
  status.source = message.source;
  status.tag = message.tag;
  status.count = message.byteLength;
  return status;
}
