/**
 * The public face of task pools: MPI.PoolExecutor and MPI.CommExecutor, in
 * the shape of mpi4py.futures (submit, map, starmap, shutdown) with what
 * Node users know from piscina (`run(name, args, { signal })`, promises,
 * AbortSignal, `await using`). The work is executor.ts's; where the
 * workers come from is workers.ts's.
 *
 * map's memory bound: it reads its input only as fast as results are
 * taken, keeping at most `mapWindow` chunks (32 per worker) between the
 * input and the caller, in flight or waiting to be yielded in order; an
 * input of ten million items is never held at once.
 */
import { setMaxListeners } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isAbsolute, resolve } from 'node:path';
import { MPIError, PoolError, type PoolWorkerInfo } from '../base/index.js';
import type { Comm, Intercomm } from '../comm/index.js';
import { Executor, type MapOptions, type RunOptions, type ShutdownOptions, type WorkerGroup } from './executor.js';
import { bridge, serveBridge, spawnedWorkers, stopOrder, workerGroup, ORDER_TAG, type JobWorkers } from './workers.js';

export interface PoolExecutorOptions {
  /** The task module: its exported functions are the tasks, named by export (`new URL('./tasks.ts', import.meta.url)`). */
  module: URL | string;
  /** Use at most this many workers (default: all there are). */
  maxWorkers?: number;
}

/** What a PoolExecutor needs of the process (src/index.ts passes it): the job's workers, if it has them. */
export interface PoolContext {
  /** Under `mpi4ts run --pool` on rank 0: the job's other ranks; else null. */
  jobWorkers: JobWorkers | null;
  /** Under --pool with one rank: there is no rank to serve (the error says so). */
  poolOfOne: boolean;
  /** Registers the handler of the launcher's notices that a worker died (mpi4ts run --pool, or spawned). */
  watchDeaths(handler: (rank: number, words: string) => void): void;
  /** Outside --pool: starts `count` pool worker processes (Comm.spawnPoolWorkers), the remote group of the Intercomm. */
  spawnWorkers(count: number): Promise<Intercomm>;
  /** How many a PoolExecutor without maxWorkers spawns. */
  defaultWorkers: number;
}

function moduleUrlOf(call: string, module: unknown): string {
  let url: string;
  if (module instanceof URL) url = module.href;
  else if (typeof module === 'string' && module !== '') url = /^[a-z][a-z0-9+.-]*:/i.test(module) ? module : isAbsolute(module) ? pathToFileURL(module).href : '';
  else url = '';
  if (url === '') {
    throw new MPIError('ERR_ARG', `${call}: options.module must be the task module's URL (e.g. new URL('./tasks.ts', import.meta.url)) ` +
      `or absolute path, got ${typeof module === 'string' ? JSON.stringify(module) : String(module)}`);
  }
  if (url.startsWith('file:') && !existsSync(fileURLToPath(url))) {
    throw new MPIError('ERR_ARG', `${call}: the task module ${fileURLToPath(url)} does not exist`);
  }
  return url;
}

function maxWorkersOf(call: string, value: unknown): number | null {
  if (value === undefined) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new MPIError('ERR_ARG', `${call}: options.maxWorkers must be a whole number >= 1, got ${String(value)}`);
  }
  return value;
}

function checkName(call: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || name === '') {
    throw new MPIError('ERR_ARG', `${call}: the task must be named by the export of the task module (a non-empty string), got ${typeof name === 'string' ? '""' : String(name)}`);
  }
}

function signalOf(call: string, options: RunOptions | undefined): AbortSignal | null {
  const signal = options?.signal;
  if (signal === undefined) return null;
  if (!(signal instanceof AbortSignal)) throw new MPIError('ERR_ARG', `${call}: options.signal must be an AbortSignal, got ${String(signal)}`);
  return signal;
}

/** The methods PoolExecutor and CommExecutor share (mpi4py's Executor interface). */
export class TaskPool {
  /** @internal */
  protected readonly executor: Executor;

  /** @internal */
  protected constructor(private readonly className: string, moduleUrl: string, workers: Promise<WorkerGroup>) {
    this.executor = new Executor(className, moduleUrl, workers);
  }

  /** Resolves once the workers are known (failing as the first task would, if there are none). */
  async ready(): Promise<this> {
    await this.executor.ready;
    const failure = this.executor.failure;
    if (failure !== null) throw failure;
    return this;
  }

  /** Workers this pool uses (0 until ready; fewer after one died). */
  get size(): number {
    return this.executor.workerCount;
  }

  /** Runs export `name` of the task module with `args` on a worker; resolves with what it returned. */
  submit<R = unknown>(name: string, ...args: unknown[]): Promise<R> {
    const call = `${this.className}.submit`;
    checkName(call, name);
    return this.executor.runUnit(name, [args], null, call).then((r) => r[0] as R);
  }

  /** submit with options: `signal` aborts the task (queued: it never runs; running: its promise rejects at once). */
  run<R = unknown>(name: string, args: readonly unknown[] = [], options?: RunOptions): Promise<R> {
    const call = `${this.className}.run`;
    checkName(call, name);
    if (!Array.isArray(args)) throw new MPIError('ERR_ARG', `${call}: args must be an array of the task's arguments, got ${String(args)}`);
    return this.executor.runUnit(name, [[...args]], signalOf(call, options), call).then((r) => r[0] as R);
  }

  /**
   * Export `name` called on every item of `inputs` (one argument each), as
   * an async iterable of the results: in input order (`ordered`, default),
   * or as they complete. `chunksize` items go to a worker together. Reads
   * `inputs` only as results are taken (see the module's header for the
   * bound). A task that throws ends the iteration with its TaskError, where
   * its result would have come.
   */
  map<R = unknown>(name: string, inputs: Iterable<unknown> | AsyncIterable<unknown>, options: MapOptions = {}): AsyncIterableIterator<R> {
    const call = `${this.className}.map`;
    return this.mapCalls<R>(call, name, inputs, options, (item) => [item]);
  }

  /** As map, each item being the argument list of one call (mpi4py's starmap). */
  starmap<R = unknown>(name: string, inputs: Iterable<readonly unknown[]> | AsyncIterable<readonly unknown[]>, options: MapOptions = {}): AsyncIterableIterator<R> {
    const call = `${this.className}.starmap`;
    return this.mapCalls<R>(call, name, inputs, options, (item) => {
      if (!Array.isArray(item)) throw new MPIError('ERR_ARG', `${call}: every input must be an array of arguments, got ${String(item)}`);
      return [...(item as unknown[])];
    });
  }

  /**
   * No more tasks; with `wait` (default) resolves when every task submitted
   * has settled. `cancelFutures` rejects those not yet running with a PoolError.
   */
  shutdown(options: ShutdownOptions = {}): Promise<void> {
    return this.executor.shutdown(options);
  }

  /** `await using pool = ...`: shutdown({ wait: true }) at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  private mapCalls<R>(call: string, name: string, inputs: Iterable<unknown> | AsyncIterable<unknown>, options: MapOptions,
    argsOf: (item: unknown) => unknown[]): AsyncIterableIterator<R> {
    checkName(call, name);
    const chunksize = options.chunksize ?? 1;
    if (typeof chunksize !== 'number' || !Number.isInteger(chunksize) || chunksize < 1) {
      throw new MPIError('ERR_ARG', `${call}: options.chunksize must be a whole number >= 1, got ${String(chunksize)}`);
    }
    const ordered = options.ordered ?? true;
    const signal = signalOf(call, options);
    const source = inputs as Partial<Iterable<unknown> & AsyncIterable<unknown>> | null;
    const asyncOf = source?.[Symbol.asyncIterator];
    const syncOf = source?.[Symbol.iterator];
    const iterator = typeof asyncOf === 'function' ? asyncOf.call(source) : typeof syncOf === 'function' ? syncOf.call(source) : null;
    if (iterator === null) throw new MPIError('ERR_ARG', `${call}: inputs must be iterable (an array, a generator, a stream), got ${String(inputs)}`);
    return mapResults<R>(this.executor, call, name, iterator, chunksize, ordered, signal, argsOf);
  }
}

/** A chunk of a map between its inputs and its results. */
interface Chunk {
  results: Promise<unknown[]>;
  settled: boolean;
}

/** map's generator: keeps executor.mapWindow chunks going, yields their results (see the module's header). */
async function* mapResults<R>(executor: Executor, call: string, name: string, iterator: Iterator<unknown> | AsyncIterator<unknown>,
  chunksize: number, ordered: boolean, signal: AbortSignal | null, argsOf: (item: unknown) => unknown[]): AsyncIterableIterator<R> {
  await executor.ready;
  const inFlight: Chunk[] = [];
  let exhausted = false;
  // Unordered: chunks wake the generator as they settle, in the order they do.
  const settledOrder: Chunk[] = [];
  let wake: (() => void) | null = null;
  const abort = new AbortController();
  // One listener per chunk in flight (mapWindow at most), not a leak.
  setMaxListeners(0, abort.signal);
  const onAbort = (): void => abort.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      while (!exhausted && inFlight.length < executor.mapWindow) {
        const calls: unknown[][] = [];
        while (calls.length < chunksize) {
          const next = await iterator.next();
          if (next.done === true) {
            exhausted = true;
            break;
          }
          calls.push(argsOf(next.value));
        }
        if (calls.length === 0) break;
        const chunk: Chunk = { results: executor.runUnit(name, calls, abort.signal, call), settled: false };
        chunk.results.then(() => {}, () => {}).finally(() => {
          chunk.settled = true;
          if (ordered) return;
          settledOrder.push(chunk);
          wake?.();
        });
        inFlight.push(chunk);
      }
      if (inFlight.length === 0) return;
      let chunk: Chunk;
      if (ordered) {
        chunk = inFlight.shift()!;
      } else {
        while (settledOrder.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
        chunk = settledOrder.shift()!;
        inFlight.splice(inFlight.indexOf(chunk), 1);
      }
      let results: unknown[];
      try {
        results = await chunk.results;
      } catch (err) {
        // The results before the call that threw are the caller's, then the error.
        const partial = (err as { partialResults?: unknown[] } | null)?.partialResults ?? [];
        for (const r of partial) yield r as R;
        throw err;
      }
      for (const r of results) yield r as R;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // Ended early (a break, an error, an abort): the chunks still queued never run.
    if (inFlight.length > 0) abort.abort(new PoolError(`${call}: the iteration ended before this chunk's results were taken`));
    if (!exhausted) await iterator.return?.();
  }
}

/**
 * mpi4py's MPIPoolExecutor: workers that run the exported functions of a
 * task module. Under `mpi4ts run -n N --pool script.ts` they are ranks
 * 1..N-1 of the job (rank 0 runs the script); without --pool they are
 * spawned (comm.spawn, under mpi4ts run), `maxWorkers` of them.
 */
export class PoolExecutorBase extends TaskPool {
  /** @internal */
  constructor(context: PoolContext, options: PoolExecutorOptions) {
    const call = 'PoolExecutor';
    if (typeof options !== 'object' || options === null) {
      throw new MPIError('ERR_ARG', `${call}: options must be an object { module, maxWorkers? }, got ${String(options)}`);
    }
    const url = moduleUrlOf(call, options.module);
    const maxWorkers = maxWorkersOf(call, options.maxWorkers);
    const program = process.argv[1];
    if (program !== undefined && url === pathToFileURL(resolve(program)).href) {
      // A worker importing the program would run its body there.
      throw new MPIError('ERR_ARG', `${call}: the task module ${program} is the program itself; put the tasks in a module of their own`);
    }
    const jobWorkers = context.jobWorkers;
    if (context.poolOfOne) {
      throw new MPIError('ERR_OTHER', `${call}: no workers: under mpi4ts run --pool, ranks 1..N-1 are the workers, and this job has one rank; run it with -n 2 or more`);
    }
    const workers = jobWorkers === null ? spawnedWorkers(maxWorkers ?? context.defaultWorkers, (n) => context.spawnWorkers(n)) : jobWorkers.group(maxWorkers);
    super(call, url, workers);
    context.watchDeaths((rank, words) => this.executor.onWorkerDeath(rank, words));
  }
}

/**
 * mpi4py's MPICommExecutor: over `comm`, rank `root` submits and the other
 * ranks serve. Collective over `comm`: on the root, start() resolves with
 * the executor; on every other rank it resolves with null once the root's
 * executor has shut down (it served until then), as mpi4py's
 * `with MPICommExecutor(comm, root) as executor: if executor is not None:`.
 */
export class CommExecutor extends TaskPool {
  private constructor(moduleUrl: string, workers: Promise<WorkerGroup>) {
    super('CommExecutor', moduleUrl, workers);
  }

  /** See the class. `options.module` matters on the root only (the others import what the root names). */
  static async start(comm: Comm, root: number, options: PoolExecutorOptions): Promise<CommExecutor | null> {
    const call = 'CommExecutor.start';
    if (typeof root !== 'number' || !Number.isInteger(root) || root < 0 || root >= comm.size) {
      throw new MPIError('ERR_ROOT', `${call}: root ${String(root)} is out of range for a communicator of size ${comm.size} (0..${comm.size - 1})`);
    }
    if (comm.size < 2) throw new MPIError('ERR_ARG', `${call}: the communicator has 1 rank; a CommExecutor needs its root and at least one other rank to serve`);
    if (comm.rank !== root) {
      const inter = await bridge(comm, root);
      await serveBridge(inter, comm);
      inter.free();
      return null;
    }
    if (typeof options !== 'object' || options === null) {
      throw new MPIError('ERR_ARG', `${call}: options must be an object { module, maxWorkers? }, got ${String(options)}`);
    }
    const url = moduleUrlOf(call, options.module);
    const maxWorkers = maxWorkersOf(call, options.maxWorkers);
    const inter = await bridge(comm, root);
    const release = async (): Promise<void> => {
      // Every rank of the remote group stops, those beyond maxWorkers too (they served nothing).
      await Promise.all(Array.from({ length: inter.remoteSize }, (_, r) => inter.send(stopOrder(), r, ORDER_TAG)));
      inter.free();
    };
    const executor = new CommExecutor(url, workerGroup(inter, maxWorkers, release));
    await executor.ready();
    return executor;
  }
}

export type { PoolWorkerInfo };
