/**
 * Connections that have not proved the job key yet, on any listener of a job
 * (the launcher's control server, rank 0's rendezvous server, every rank's
 * peer listener). Such a listener may face the network, so a stranger must
 * not be able to make it hold memory or connections: it keeps at most
 * `limit` unproven connections (a new one pushes the oldest out), each may
 * send at most `maxBytes` before its proof, and must prove the key within
 * `timeoutMs`. A job's own processes prove the key in their first bytes, so
 * none of this touches them; one that is pushed out or late reconnects.
 *
 * The time-out cannot be fooled by this process's own event loop: a program
 * that computed for a minute finds its timers overdue, and they run before
 * the loop reads the hellos that came meanwhile. So an overdue connection is
 * judged only in the check phase after the next poll for I/O (setImmediate),
 * once whatever it sent has been read.
 *
 * Bound: `limit` connections of a few KiB of JavaScript state each, plus at
 * most `maxBytes` of their data; bytes past that close the connection.
 */
import type { Socket } from 'node:net';

export interface UnprovenLimits {
  /** Unproven connections kept at once; a new one beyond it drops the oldest. */
  limit: number;
  /** Bytes an unproven connection may send. */
  maxBytes: number;
  /** Time it has to prove the key. */
  timeoutMs: number;
}

/** Defaults for a peer listener or a control server: a few KiB, a few seconds. */
export const UNPROVEN_TIMEOUT_MS = 10_000;
export const UNPROVEN_LIMIT = 256;

interface Entry {
  bytes: number;
  timer: NodeJS.Timeout;
}

export class UnprovenConnections {
  /** In arrival order (a Map keeps it): the first is the oldest. */
  private readonly waiting = new Map<Socket, Entry>();

  constructor(private readonly limits: UnprovenLimits, private readonly onDrop: (socket: Socket, reason: string) => void) {}

  get size(): number {
    return this.waiting.size;
  }

  /** A connection was accepted: watch it until it proves the key. */
  admit(socket: Socket): void {
    if (this.waiting.size >= this.limits.limit) {
      const oldest = this.waiting.keys().next().value as Socket;
      this.drop(oldest, `more than ${this.limits.limit} connections had not proved the job key; dropped the oldest`);
    }
    const timer = setTimeout(() => setImmediate(this.judge, socket), this.limits.timeoutMs);
    timer.unref();
    this.waiting.set(socket, { bytes: 0, timer });
    socket.once('close', () => this.forget(socket));
  }

  /** Counts bytes that came before the proof; false, with the connection dropped, past the limit. */
  received(socket: Socket, bytes: number): boolean {
    const entry = this.waiting.get(socket);
    if (entry === undefined) return !socket.destroyed;
    entry.bytes += bytes;
    if (entry.bytes <= this.limits.maxBytes) return true;
    this.drop(socket, `a connection sent more than ${this.limits.maxBytes} bytes before proving the job key`);
    return false;
  }

  /** The connection proved the key (or was judged otherwise): no longer watched. */
  proven(socket: Socket): void {
    this.forget(socket);
  }

  /** Drops every connection still unproven (the listener closes). */
  clear(): void {
    for (const socket of [...this.waiting.keys()]) this.drop(socket, 'the listener closed');
  }

  private readonly judge = (socket: Socket): void => {
    if (this.waiting.has(socket)) this.drop(socket, `a connection did not prove the job key within ${this.limits.timeoutMs / 1000} s`);
  };

  private drop(socket: Socket, reason: string): void {
    this.forget(socket);
    socket.destroy();
    this.onDrop(socket, reason);
  }

  private forget(socket: Socket): void {
    const entry = this.waiting.get(socket);
    if (entry === undefined) return;
    clearTimeout(entry.timer);
    this.waiting.delete(socket);
  }
}
