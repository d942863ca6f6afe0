/**
 * A message taken by a matched probe (MPI 4.1 sections 3.8.2 and 3.8.3):
 * comm.mprobe and comm.improbe take it out of the matching queues, so no
 * other receive (nor another thread of the program's logic, awaiting
 * something in between) can match it, and one of recv, irecv, recvInto or
 * irecvInto receives it, once. MESSAGE_NO_PROC (a probe of PROC_NULL) is
 * received any number of times, each time at once, as null.
 *
 * # Unfinished features
 * - **3.8.2**: MPI_MESSAGE_NULL as a value (a received Message says so
 *   instead: `received` is true and a second receive throws).
 */
import { ANY_TAG, MPIError, PROC_NULL } from '../base/index.js';
import { isRawBuffer, type RawBuffer } from '../codec/index.js';
import type { IncomingMessage } from './engine.js';
import { Request } from './request.js';
import type { Status } from './status.js';

/** What a Message needs of the engine: the receive that does not match (P2PEngine.mrecv). */
export interface MessageReceiver {
  mrecv(context: number, message: IncomingMessage, target: RawBuffer | null, call: string): Request<unknown>;
}

export class Message {
  /** The message, until a receive takes it; null once received (and always for MESSAGE_NO_PROC). */
  private incoming: IncomingMessage | null;

  /** @internal Messages come from comm.mprobe and comm.improbe. */
  constructor(private readonly receiver: MessageReceiver | null, private readonly context: number, incoming: IncomingMessage | null) {
    this.incoming = incoming;
  }

  /** True once a receive has taken the message (never for MESSAGE_NO_PROC). */
  get received(): boolean {
    return this.receiver !== null && this.incoming === null;
  }

  /** Receives the message's value (MPI_Mrecv); fills `status` when given. */
  recv<T = unknown>(status?: Status): Promise<T> {
    try {
      return this.receive<T>('recv', null).wait(status);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Receives the message's raw bytes into `buf` (MPI_Mrecv on a buffer); too small a buffer is MPI_ERR_TRUNCATE. */
  recvInto<B extends RawBuffer>(buf: B, status?: Status): Promise<B> {
    try {
      return this.receive<B>('recvInto', checkTarget(buf, 'recvInto')).wait(status);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Nonblocking receive of the message's value (MPI_Imrecv). */
  irecv<T = unknown>(): Request<T> {
    return this.receive<T>('irecv', null);
  }

  /** Nonblocking receive into `buf` (MPI_Imrecv on a buffer). */
  irecvInto<B extends RawBuffer>(buf: B): Request<B> {
    return this.receive<B>('irecvInto', checkTarget(buf, 'irecvInto'));
  }

  private receive<T>(call: string, target: RawBuffer | null): Request<T> {
    const receiver = this.receiver;
    if (receiver === null) return noProcReceive<T>(target);
    const incoming = this.incoming;
    if (incoming === null) {
      throw new MPIError('ERR_REQUEST', `message.${call}: this message was received already; a message from mprobe or ` +
        'improbe is received once (by one recv, irecv, recvInto or irecvInto)');
    }
    this.incoming = null;
    return receiver.mrecv(this.context, incoming, target, `message.${call}`) as Request<T>;
  }
}

/** What a receive of MESSAGE_NO_PROC gives: at once, null (or the buffer, untouched), status source PROC_NULL. */
function noProcReceive<T>(target: RawBuffer | null): Request<T> {
  const request = new Request<T>();
  const status = request.status;
  status.source = PROC_NULL;
  status.tag = ANY_TAG;
  status.count = 0;
  request._resolve((target ?? null) as T);
  return request;
}

function checkTarget(buf: unknown, call: string): RawBuffer {
  if (isRawBuffer(buf)) return buf;
  const kind = buf === null ? 'null' : typeof buf === 'object' ? (buf.constructor?.name ?? 'object') : typeof buf;
  throw new TypeError(`message.${call}: buf must be a typed array, DataView, ArrayBuffer or Buffer, got ${kind}`);
}

/** The message a matched probe of PROC_NULL gives (MPI_MESSAGE_NO_PROC): received at once, as null. */
export const MESSAGE_NO_PROC = new Message(null, -1, null);
