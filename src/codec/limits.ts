/** How large one message may be. */

/**
 * Largest message, in bytes, of any kind: a frame's length field could say
 * more, but a receiver must be able to hold it in one buffer, and Node's
 * Buffers stop at 4 GiB.
 */
export const MAX_MESSAGE_BYTES = 2 ** 32;

/** A value whose encoding would pass MAX_MESSAGE_BYTES. */
export class MessageTooLargeError extends RangeError {
  constructor(bytes: number, atLeast: boolean) {
    const gib = (n: number): string => `${(n / 2 ** 30).toFixed(2)} GiB`;
    super(`the message would take ${atLeast ? 'more than ' : ''}${gib(bytes)}; one message carries at most ` +
      `${gib(MAX_MESSAGE_BYTES)}: send the data in several messages (a typed array in parts, or the arrays of an object one by one)`);
    this.name = 'RangeError';
  }
}
