/**
 * Proofs of the job key: an HMAC over a label and the parts that make the
 * proof fresh (a nonce, ranks). Every connection of a job proves the key
 * this way (peer links in transport/auth.ts, the control connection in
 * control-client.ts and control-registry.ts), each with a label of its own
 * so a proof made for one can never pass for another.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export function proofOf(key: Buffer, label: string, ...parts: (Buffer | number | string)[]): Buffer {
  const hmac = createHmac('sha256', key).update(label);
  for (const part of parts) {
    if (typeof part === 'number') {
      const b = Buffer.allocUnsafe(4);
      b.writeUInt32LE(part >>> 0);
      hmac.update(b);
    } else {
      hmac.update(part);
    }
  }
  return hmac.digest();
}

/** Constant-time comparison, so a wrong proof teaches nothing about the right one. */
export function proofMatches(expected: Buffer, got: Buffer): boolean {
  return got.length === expected.length && timingSafeEqual(expected, got);
}
