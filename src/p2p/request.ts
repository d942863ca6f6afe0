/**
 * A pending operation (MPI 4.1 section 3.7.3). Thenable, so `await req` works;
 * its promise is made only when someone waits, so a failed request nobody
 * waits on never becomes an unhandled rejection.
 */
import { ErrorClass, MPIError } from '../base/index.js';
import { Status } from './status.js';

export interface TestResult<T> {
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

  /** Internal: completes the request. */
  _resolve(value: T): void {
    if (this.state !== PENDING) return;
    this.state = FULFILLED;
    this.outcome = value;
    this.canceller = null;
    this.resolvePromise?.(value);
    this.wake();
  }

  /** Internal: fails the request. */
  _reject(error: unknown): void {
    if (this.state !== PENDING) return;
    this.state = REJECTED;
    this.outcome = error;
    this.canceller = null;
    this.status.error = error instanceof MPIError ? ErrorClass[error.errorClass] : ErrorClass.ERR_OTHER;
    this.rejectPromise?.(error);
    this.wake();
  }

  /** Internal: how to take back a receive that has not matched yet. */
  _onCancel(canceller: Cancellable | null): void {
    this.canceller = canceller;
  }

  get done(): boolean {
    return this.state !== PENDING;
  }

  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.promise().then(onfulfilled, onrejected);
  }

  /** Waits for completion; copies the status into `status` when given. */
  wait(status?: Status): Promise<T> {
    // Not async: every promise hop is a microtask on the path of each message.
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
    if (this.state === PENDING) return { done: false };
    status?.assign(this.status);
    if (this.state === REJECTED) throw this.outcome;
    return { done: true, value: this.outcome as T };
  }

  /**
   * Cancels a receive that has not matched yet (MPI_Cancel). It then completes
   * with `null` and `status.cancelled` true. Returns false if it was too late.
   */
  cancel(): boolean {
    if (this.state !== PENDING || this.canceller === null) return false;
    return this.canceller.cancel();
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

  /** Calls `waiter` once when the request completes (at once if it has). */
  private onDone(waiter: () => void): void {
    if (this.state !== PENDING) waiter();
    else (this.waiters ??= []).push(waiter);
  }

  /** Waits for all; rejects with the first failure (MPI_Waitall). */
  static waitall<T>(requests: readonly Request<T>[]): Promise<T[]> {
    return Promise.all(requests.map((r) => r.promise()));
  }

  /** Waits for one; resolves with its index and value (MPI_Waitany). */
  static async waitany<T>(requests: readonly Request<T>[]): Promise<{ index: number; value: T | undefined }> {
    if (requests.length === 0) return { index: -1, value: undefined };
    const first = requests.findIndex((r) => r.done);
    const index = first >= 0 ? first : await new Promise<number>((resolve) => {
      requests.forEach((r, i) => r.onDone(() => resolve(i)));
    });
    return { index, value: requests[index]!.test().value };
  }

  /** All done? Then their values; never waits (MPI_Testall). */
  static testall<T>(requests: readonly Request<T>[]): { done: boolean; values?: T[] } {
    if (!requests.every((r) => r.done)) return { done: false };
    return { done: true, values: requests.map((r) => r.test().value as T) };
  }

  /** Waits until at least one is done; returns every one that is (MPI_Waitsome). */
  static async waitsome<T>(requests: readonly Request<T>[]): Promise<{ indices: number[]; values: T[] }> {
    if (requests.length > 0 && !requests.some((r) => r.done)) await Request.waitany(requests).catch(() => undefined);
    const indices: number[] = [];
    const values: T[] = [];
    requests.forEach((r, i) => {
      if (r.done) {
        indices.push(i);
        values.push(r.test().value as T);
      }
    });
    return { indices, values };
  }
}
