/**
 * Messages between `mpi4ts run` (the control server) and each rank, one JSON
 * object per line over the control connection. Every kind is listed here.
 */
import type { PeerAddress } from '../transport/transport.js';

export const ControlKind = {
  /** server -> rank: prove you know the job key. */
  CHALLENGE: 'challenge',
  /** rank -> server: my rank, my proof, my address. */
  HELLO: 'hello',
  /** server -> rank: the server's proof and every rank's address (once all said hello). */
  WELCOME: 'welcome',
  /** rank -> server: end the job with this code (comm.abort or a fatal error). */
  ABORT: 'abort',
  /** rank -> server: my program is done. */
  FINALIZE: 'finalize',
  /** server -> rank: every rank is done; close and exit. */
  FINALIZED: 'finalized',
} as const;

export type ControlMessage =
  | { t: typeof ControlKind.CHALLENGE; nonce: string }
  | { t: typeof ControlKind.HELLO; rank: number; proof: string; nonce: string; address: PeerAddress }
  | { t: typeof ControlKind.WELCOME; proof: string; table: PeerAddress[] }
  | { t: typeof ControlKind.ABORT; rank: number; code: number; message: string }
  | { t: typeof ControlKind.FINALIZE; rank: number }
  | { t: typeof ControlKind.FINALIZED };

/** Longest control line accepted; a table of thousands of ranks fits. */
export const MAX_CONTROL_LINE = 16 * 1024 * 1024;

/** Splits a byte stream into JSON lines; rejects oversized or non-JSON lines. */
export class LineDecoder {
  private partial = '';
  constructor(private readonly onMessage: (message: ControlMessage) => void) {}

  push(chunk: Buffer | string): void {
    const text = this.partial + chunk.toString();
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    if (this.partial.length > MAX_CONTROL_LINE) throw new Error(`control line longer than ${MAX_CONTROL_LINE} bytes`);
    for (const line of lines) {
      if (line.trim() === '') continue;
      const message = JSON.parse(line) as ControlMessage;
      if (typeof message !== 'object' || message === null || typeof message.t !== 'string') {
        throw new Error('control message without a kind');
      }
      this.onMessage(message);
    }
  }
}

export function encodeControl(message: ControlMessage): string {
  return JSON.stringify(message) + '\n';
}
