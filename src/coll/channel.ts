/**
 * What a collective algorithm sees of the world: its rank, the size, and
 * ordered sends and receives to the other ranks of one collective call.
 *
 * Every message of one call carries the same tag, the communicator's
 * collective sequence number, in the communicator's collective context: so
 * user traffic never matches it, and two calls started without awaiting
 * never cross-match. Messages between one pair of ranks stay in order, so an
 * algorithm may send several messages to one peer under that tag.
 *
 * Errors travel with the data: a rank that cannot contribute (bad input, a
 * value that cannot be sent, a failing op) sends a failure marker in place
 * of its data, and the algorithm still runs its whole pattern, so no rank
 * waits for a message that never comes and every rank whose result depends
 * on the bad input learns why.
 *
 * An intercommunicator's collectives (inter.ts) take two channels, one to
 * each group (InterChannels).
 *
 * # Unfinished features
 * None of its own.
 */
import { isRawBuffer, type RawBuffer } from '../codec/index.js';
import { CollectiveMismatchError, JobError, MPIError, ProtocolError, type ErrorClassName } from '../base/index.js';
import { mismatchWords } from './calls.js';

/** A failure in place of a value; `origin` is the rank that detected it. */
export class Failure {
  constructor(
    readonly kind: 'TypeError' | 'RangeError' | 'MPIError' | 'CollectiveMismatchError' | 'Error',
    readonly message: string,
    readonly errorClass: ErrorClassName | null,
    readonly origin: number,
  ) {}

  static of(err: unknown, origin: number): Failure {
    if (err instanceof CollectiveMismatchError) return new Failure('CollectiveMismatchError', err.message, err.errorClass, origin);
    if (err instanceof MPIError) return new Failure('MPIError', err.message, err.errorClass, origin);
    if (err instanceof TypeError) return new Failure('TypeError', err.message, null, origin);
    if (err instanceof RangeError) return new Failure('RangeError', err.message, null, origin);
    return new Failure('Error', err instanceof Error ? err.message : String(err), null, origin);
  }

  /** The error a rank throws; on other ranks than the origin it says where it happened. */
  toError(call: string, rank: number): Error {
    // The engine already names the call in what it throws for a message of it: say it once.
    const own = this.message.startsWith(`${call}: `) ? this.message.slice(call.length + 2) : this.message;
    const text = this.origin === rank ? `${call}: ${own}` : `${call}: rank ${this.origin} failed: ${own}`;
    switch (this.kind) {
      case 'TypeError': return new TypeError(text);
      case 'RangeError': return new RangeError(text);
      case 'MPIError': return new MPIError(this.errorClass ?? 'ERR_OTHER', text);
      // Unlike other subclasses, this one travels: on every rank the call failed for the same reason.
      case 'CollectiveMismatchError': return new CollectiveMismatchError(text);
      default: return new Error(text);
    }
  }
}

export interface Channel {
  readonly rank: number;
  readonly size: number;
  /** First failure this rank sent, received or made; the call throws it at the end. */
  failure: Failure | null;
  /**
   * Each rank's host, as small integers alike on every rank (index r: rank
   * r's), where the communicator knows them; two-level algorithms
   * (hierarchy.ts) run on them. Null or absent: treated as one host.
   */
  readonly hosts?: readonly number[] | null;
  /** This rank as the failures it makes name it, where that is not `rank` (a level of a two-level call). */
  readonly origin?: number;
  /** Sends a value or a failure; a value that cannot be encoded goes as a failure instead. */
  send(dest: number, value: unknown): Promise<void>;
  /**
   * Receives a value, or a Failure (also recorded in `failure`). `T` is what
   * the algorithm expects from that peer: every rank of a call runs the same
   * algorithm on the same kind of input (MPI's SPMD rule), so a peer sends
   * what this rank would; a Failure is the one thing that may come instead.
   */
  recv<T = unknown>(source: number): Promise<T | Failure>;
  /**
   * Receives raw bytes into `target`, resolving with their count, or with a
   * Failure (also recorded in `failure`): the peer's failure marker sent in
   * place of its data, or this rank's own, when more bytes came than
   * `target` holds (ERR_TRUNCATE) or a value came instead of raw data.
   */
  recvInto(source: number, target: RawBuffer): Promise<number | Failure>;
  /**
   * Moves this rank's messages along without yielding (the engine polls its
   * rings once), for an algorithm that holds the event loop through a long
   * copy while messages it posted wait for their handshakes. Absent: nothing
   * to move (an in-memory fake).
   */
  progress?(): void;
  /**
   * As recvInto, except that a value the peer sent in place of raw data
   * (other than a failure marker) resolves as `{ instead: value }`, for the
   * algorithm to judge, instead of failing this rank: how bcastInto's root
   * announces the pattern it chose, at no cost to the pattern that sends
   * raw data at once (bcast-scatter-allgather.ts).
   */
  recvIntoOrValue(source: number, target: RawBuffer): Promise<number | Failure | Instead>;
}

/**
 * Wire form: raw buffers and primitives travel bare (raw bytes, or the
 * codec's codes of their own: no structured clone, which costs microseconds
 * per message), other values inside a one-item array, failures as an object.
 */
type Wire = RawBuffer | Primitive | [unknown] | { failed: [Failure['kind'], string, ErrorClassName | null, number] };
type Primitive = number | string | boolean | bigint | null | undefined;

function isPrimitive(value: unknown): value is Primitive {
  return value === null || (typeof value !== 'object' && typeof value !== 'function' && typeof value !== 'symbol');
}

export function toWire(value: unknown): Wire {
  if (value instanceof Failure) return { failed: [value.kind, value.message, value.errorClass, value.origin] };
  return isRawBuffer(value) || isPrimitive(value) ? value : [value];
}

export function fromWire(wire: unknown): unknown {
  if (isRawBuffer(wire) || isPrimitive(wire)) return wire;
  if (Array.isArray(wire)) return wire[0];
  const failed = (wire as { failed: [Failure['kind'], string, ErrorClassName | null, number] }).failed;
  return new Failure(failed[0], failed[1], failed[2], failed[3]);
}

/** A value that came where raw bytes were expected. */
export interface Instead {
  instead: unknown;
}

/** Low-level message passing a channel is built on (the p2p engine, or a fake in unit tests). */
export interface Link {
  isend(dest: number, wire: unknown): PromiseLike<void>;
  irecv(source: number): PromiseLike<unknown>;
  /**
   * Resolves with the number of bytes received; or, when the peer sent a
   * structured value rather than raw bytes (a failure marker in its wire
   * form), with that value as `{ instead }`.
   */
  irecvInto(source: number, target: RawBuffer): PromiseLike<number | Instead>;
  /** Channel.progress. */
  progress?(): void;
}

/** What says where a call stands, for a mismatch's error (CollectiveEndpoint.collectivePlace). */
export interface CallPlace {
  collectivePlace?(tag: number): string;
}

export class LinkChannel implements Channel {
  failure: Failure | null = null;

  /** `place` and `tag`: where the call stands, for the words of a mismatch. */
  constructor(readonly rank: number, readonly size: number, private readonly link: Link,
    private readonly place: CallPlace | null = null, private readonly tag = 0, readonly hosts: readonly number[] | null = null) {}

  note(failure: Failure): Failure {
    this.failure ??= failure;
    return failure;
  }

  // Not async: the link's promise is returned as it is, one promise and its hops fewer per message.
  send(dest: number, value: unknown): Promise<void> {
    if (value instanceof Failure) this.note(value);
    try {
      return Promise.resolve(this.link.isend(dest, toWire(value)));
    } catch (err) {
      // The value cannot be encoded (a function, a symbol...): peers get the reason instead.
      return Promise.resolve(this.link.isend(dest, toWire(this.note(Failure.of(err, this.rank)))));
    }
  }

  recv<T = unknown>(source: number): Promise<T | Failure> {
    // The wire is untyped: the cast is the SPMD rule stated at Channel.recv.
    return Promise.resolve(this.link.irecv(source)).then(this.received, this.refused) as Promise<T | Failure>;
  }

  private readonly received = (wire: unknown): unknown => {
    const value = fromWire(wire);
    if (value instanceof Failure) this.note(value);
    return value;
  };

  recvInto(source: number, target: RawBuffer): Promise<number | Failure> {
    return Promise.resolve(this.link.irecvInto(source, target)).then(this.landed, this.refused);
  }

  progress(): void {
    this.link.progress?.();
  }

  recvIntoOrValue(source: number, target: RawBuffer): Promise<number | Failure | Instead> {
    return Promise.resolve(this.link.irecvInto(source, target)).then(this.landedOrValue, this.refused);
  }

  private readonly landedOrValue = (got: number | Instead): number | Failure | Instead => {
    if (typeof got === 'number') return got;
    const value = fromWire(got.instead);
    return value instanceof Failure ? this.note(value) : { instead: value };
  };

  private readonly landed = (got: number | Instead): number | Failure => {
    if (typeof got === 'number') return got;
    const value = fromWire(got.instead);
    if (value instanceof Failure) return this.note(value);
    // The SPMD rule says a peer sends what this rank would: raw data here. A wrong program may not.
    return this.note(new Failure('MPIError', `a peer sent ${describeValue(value)} where this rank expected raw data of a typed array`, 'ERR_TYPE', this.rank));
  };

  /**
   * What the engine refused to deliver (too many bytes for the buffer, or a
   * message of another collective call: the ranks' calls disagree) is this
   * rank's failure, passed on where the data would have gone, so that the
   * ranks after it in the pattern learn of it instead of waiting. A broken
   * job (a peer ended, a bad frame) stays an error: the job is ending.
   */
  private readonly refused = (err: unknown): Failure => {
    if (err instanceof CollectiveMismatchError && err.calls !== undefined) return this.note(this.mismatch(err.calls));
    if (err instanceof MPIError && !(err instanceof JobError) && !(err instanceof ProtocolError)) return this.note(Failure.of(err, this.rank));
    throw err;
  };

  /** The engine's facts of a mismatch in the user's words, with the communicator's. */
  private mismatch(calls: NonNullable<CollectiveMismatchError['calls']>): Failure {
    return mismatchFailure(calls, this.rank, this.place?.collectivePlace?.(this.tag) ?? `as call number ${this.tag + 1}`);
  }
}

/** Two ranks' calls that disagree, as this rank's failure: both calls named, and `where` (the call's number and communicator). */
export function mismatchFailure(calls: { mine: number; theirs: number; peer: number }, rank: number, where: string): Failure {
  const words = `${mismatchWords(calls.mine, calls.theirs, rank, calls.peer)}, ${where}; ` +
    'every rank of a communicator must make the same collective calls in the same order';
  return new Failure('CollectiveMismatchError', words, 'ERR_OTHER', rank);
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return `a ${typeof value}`;
  return `an object (${(value as object).constructor?.name ?? 'Object'})`;
}
