/**
 * Persistent requests (MPI 4.1 section 3.9): a send or receive whose
 * arguments are bound once (comm.sendInit, recvInit, ...) and which is then
 * started round after round.
 *
 * A Prequest is a Request, so the statics (waitall, waitany, testany, ...)
 * and `await` take it as it is. Its states:
 *
 *     inactive --start()--> active, pending --(the engine completes it)--> active, complete
 *        ^                                                                        |
 *        +--------------- wait(), test() when done, await, a static ---------------+
 *
 * A round is the Request itself restarted (Request._restart), handed to the
 * engine as the request to complete: no object per round beyond what the
 * engine makes per message. A completed round stays active until its outcome
 * is claimed, as MPI's request stays active until the wait or test that
 * completes it: start() before that would lose the outcome, and throws.
 * Claiming while the round is still pending (a wait() not yet resolved) is
 * enough, since start() also refuses a pending round.
 *
 * # Unfinished features
 * - **3.9**: MPI_Start on a request of another communicator's kind
 *   (partitioned, 4.2) and persistent collectives (6.13) are not Prequests.
 */
import { MPIError } from '../base/index.js';
import { freedError, Request } from './request.js';

/** Starts one round of a persistent request: the same send or receive, with `request` to complete. */
export type RoundStarter<T> = (request: Prequest<T>) => void;

export class Prequest<T = unknown> extends Request<T> {
  /** A round was started and its outcome not claimed yet. */
  private started = false;
  /** A wait() (or await) on the round while it was pending: its outcome is claimed once it completes. */
  private claimedEarly = false;

  /**
   * @internal Made by comm.sendInit, recvInit and the others. `call` names
   * the init call in errors; `startRound` posts one round.
   */
  constructor(private readonly call: string, private readonly startRound: RoundStarter<T>) {
    super();
    // Inactive from the first: waitall sees it complete, waitany passes over it (MPI 3.9).
    this._resolve(undefined as T);
  }

  /** Starts one round (MPI_Start). Throws if the last round's outcome was not taken by wait or test, or if freed. */
  start(): void {
    this.checkStartable('start');
    this.begin();
  }

  /** @internal */
  override _claim(): void {
    if (this.done) this.started = false;
    else this.claimedEarly = true;
  }

  /** @internal Active from start() until its outcome is claimed (MPI's active state). */
  override _isActive(): boolean {
    return this.started && !(this.claimedEarly && this.done);
  }

  /** Starts every request of the list (MPI_Startall); checks all before starting any. */
  static startall(requests: readonly Prequest<unknown>[]): void {
    if (!Array.isArray(requests)) throw new TypeError(`startall: requests must be an array of MPI.Prequest, got ${typeof requests}`);
    requests.forEach((r: unknown, i) => {
      if (!(r instanceof Prequest)) {
        const got = r === null ? 'null' : typeof r === 'object' ? (r.constructor?.name ?? 'object') : typeof r;
        throw new TypeError(`startall: requests[${i}] must be an MPI.Prequest (from comm.sendInit, recvInit, ...), got ${got}`);
      }
      r.checkStartable(`startall: requests[${i}]`);
    });
    for (const r of requests) r.begin();
  }

  private checkStartable(call: string): void {
    if (this.isFreed) throw freedError(call);
    if (!this.done) {
      throw new MPIError('ERR_REQUEST', `${call}: this ${this.call} request is active: its round has not completed; ` +
        'wait for it (wait, test, await or a Request static) before starting it again');
    }
    if (this.started && !this.claimedEarly) {
      throw new MPIError('ERR_REQUEST', `${call}: this ${this.call} request is active: its last round completed but nothing ` +
        'took its outcome; call wait() or test() (or await it) before starting it again');
    }
  }

  private begin(): void {
    this._restart();
    this.started = true;
    this.claimedEarly = false;
    try {
      this.startRound(this);
    } catch (err) {
      // Nothing was posted (a value that cannot be sent, a freed communicator): inactive again.
      this.started = false;
      this._resolve(undefined as T);
      throw err;
    }
  }
}
