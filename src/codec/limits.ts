/** How large one message may be. */
import { ErrorCode, brandClass, isBrandedInstance } from '../base/index.js';

/**
 * Largest message, in bytes, of any kind: a frame's length field could say
 * more, but a receiver must be able to hold it in one buffer, and Node's
 * Buffers stop at 4 GiB.
 */
export const MAX_MESSAGE_BYTES = 2 ** 32;

const kMessageTooLargeError = Symbol.for('mpi4ts.error.MPI4TS_ERR_MESSAGE_TOO_LARGE');

/**
 * A value whose encoding would pass MAX_MESSAGE_BYTES. A RangeError, named so,
 * since the size is a value out of range; its code tells it from other ones.
 */
export class MessageTooLargeError extends RangeError {
  readonly code = ErrorCode.MESSAGE_TOO_LARGE;

  constructor(bytes: number, atLeast: boolean) {
    const gib = (n: number): string => `${(n / 2 ** 30).toFixed(2)} GiB`;
    super(`the message would take ${atLeast ? 'more than ' : ''}${gib(bytes)}; one message carries at most ` +
      `${gib(MAX_MESSAGE_BYTES)}: send the data in several messages (a typed array in parts, or the arrays of an object one by one)`);
    this.name = 'RangeError';
  }

  static {
    brandClass(this, kMessageTooLargeError);
  }

  // Only this class's own answer: `instanceof RangeError` keeps RangeError's.
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBrandedInstance(this, MessageTooLargeError, kMessageTooLargeError, value);
  }
}
