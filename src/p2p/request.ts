/**
 * A pending operation (MPI 4.0 section 3.7.3). Thenable, so `await req` works;
 * its promise is made only when someone waits, so a failed request nobody
 * waits on never becomes an unhandled rejection.
 */
import { ErrorClass, MPIError } from '../errors.js';
import { Status } from './status.js';

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export interface TestResult<T> {
  done: boolean;
  value?: T;
}

export class Request<T = unknown> implements PromiseLike<T> {
  /** Filled in when the request completes. */
  readonly status = new Status();
  private settled: Settled<T> | null = null;
  private waiters: (() => void)[] = [];
  private cancelHook: (() => boolean) | null = null;

  /** Internal: completes the request. */
  _resolve(value: T): void {
    if (this.settled !== null) return;
    this.settled = { ok: true, value };
    this.wake();
  }

  /** Internal: fails the request. */
  _reject(error: unknown): void {
    if (this.settled !== null) return;
    this.settled = { ok: false, error };
    this.status.error = error instanceof MPIError ? ErrorClass[error.errorClass] : ErrorClass.ERR_OTHER;
    this.wake();
  }

  /** Internal: how to take back a receive that has not matched yet. */
  _onCancel(hook: (() => boolean) | null): void {
    this.cancelHook = hook;
  }

  get done(): boolean {
    return this.settled !== null;
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
    const s = this.settled;
    if (s === null) return { done: false };
    status?.assign(this.status);
    if (!s.ok) throw s.error;
    return { done: true, value: s.value };
  }

  /**
   * Cancels a receive that has not matched yet (MPI_Cancel). It then completes
   * with `null` and `status.cancelled` true. Returns false if it was too late.
   */
  cancel(): boolean {
    if (this.settled !== null || this.cancelHook === null) return false;
    return this.cancelHook();
  }

  private promise(): Promise<T> {
    const s = this.settled;
    if (s !== null) return s.ok ? Promise.resolve(s.value) : Promise.reject(s.error);
    return new Promise<T>((resolve, reject) => {
      const settle = (): void => {
        const s = this.settled!;
        if (s.ok) resolve(s.value);
        else reject(s.error);
      };
      if (this.settled !== null) settle();
      else this.waiters.push(settle);
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
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
      requests.forEach((r, i) => r.waiters.push(() => resolve(i)));
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
