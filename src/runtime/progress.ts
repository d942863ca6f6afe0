/**
 * The progress engine (DESIGN.md "Progress"). While any operation is pending
 * it keeps the event loop busy with a chain of setImmediate callbacks, so
 * libuv polls the sockets with a zero timeout instead of sleeping: a sleeping
 * loop costs tens of microseconds per wake-up on small VMs. When nothing has
 * arrived for `pollMicros`, or when the host runs more ranks than cores, it
 * stops spinning and the loop sleeps in epoll until data comes.
 *
 * Switch: MPI4TS_POLL_US (0 turns spinning off).
 */
import { performance } from 'node:perf_hooks';

export interface ProgressOptions {
  /** How long to spin after the last activity, in microseconds; 0 never spins. */
  pollMicros: number;
}

const noop = (): void => {};

export class Progress {
  private pending = 0;
  private keepAlive: NodeJS.Timeout | null = null;
  private spinning = false;
  private lastActivity = 0;
  private pollMs: number;

  constructor(options: ProgressOptions) {
    this.pollMs = options.pollMicros / 1000;
  }

  /** Changes the spin window; 0 stops spinning (an oversubscribed host). */
  setPollMicros(micros: number): void {
    this.pollMs = micros / 1000;
  }

  /** An operation started waiting on the network. */
  begin(): void {
    if (this.pending++ === 0) {
      // Sockets are unref'd: this timer is what keeps the process alive while work is pending.
      this.keepAlive = setInterval(noop, 1 << 30);
    }
    this.activity();
  }

  /** A pending operation completed. */
  end(): void {
    if (--this.pending === 0 && this.keepAlive !== null) {
      clearInterval(this.keepAlive);
      this.keepAlive = null;
    }
  }

  get pendingOperations(): number {
    return this.pending;
  }

  /** Something arrived or was posted: poll hard for a while. */
  activity(): void {
    if (this.pollMs <= 0) return;
    this.lastActivity = performance.now();
    if (!this.spinning && this.pending > 0) {
      this.spinning = true;
      setImmediate(this.spin);
    }
  }

  private readonly spin = (): void => {
    if (this.pending > 0 && performance.now() - this.lastActivity < this.pollMs) {
      setImmediate(this.spin);
    } else {
      this.spinning = false;
    }
  };
}
