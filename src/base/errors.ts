/**
 * Error classes of mpi4ts. Every failure of an MPI call derives from MPIError,
 * which carries an MPI error class (`errorClass`, as MPI_ERR_*) and a stable
 * `code` string that callers branch on; `message` is for people and names the
 * argument, the value and what is allowed.
 *
 * instanceof: each class brands its prototype with its own
 * `Symbol.for('mpi4ts.error.<code>')` and answers instanceof by that brand
 * alone. An instance carries the brands of its class and its ancestors through
 * its prototype chain, so it is an instance of those and of no sibling or
 * descendant; and since Symbol.for is one registry per process, an error made
 * by a second installed copy of mpi4ts answers the same.
 */

/** MPI error classes (MPI 4.1 section 9.4), the subset mpi4ts raises. */
export const ErrorClass = {
  ERR_BUFFER: 1,
  ERR_COUNT: 2,
  ERR_TYPE: 3,
  ERR_TAG: 4,
  ERR_COMM: 5,
  ERR_RANK: 6,
  ERR_REQUEST: 7,
  ERR_ROOT: 8,
  ERR_OP: 9,
  ERR_TOPOLOGY: 10,
  ERR_DIMS: 11,
  ERR_ARG: 12,
  ERR_GROUP: 13,
  ERR_TRUNCATE: 15,
  ERR_OTHER: 16,
  ERR_INTERN: 17,
  /** Processes could not be spawned (MPI_ERR_SPAWN, MPI 4.1 section 11.8.2). */
  ERR_SPAWN: 18,
} as const;
export type ErrorClassName = keyof typeof ErrorClass;

/**
 * Every `code` an mpi4ts error can have. A plain MPIError has the code of its
 * MPI error class (`MPI4TS_` + errorClass); each subclass has one of its own.
 * These strings are API: changing one breaks the callers that branch on it.
 */
export const ErrorCode = {
  BUFFER: 'MPI4TS_ERR_BUFFER',
  COUNT: 'MPI4TS_ERR_COUNT',
  TYPE: 'MPI4TS_ERR_TYPE',
  TAG: 'MPI4TS_ERR_TAG',
  COMM: 'MPI4TS_ERR_COMM',
  RANK: 'MPI4TS_ERR_RANK',
  REQUEST: 'MPI4TS_ERR_REQUEST',
  ROOT: 'MPI4TS_ERR_ROOT',
  OP: 'MPI4TS_ERR_OP',
  TOPOLOGY: 'MPI4TS_ERR_TOPOLOGY',
  DIMS: 'MPI4TS_ERR_DIMS',
  ARG: 'MPI4TS_ERR_ARG',
  GROUP: 'MPI4TS_ERR_GROUP',
  /** A TruncationError, or a plain MPIError of class ERR_TRUNCATE. */
  TRUNCATE: 'MPI4TS_ERR_TRUNCATE',
  OTHER: 'MPI4TS_ERR_OTHER',
  INTERN: 'MPI4TS_ERR_INTERN',
  SPAWN: 'MPI4TS_ERR_SPAWN',
  /** A JobError. */
  JOB: 'MPI4TS_ERR_JOB',
  /** A ProtocolError. */
  PROTOCOL: 'MPI4TS_ERR_PROTOCOL',
  /** A CollectiveMismatchError. */
  COLLECTIVE_MISMATCH: 'MPI4TS_ERR_COLLECTIVE_MISMATCH',
  /** A MessageTooLargeError (a RangeError, not an MPIError). */
  MESSAGE_TOO_LARGE: 'MPI4TS_ERR_MESSAGE_TOO_LARGE',
  /** A UsageError of the launcher (not an MPIError). */
  USAGE: 'MPI4TS_USAGE',
  /** A PoolError: a task pool is shut down or broken, or a task was cancelled by shutdown. */
  POOL: 'MPI4TS_ERR_POOL',
  /** A WorkerLostError: the pool worker running a task died. */
  WORKER_LOST: 'MPI4TS_ERR_WORKER_LOST',
  /** A TaskError: a task threw on its worker. */
  TASK: 'MPI4TS_ERR_TASK',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The codes an MPIError (of any subclass) can have. */
export type MPIErrorCode = `MPI4TS_${ErrorClassName}` | typeof ErrorCode.JOB | typeof ErrorCode.PROTOCOL
  | typeof ErrorCode.COLLECTIVE_MISMATCH | typeof ErrorCode.POOL | typeof ErrorCode.WORKER_LOST | typeof ErrorCode.TASK;

/**
 * The answer of `value instanceof asked` for a class `owner` branded with
 * `brand`. A subclass that declares no hasInstance of its own inherits owner's:
 * it is answered by its prototype chain, as a plain instanceof would, since
 * the brand would make every instance of owner one of it.
 */
export function isBrandedInstance(asked: object, owner: object, brand: symbol, value: unknown): boolean {
  if (asked !== owner) return Function.prototype[Symbol.hasInstance].call(asked, value);
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}

/** Puts `brand` on `cls`'s prototype; not enumerable, so logs never show it. */
export function brandClass(cls: { readonly prototype: object }, brand: symbol): void {
  Object.defineProperty(cls.prototype, brand, { value: true });
}

// The common prefix of every MPIError code, as no code is the base's alone.
const kMPIError = Symbol.for('mpi4ts.error.MPI4TS_ERR');

export class MPIError extends Error {
  /** MPI error class name, e.g. `ERR_RANK`. */
  readonly errorClass: ErrorClassName;
  /**
   * Stable machine-readable code, e.g. `MPI4TS_ERR_RANK`: see ErrorCode. An
   * own field, not a prototype getter, so util.inspect and console.error show it.
   */
  readonly code: MPIErrorCode;

  constructor(errorClass: ErrorClassName, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MPIError';
    this.errorClass = errorClass;
    this.code = `MPI4TS_${errorClass}`;
  }

  static {
    brandClass(this, kMPIError);
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBrandedInstance(this, MPIError, kMPIError, value);
  }
}

const kTruncationError = Symbol.for('mpi4ts.error.MPI4TS_ERR_TRUNCATE');

/** A message arrived that is larger than the receive buffer (MPI_ERR_TRUNCATE). */
export class TruncationError extends MPIError {
  override readonly code = ErrorCode.TRUNCATE;

  constructor(message: string, options?: ErrorOptions) {
    super('ERR_TRUNCATE', message, options);
    this.name = 'TruncationError';
  }

  static {
    brandClass(this, kTruncationError);
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBrandedInstance(this, TruncationError, kTruncationError, value);
  }
}

const kJobError = Symbol.for('mpi4ts.error.MPI4TS_ERR_JOB');

/** The job, a peer or the launcher failed underneath an operation. */
export class JobError extends MPIError {
  override readonly code = ErrorCode.JOB;

  constructor(message: string, options?: ErrorOptions) {
    super('ERR_OTHER', message, options);
    this.name = 'JobError';
  }

  static {
    brandClass(this, kJobError);
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBrandedInstance(this, JobError, kJobError, value);
  }
}

const kProtocolError = Symbol.for('mpi4ts.error.MPI4TS_ERR_PROTOCOL');

/**
 * A frame or handshake on the wire broke the protocol. It reaches the user as
 * the rejection of a call on a broken connection, or as the cause of a JobError.
 */
export class ProtocolError extends MPIError {
  override readonly code = ErrorCode.PROTOCOL;

  constructor(message: string, options?: ErrorOptions) {
    super('ERR_INTERN', message, options);
    this.name = 'ProtocolError';
  }

  static {
    brandClass(this, kProtocolError);
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBrandedInstance(this, ProtocolError, kProtocolError, value);
  }
}

const kCollectiveMismatchError = Symbol.for('mpi4ts.error.MPI4TS_ERR_COLLECTIVE_MISMATCH');

/**
 * The ranks of a communicator reached the same point of its order of
 * collective calls with calls that are not the same (another call, root, op,
 * element type or count): thrown by the rank that received the other's
 * message, and by the ranks it passed the failure on to. MPI calls such a
 * program erroneous and names no error class for it: ERR_OTHER.
 */
export class CollectiveMismatchError extends MPIError {
  override readonly code = ErrorCode.COLLECTIVE_MISMATCH;
  /**
   * @internal What the matching engine found, for the collective layer's
   * words: the two calls' words (coll/calls.ts), the sender's rank in the
   * communicator and the call's sequence number there.
   */
  declare readonly calls?: { mine: number; theirs: number; peer: number; sequence: number };

  /** `calls` (for mpi4ts's own layers): what the matching engine found, as the field above. */
  constructor(message: string, options?: ErrorOptions & { calls?: { mine: number; theirs: number; peer: number; sequence: number } }) {
    super('ERR_OTHER', message, options);
    this.name = 'CollectiveMismatchError';
    // Only when given: an own property that is undefined would show in every log of the error.
    if (options?.calls !== undefined) Object.defineProperty(this, 'calls', { value: options.calls, enumerable: false });
  }

  static {
    brandClass(this, kCollectiveMismatchError);
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBrandedInstance(this, CollectiveMismatchError, kCollectiveMismatchError, value);
  }
}

const kPoolError = Symbol.for('mpi4ts.error.MPI4TS_ERR_POOL');
/**
 * A task pool (MPI.PoolExecutor, MPI.CommExecutor) cannot run a task: it is
 * shut down, it is broken (every worker died), or shutdown({ cancelFutures })
 * cancelled the task before it ran (Python's CancelledError, BrokenExecutor).
 */
export class PoolError extends MPIError {
  override readonly code: typeof ErrorCode.POOL | typeof ErrorCode.WORKER_LOST = ErrorCode.POOL;
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_OTHER', message, options);
    this.name = 'PoolError';
  }
  static {
    brandClass(this, kPoolError);
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBrandedInstance(this, PoolError, kPoolError, value);
  }
}

/** Which pool worker a task ran on (a world rank, its host and pid). */
export interface PoolWorkerInfo {
  rank: number;
  host: string;
  pid: number;
}

const kWorkerLostError = Symbol.for('mpi4ts.error.MPI4TS_ERR_WORKER_LOST');
/** The pool worker running a task died (killed, or its process exited): the task's promise rejects with this. */
export class WorkerLostError extends PoolError {
  override readonly code = ErrorCode.WORKER_LOST;
  /** The worker that died. */
  readonly worker: PoolWorkerInfo;
  constructor(message: string, worker: PoolWorkerInfo, options?: ErrorOptions) {
    super(message, options);
    this.name = 'WorkerLostError';
    this.worker = worker;
  }
  static {
    brandClass(this, kWorkerLostError);
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBrandedInstance(this, WorkerLostError, kWorkerLostError, value);
  }
}

const kTaskError = Symbol.for('mpi4ts.error.MPI4TS_ERR_TASK');
/**
 * A task threw (or its promise rejected) on its worker. The error keeps the
 * thrown error's `name` and `message`, and its `stack` is the worker's
 * (functions and errors cannot cross processes, their words can);
 * `remoteCode` is the thrown error's `code`, if it had one.
 */
export class TaskError extends MPIError {
  override readonly code = ErrorCode.TASK;
  /** The worker the task ran on. */
  readonly worker: PoolWorkerInfo;
  /** The export the task named. */
  readonly task: string;
  /** The `code` of the error the task threw (undefined if it had none). */
  readonly remoteCode: string | undefined;
  constructor(remote: { name: string; message: string; stack: string; code?: string }, task: string, worker: PoolWorkerInfo) {
    super('ERR_OTHER', remote.message);
    this.name = remote.name;
    this.task = task;
    this.worker = worker;
    this.remoteCode = remote.code;
    this.stack = `${remote.stack}\n    (task "${task}" on pool worker rank ${worker.rank}, ${worker.host}, pid ${worker.pid})`;
  }
  static {
    brandClass(this, kTaskError);
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBrandedInstance(this, TaskError, kTaskError, value);
  }
}

const kUsageError = Symbol.for('mpi4ts.error.MPI4TS_USAGE');

/** Something the user passed on the command line is wrong; not an MPIError, as no MPI call failed. */
export class UsageError extends Error {
  readonly code = ErrorCode.USAGE;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UsageError';
  }

  static {
    brandClass(this, kUsageError);
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBrandedInstance(this, UsageError, kUsageError, value);
  }
}
