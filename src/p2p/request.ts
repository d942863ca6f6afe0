/**
 * A pending operation (MPI 4.1 section 3.7.3). Thenable, so `await req` works;
 * its promise is made only when someone waits, so a failed request nobody
 * waits on never becomes an unhandled rejection.
 *
 * The statics complete several at once (3.7.5). A persistent request
 * (Prequest, persistent.ts) is a Request that is started again and again;
 * between rounds it is inactive, and the statics pass over it as MPI passes
 * over an inactive or null request: waitany, testany, waitsome and testsome
 * ignore it, waitall and testall count it as complete.
 *
 * # Unfinished features
 * - **3.7.3**: MPI_REQUEST_NULL: a null entry in a list is not accepted (pass
 *   only requests; a freed one is an error, not a null).
 * - **3.8.4**: cancelling a send (receives only).
 * - **3.7.4**: MPI_Request_get_status (`done` and `status` answer it).
 */
import { ErrorClass, MPIError } from '../base/index.js';
import { Status } from './status.js';

export interface TestResult<T> {
  done: boolean;
  value?: T;
}

/** What Request.testany finds (MPI_Testany): index -1 when none has completed, or none is active. */
export interface TestAnyResult<T> {
  index: number;
  done: boolean;
  value?: T;
}

/** What a receive that has not matched yet knows to take itself back. */
export interface Cancellable {
  cancel(): boolean;
}

const PENDING = 0;
const FULFILLED = 1;
const REJECTED = 2;

/** Shared by every completed request without a value (sends): one promise, not one per send. */
const RESOLVED_VOID = Promise.resolve(undefined);

export class Request<T = unknown> implements PromiseLike<T> {
  /** Filled in when the request completes. */
  readonly status = new Status();
  /*
   * Plain fields rather than a settled-state object, a waiter list and a
   * cancel closure: a request is made per message, and each allocation is on
   * the path of every message.
   */
  private state: number = PENDING;
  private outcome: unknown = undefined;
  private resolvePromise: ((value: unknown) => void) | null = null;
  private rejectPromise: ((reason: unknown) => void) | null = null;
  private pending: Promise<T> | null = null;
  private waiters: (() => void)[] | null = null;
  private canceller: Cancellable | null = null;
  /** request.free() was called: the operation goes on, but nobody may wait on it (MPI_Request_free). */
  private freed = false;

  /** @internal completes the request. */
  _resolve(value: T): void {
    if (this.state !== PENDING) return;
    this.state = FULFILLED;
    this.outcome = value;
    this.canceller = null;
    this.resolvePromise?.(value);
    this.wake();
  }

  /** @internal fails the request. */
  _reject(error: unknown): void {
    if (this.state !== PENDING) return;
    this.state = REJECTED;
    this.outcome = error;
    this.canceller = null;
    this.status.error = error instanceof MPIError ? ErrorClass[error.errorClass] : ErrorClass.ERR_OTHER;
    this.rejectPromise?.(error);
    this.wake();
  }

  /** @internal how to take back a receive that has not matched yet. */
  _onCancel(canceller: Cancellable | null): void {
    this.canceller = canceller;
  }

  /** @internal calls `waiter` once when the request completes (at once if it has). */
  _whenDone(waiter: () => void): void {
    if (this.state !== PENDING) waiter();
    else (this.waiters ??= []).push(waiter);
  }

  /**
   * @internal Someone took this round's outcome (wait, test, await, a
   * static). Nothing for a plain request; a persistent one may be started again.
   */
  _claim(): void {}

  /**
   * @internal Whether anything waits for it: a promise handed out (await,
   * wait, waitall) or a static's waiter. A pending request nobody waits on,
   * in a process with nothing else to do, belongs to a program that ended
   * without completing it (World's pending-at-exit check). A freed one
   * counts as waited on: MPI lets a program free an active request and end,
   * and the operation is the library's to finish (MPI 4.1 section 3.7.3).
   */
  _isWaitedOn(): boolean {
    return this.freed || this.pending !== null || this.waiters !== null;
  }

  /** @internal whether the statics consider it (MPI's active requests); a plain request always is. */
  _isActive(): boolean {
    return true;
  }

  /**
   * @internal For a persistent request's next round: pending again, with an
   * empty status, as a new request would be. A promise handed out for the
   * last round keeps that round's outcome.
   */
  protected _restart(): void {
    this.state = PENDING;
    this.outcome = undefined;
    this.resolvePromise = null;
    this.rejectPromise = null;
    this.pending = null;
    this.waiters = null;
    this.canceller = null;
    this.status.assign(EMPTY_STATUS);
  }

  get done(): boolean {
    return this.state !== PENDING;
  }

  /** True once free() was called. */
  get isFreed(): boolean {
    return this.freed;
  }

  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    if (this.freed) return Promise.reject(freedError('await')).then(onfulfilled, onrejected);
    this._claim();
    return this.promise().then(onfulfilled, onrejected);
  }

  /** Waits for completion; copies the status into `status` when given. */
  wait(status?: Status): Promise<T> {
    // Not async: every promise hop is a microtask on the path of each message.
    if (this.freed) return Promise.reject(freedError('wait'));
    this._claim();
    if (status === undefined) return this.promise();
    return this.promise().then((value) => {
      status.assign(this.status);
      return value;
    }, (err: unknown) => {
      status.assign(this.status);
      throw err;
    });
  }

  /** Completion without waiting: `{ done: false }`, or the value; throws if the operation failed. */
  test(status?: Status): TestResult<T> {
    if (this.freed) throw freedError('test');
    if (this.state === PENDING) return { done: false };
    this._claim();
    return this.outcomeOf(status);
  }

  /**
   * Cancels a receive that has not matched yet (MPI_Cancel). It then completes
   * with `null` and `status.cancelled` true. Returns false if it was too late.
   */
  cancel(): boolean {
    if (this.freed) throw freedError('cancel');
    if (this.state !== PENDING || this.canceller === null) return false;
    return this.canceller.cancel();
  }

  /**
   * Lets go of the request (MPI_Request_free): the operation still completes
   * (a send is still delivered, a receive still takes its message), but the
   * request can no longer be waited on, tested, cancelled or started; its
   * failure, if it fails, is reported to nobody. Meant for sends whose
   * completion the program learns otherwise (a reply); freeing a pending
   * receive is allowed, as MPI allows it, but the program cannot know when
   * its buffer is filled.
   */
  free(): void {
    if (this.freed) throw freedError('free');
    this.freed = true;
  }

  /** The outcome of a completed request, as test gives it. */
  private outcomeOf(status: Status | undefined): TestResult<T> {
    status?.assign(this.status);
    if (this.state === REJECTED) throw this.outcome;
    return { done: true, value: this.outcome as T };
  }

  private promise(): Promise<T> {
    if (this.state === FULFILLED) {
      return this.outcome === undefined ? RESOLVED_VOID as Promise<T> : Promise.resolve(this.outcome as T);
    }
    if (this.state === REJECTED) return Promise.reject(this.outcome);
    this.pending ??= new Promise<T>((resolve, reject) => {
      this.resolvePromise = resolve as (value: unknown) => void;
      this.rejectPromise = reject;
    });
    return this.pending;
  }

  private wake(): void {
    const waiters = this.waiters;
    if (waiters === null) return;
    this.waiters = null;
    for (const w of waiters) w();
  }

  /** @internal A request that completes as `running` settles (a nonblocking collective, run as its blocking call). */
  static _of<T>(running: Promise<T>): Request<T> {
    const request = new Request<T>();
    running.then((value) => request._resolve(value), (err: unknown) => request._reject(err));
    return request;
  }

  /** Waits for all; rejects with the first failure (MPI_Waitall). An inactive persistent request gives its last round's value. */
  static waitall<T>(requests: readonly Request<T>[]): Promise<T[]> {
    try {
      checkRequests('waitall', requests);
    } catch (err) {
      return Promise.reject(err);
    }
    return Promise.all(requests.map((r) => {
      r._claim();
      return r.promise();
    }));
  }

  /**
   * Waits for one; resolves with its index and value (MPI_Waitany). With no
   * active request (an empty list, or only inactive persistent ones) it
   * resolves at once with index -1, as MPI gives MPI_UNDEFINED.
   */
  static async waitany<T>(requests: readonly Request<T>[]): Promise<{ index: number; value: T | undefined }> {
    checkRequests('waitany', requests);
    const first = firstDone(requests);
    let index = first;
    if (index === NONE_ACTIVE) return { index: -1, value: undefined };
    if (index < 0) {
      index = await new Promise<number>((resolve) => {
        requests.forEach((r, i) => {
          if (r._isActive()) r._whenDone(() => resolve(i));
        });
      });
    }
    const request = requests[index]!;
    request._claim();
    return { index, value: request.outcomeOf(undefined).value };
  }

  /** All done? Then their values; never waits (MPI_Testall). An inactive persistent request counts as done. */
  static testall<T>(requests: readonly Request<T>[]): { done: boolean; values?: T[] } {
    checkRequests('testall', requests);
    for (const r of requests) if (!r.done) return { done: false };
    return {
      done: true,
      values: requests.map((r) => {
        r._claim();
        return r.outcomeOf(undefined).value as T;
      }),
    };
  }

  /**
   * One that is done, if any; never waits (MPI_Testany): `{ index, done:
   * true, value }` for the first completed active request (throwing its
   * error if it failed, as test does), `{ index: -1, done: false }` while
   * none has completed, and `{ index: -1, done: true }` when there is no
   * active request at all (an empty list, or only inactive persistent
   * ones), as MPI answers flag true and MPI_UNDEFINED.
   */
  static testany<T>(requests: readonly Request<T>[]): TestAnyResult<T> {
    checkRequests('testany', requests);
    const index = firstDone(requests);
    if (index === NONE_ACTIVE) return { index: -1, done: true };
    if (index < 0) return { index: -1, done: false };
    const request = requests[index]!;
    request._claim();
    return { index, done: true, value: request.outcomeOf(undefined).value };
  }

  /** Waits until at least one is done; returns every one that is (MPI_Waitsome). */
  static async waitsome<T>(requests: readonly Request<T>[]): Promise<{ indices: number[]; values: T[] }> {
    checkRequests('waitsome', requests);
    if (firstDone(requests) === NOT_YET) await Request.waitany(requests).catch(() => undefined);
    return Request.completed(requests);
  }

  /**
   * Every active request that is done, with its value; never waits
   * (MPI_Testsome). Empty lists when none is (MPI's outcount 0, or
   * MPI_UNDEFINED with no active request). A failed one throws its error.
   */
  static testsome<T>(requests: readonly Request<T>[]): { indices: number[]; values: T[] } {
    checkRequests('testsome', requests);
    return Request.completed(requests);
  }

  private static completed<T>(requests: readonly Request<T>[]): { indices: number[]; values: T[] } {
    const indices: number[] = [];
    const values: T[] = [];
    requests.forEach((r, i) => {
      if (r.done && r._isActive()) {
        r._claim();
        indices.push(i);
        values.push(r.outcomeOf(undefined).value as T);
      }
    });
    return { indices, values };
  }
}

/** firstDone's answers besides an index. */
const NOT_YET = -1;
const NONE_ACTIVE = -2;

/** Index of the first active request that is done; NOT_YET, or NONE_ACTIVE when no request is active. */
function firstDone(requests: readonly Request<unknown>[]): number {
  let active = false;
  for (let i = 0; i < requests.length; i++) {
    const r = requests[i]!;
    if (!r._isActive()) continue;
    if (r.done) return i;
    active = true;
  }
  return active ? NOT_YET : NONE_ACTIVE;
}

/** The statics take a list of live requests; anything else names the call and the entry. */
function checkRequests(call: string, requests: unknown): void {
  if (!Array.isArray(requests)) {
    throw new TypeError(`${call}: requests must be an array of MPI.Request, got ${describe(requests)}`);
  }
  for (let i = 0; i < requests.length; i++) {
    const r: unknown = requests[i];
    if (!(r instanceof Request)) throw new TypeError(`${call}: requests[${i}] must be an MPI.Request, got ${describe(r)}`);
    if (r.isFreed) throw freedError(`${call}: requests[${i}]`);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}

/** What wait, test and the others say of a request after free(). */
export function freedError(call: string): MPIError {
  return new MPIError('ERR_REQUEST', `${call}: this request was freed (request.free()); a freed request cannot be waited on, tested, cancelled or started`);
}

const EMPTY_STATUS = new Status();
