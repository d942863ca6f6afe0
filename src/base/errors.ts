/**
 * Error classes of mpi4ts. Every failure derives from MPIError, which carries an
 * MPI error class (`errorClass`, as MPI_ERR_*) and a stable `code` string that
 * callers branch on; `message` is for people and names the argument, the value
 * and what is allowed.
 */

/** MPI error classes (MPI 4.0 section 9.4), the subset mpi4ts raises. */
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
  ERR_TRUNCATE: 15,
  ERR_OTHER: 16,
  ERR_INTERN: 17,
} as const;
export type ErrorClassName = keyof typeof ErrorClass;

const brand = Symbol.for('mpi4ts.MPIError');

export class MPIError extends Error {
  /** MPI error class name, e.g. `ERR_RANK`. */
  readonly errorClass: ErrorClassName;
  /** Stable machine-readable code, e.g. `MPI4TS_ERR_RANK`. */
  readonly code: string;

  constructor(errorClass: ErrorClassName, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MPIError';
    this.errorClass = errorClass;
    this.code = `MPI4TS_${errorClass}`;
  }

  /** Works across two installed copies of mpi4ts, unlike a plain instanceof. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}
Object.defineProperty(MPIError.prototype, brand, { value: true });

/** A message arrived that is larger than the receive buffer (MPI_ERR_TRUNCATE). */
export class TruncationError extends MPIError {
  constructor(message: string) {
    super('ERR_TRUNCATE', message);
    this.name = 'TruncationError';
  }
}

/** The job, a peer or the launcher failed underneath an operation. */
export class JobError extends MPIError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_OTHER', message, options);
    this.name = 'JobError';
  }
}

/** A frame or handshake on the wire broke the protocol. */
export class ProtocolError extends MPIError {
  constructor(message: string) {
    super('ERR_INTERN', message);
    this.name = 'ProtocolError';
  }
}

/** Something the user passed on the command line is wrong. */
export class UsageError extends Error {
  readonly code = 'MPI4TS_USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
