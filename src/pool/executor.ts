/**
 * The submitting side of a task pool (DESIGN.md "Task pools"), shared by
 * MPI.PoolExecutor and MPI.CommExecutor: a queue of units (a submitted
 * task, or a chunk of a map), the workers (the remote group of an
 * intercommunicator) and the batches in flight on each.
 *
 * Dispatch. Units wait in one FIFO queue; a worker is given a batch of them
 * when it has room, room being a window of tasks in flight per worker that
 * follows how long that worker's tasks take: about WINDOW_MICROS of work
 * queued (so a worker never idles waiting for its next batch), at least 1
 * and at most MAX_WINDOW tasks. A slow worker's window is small, and a
 * worker whose tasks take seconds gets one at a time, as mpi4py gives them:
 * the load balances itself. Submits made in one turn of the event loop are
 * dispatched together (one microtask), so a loop of submits goes out in a
 * few large messages, not one message a task.
 *
 * Results. One receive (any worker, this executor's result tag) is posted
 * while anything is in flight and none when idle: an idle pool holds nothing
 * that keeps the process alive, so a program that forgets shutdown() still
 * ends.
 *
 * A worker's death (the launcher tells the submitter, onWorkerDeath: rank
 * 0 under mpi4ts run --pool, the spawning process for spawned workers):
 * the unit it was running rejects with a WorkerLostError
 * naming the worker, its host, pid and signal; the units it had been given
 * and not begun go back to the front of the queue, for the other workers.
 * The pool goes on with fewer workers (no replacement: that needs
 * comm.spawn); with none left it is broken, and every queued and later task
 * rejects with a PoolError.
 *
 * Memory. The queue holds what the program submitted (submit is the
 * program's own to bound); map keeps at most mapWindow chunks between
 * reading its inputs and yielding their results, whatever the input's
 * length (pool.ts `map`).
 */
import { ANY_SOURCE, MPIError, PoolError, TaskError, WorkerLostError, type PoolWorkerInfo } from '../base/index.js';
import { Status, type Request } from '../p2p/index.js';
import type { Intercomm } from '../comm/index.js';
import { OrderKind, resultTag, ORDER_TAG, type Order, type Outcome, type ResultMessage, type Unit } from './protocol.js';

/** Work queued per worker, in microseconds of its tasks: a few round trips' worth. */
const WINDOW_MICROS = 2000;
/** Most tasks in flight on one worker: a batch of empty tasks is about 10 bytes each. */
const MAX_WINDOW = 256;

/** A unit on the submitting side: its promise's ends, and where it is. */
interface PendingUnit {
  name: string;
  calls: unknown[][];
  resolve(results: unknown[]): void;
  reject(err: unknown): void;
  state: 'queued' | 'running' | 'done';
  signal: AbortSignal | null;
  onAbort: (() => void) | null;
}

interface Batch {
  id: number;
  worker: PoolWorker;
  units: PendingUnit[];
  /** Units before this one have their outcomes. */
  next: number;
}

interface PoolWorker {
  /** Rank in the remote group. */
  remote: number;
  info: PoolWorkerInfo;
  alive: boolean;
  /** Tasks (calls) in flight on it. */
  inFlight: number;
  batches: Batch[];
  /** Microseconds a task takes on it, a moving average; 0: not known yet. */
  microsPerTask: number;
}

/** Where an executor's workers are: the intercommunicator, and who they are. */
export interface WorkerGroup {
  /** Local group: this process alone; remote group: the workers. */
  inter: Intercomm;
  /** The workers to use, by remote rank, with their world rank, host and pid. */
  workers: { remote: number; info: PoolWorkerInfo }[];
  /** After the last result: what the executor's end asks of the workers (CommExecutor: STOP). */
  release(): Promise<void>;
}

export interface RunOptions {
  /** Aborting it removes a queued task, or rejects a running one at once (its result, when it comes, is dropped). */
  signal?: AbortSignal;
}

export interface ShutdownOptions {
  /** Resolve once every task submitted has settled (default true); false: resolve at once, the tasks still run. */
  wait?: boolean;
  /** Reject every task not yet running with a PoolError (default false), as Python's cancel_futures. */
  cancelFutures?: boolean;
}

export interface MapOptions extends RunOptions {
  /** Inputs sent to a worker in one unit (default 1): larger chunks for short tasks, as mpi4py's chunksize. */
  chunksize?: number;
  /** Yield results in input order (default true); false: as they complete. */
  ordered?: boolean;
}

/** Gives out the executor ids of this process: the result tags of two executors never meet. */
let nextExecutorId = 0;

/**
 * The part of PoolExecutor and CommExecutor that runs tasks: constructed
 * with the promise of its workers (they may be spawned, or found by a
 * collective call) and the task module's URL.
 */
export class Executor {
  private readonly id = nextExecutorId++;
  private readonly tag = resultTag(this.id);
  /** Entries before queueHead are taken and cleared to null (a FIFO without shift's copying, holding nothing it gave out). */
  private readonly queue: (PendingUnit | null)[] = [];
  /** Queue entries before this index are taken (a FIFO without shift's copying). */
  private queueHead = 0;
  private workers: PoolWorker[] = [];
  private group: WorkerGroup | null = null;
  private readonly batches = new Map<number, Batch>();
  private nextBatch = 0;
  private outstanding = 0;
  private dispatchScheduled = false;
  private receiving = false;
  /** Set when a posted receive failed (a worker died with data on its way): the loop waits for the death notice. */
  private wakeReceiver: (() => void) | null = null;
  /** Deaths noted so far: a receive that fails after its worker's death notice came must not wait for another. */
  private deaths = 0;
  /** The results receive while it is posted: cancelled when a death leaves nothing in flight (it would wait for ever). */
  private postedReceive: Request<ResultMessage> | null = null;
  private closed = false;
  private broken: PoolError | null = null;
  private readonly idleWaiters: (() => void)[] = [];
  private released: Promise<void> | null = null;
  /** Why the workers could not be had, if they could not: every task rejects with it. */
  private startError: unknown = null;
  readonly ready: Promise<void>;

  constructor(private readonly call: string, moduleUrl: string, workers: Promise<WorkerGroup>) {
    this.ready = workers.then((group) => this.start(group, moduleUrl), (err: unknown) => this.failStart(err));
  }

  /** Workers in use (0 until they are known). */
  get workerCount(): number {
    return this.workers.filter((w) => w.alive).length;
  }

  /** How many chunks a map keeps between reading inputs and yielding results: a few per worker. */
  get mapWindow(): number {
    return 32 * Math.max(1, this.workers.length);
  }

  private async start(group: WorkerGroup, moduleUrl: string): Promise<void> {
    this.group = group;
    this.workers = group.workers.map(({ remote, info }) => ({ remote, info, alive: true, inFlight: 0, batches: [], microsPerTask: 0 }));
    const open: Order = [OrderKind.OPEN, this.id, moduleUrl];
    // A worker that died meanwhile fails its send; its death notice takes it out of the pool.
    await Promise.all(this.workers.map((w) => group.inter.send(open, w.remote, ORDER_TAG).catch(() => {})));
    this.dispatch();
  }

  private failStart(err: unknown): void {
    this.startError = err;
    this.broken = err instanceof PoolError ? err : new PoolError(`${this.call}: the pool has no workers: ${(err as Error).message}`, { cause: err });
    for (const unit of this.takeQueued()) this.settle(unit, false, this.broken);
  }

  /** Queues a unit; resolves with its calls' results. */
  runUnit(name: string, calls: unknown[][], signal: AbortSignal | null, call: string): Promise<unknown[]> {
    if (this.closed) return Promise.reject(new PoolError(`${call}: the pool is shut down; no task can be submitted`));
    if (this.broken !== null) return Promise.reject(this.broken);
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    return new Promise<unknown[]>((resolve, reject) => {
      const unit: PendingUnit = { name, calls, resolve, reject, state: 'queued', signal, onAbort: null };
      if (signal !== null) {
        unit.onAbort = () => this.abortUnit(unit);
        signal.addEventListener('abort', unit.onAbort, { once: true });
      }
      this.outstanding++;
      this.queue.push(unit);
      this.scheduleDispatch();
    });
  }

  /** Stops new tasks; see ShutdownOptions. */
  async shutdown(options: ShutdownOptions = {}): Promise<void> {
    const wait = options.wait ?? true;
    this.closed = true;
    if (options.cancelFutures === true) {
      const cancelled = new PoolError(`${this.call}: the task was cancelled by shutdown({ cancelFutures: true }) before it ran`);
      for (const unit of this.takeQueued()) this.settle(unit, false, cancelled);
    }
    const done = this.whenIdle().then(() => this.release());
    if (wait) await done;
    else done.catch(() => {});
  }

  /** Called by the launcher's notice that the worker of world rank (universe index) `rank` died. */
  onWorkerDeath(rank: number, words: string): void {
    const worker = this.workers.find((w) => w.info.rank === rank && w.alive);
    if (worker === undefined) return;
    worker.alive = false;
    this.deaths++;
    const [running, ...notBegun] = worker.batches;
    worker.batches = [];
    worker.inFlight = 0;
    const back: PendingUnit[] = [];
    if (running !== undefined) {
      this.batches.delete(running.id);
      const unit = running.units[running.next];
      if (unit !== undefined && unit.state === 'running') {
        this.settle(unit, false, new WorkerLostError(`${this.call}: task "${unit.name}" was running on ${words}`, worker.info));
      }
      back.push(...running.units.slice(running.next + 1));
    }
    for (const batch of notBegun) {
      this.batches.delete(batch.id);
      back.push(...batch.units);
    }
    const requeue = back.filter((u) => u.state === 'running');
    for (const unit of requeue) unit.state = 'queued';
    this.queue.splice(this.queueHead, 0, ...requeue);
    if (!this.workers.some((w) => w.alive)) {
      this.broken = new PoolError(`${this.call}: the pool is broken: every worker has died (the last: ${words})`);
      for (const unit of this.takeQueued()) this.settle(unit, false, this.broken);
    }
    this.wakeReceiver?.();
    if (this.batches.size === 0) this.postedReceive?.cancel();
    this.scheduleDispatch();
    this.checkIdle();
  }

  private scheduleDispatch(): void {
    if (this.dispatchScheduled || this.group === null) return;
    this.dispatchScheduled = true;
    queueMicrotask(() => {
      this.dispatchScheduled = false;
      this.dispatch();
    });
  }

  /** Gives each worker with room a batch, round after round, while units wait. */
  private dispatch(): void {
    const group = this.group;
    if (group === null) return;
    let gave = true;
    while (gave && this.queueHead < this.queue.length) {
      gave = false;
      for (const worker of this.workers) {
        if (!worker.alive) continue;
        const window = this.windowOf(worker);
        let room = window - worker.inFlight;
        // Units larger than the window (a map's chunks of quick tasks): one more goes while one runs, or the worker idles a round trip between them.
        if (room <= 0 && window > 1 && worker.batches.length < 2) room = 1;
        if (room <= 0) continue;
        const units = this.takeForBatch(room);
        if (units.length === 0) break;
        this.send(group, worker, units);
        gave = true;
      }
    }
    this.compactQueue();
    if (this.batches.size > 0 && !this.receiving) void this.receiveResults(group);
  }

  /**
   * The tasks one worker may have in flight. Until its speed is known, the
   * pool's (another worker's) or 1: the first batch tells.
   */
  private windowOf(worker: PoolWorker): number {
    const micros = worker.microsPerTask || this.workers.find((w) => w.microsPerTask > 0)?.microsPerTask || 0;
    if (micros === 0) return 1;
    return Math.max(1, Math.min(MAX_WINDOW, Math.floor(WINDOW_MICROS / micros)));
  }

  /** Queued units for one batch: at least one, then while the calls fit in `room`. */
  private takeForBatch(room: number): PendingUnit[] {
    const units: PendingUnit[] = [];
    let calls = 0;
    while (this.queueHead < this.queue.length) {
      const unit = this.queue[this.queueHead];
      if (unit === null || unit === undefined || unit.state !== 'queued') {
        this.queue[this.queueHead++] = null;
        continue;
      }
      if (units.length > 0 && calls + unit.calls.length > room) break;
      this.queue[this.queueHead++] = null;
      units.push(unit);
      calls += unit.calls.length;
    }
    return units;
  }

  private compactQueue(): void {
    if (this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
    } else if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  private send(group: WorkerGroup, worker: PoolWorker, units: PendingUnit[]): void {
    const batch: Batch = { id: this.nextBatch++, worker, units, next: 0 };
    for (const unit of units) {
      unit.state = 'running';
      worker.inFlight += unit.calls.length;
    }
    worker.batches.push(batch);
    this.batches.set(batch.id, batch);
    const order: Order = [OrderKind.TASKS, this.id, batch.id, units.map((u): Unit => [u.name, u.calls])];
    group.inter.send(order, worker.remote, ORDER_TAG).catch((err: unknown) => {
      // The worker is gone (its death notice follows and requeues the batch), or an argument cannot be sent.
      if (err instanceof MPIError && err.code === 'MPI4TS_ERR_JOB') return;
      this.failBatch(batch, err);
    });
  }

  /** A batch that could not be sent: its units reject with why, the worker's room comes back. */
  private failBatch(batch: Batch, err: unknown): void {
    if (!this.batches.delete(batch.id)) return;
    const worker = batch.worker;
    worker.batches = worker.batches.filter((b) => b !== batch);
    for (const unit of batch.units) {
      worker.inFlight -= unit.calls.length;
      this.settle(unit, false, err);
    }
    this.scheduleDispatch();
    this.checkIdle();
  }

  private async receiveResults(group: WorkerGroup): Promise<void> {
    this.receiving = true;
    const status = new Status();
    while (this.batches.size > 0) {
      let message: ResultMessage;
      const deathsBefore = this.deaths;
      const request = group.inter.irecv<ResultMessage>(ANY_SOURCE, this.tag);
      this.postedReceive = request;
      try {
        message = await request.wait(status);
        this.postedReceive = null;
        // Cancelled: the last batches in flight were on a worker that died.
        if (status.cancelled) continue;
      } catch {
        this.postedReceive = null;
        // A worker died with a result on its way, or every worker has: its death notice says which (it may have come already).
        if (this.deaths === deathsBefore) {
          await new Promise<void>((resolve) => {
            this.wakeReceiver = resolve;
          });
          this.wakeReceiver = null;
        }
        continue;
      }
      this.onResult(message);
    }
    this.receiving = false;
  }

  private onResult([batchId, firstUnit, outcomes, micros]: ResultMessage): void {
    const batch = this.batches.get(batchId);
    if (batch === undefined) return;
    const worker = batch.worker;
    let calls = 0;
    outcomes.forEach((outcome, i) => {
      const unit = batch.units[firstUnit + i];
      if (unit === undefined) return;
      calls += unit.calls.length;
      this.settleOutcome(unit, outcome, worker.info);
    });
    batch.next = firstUnit + outcomes.length;
    worker.inFlight -= calls;
    if (calls > 0) {
      const perTask = Math.max(1, micros / calls);
      worker.microsPerTask = worker.microsPerTask === 0 ? perTask : 0.7 * worker.microsPerTask + 0.3 * perTask;
    }
    if (batch.next >= batch.units.length) {
      this.batches.delete(batchId);
      worker.batches = worker.batches.filter((b) => b !== batch);
    }
    this.dispatch();
    this.checkIdle();
  }

  private settleOutcome(unit: PendingUnit, outcome: Outcome, worker: PoolWorkerInfo): void {
    if (outcome[0] === 0) this.settle(unit, true, outcome[1]);
    else this.settle(unit, false, new TaskError(outcome[2], unit.name, worker), outcome[1]);
  }

  /** Ends a unit once (an aborted one's late result is dropped here). */
  private settle(unit: PendingUnit, ok: boolean, value: unknown, partial: unknown[] = []): void {
    if (unit.state === 'done') return;
    unit.state = 'done';
    if (unit.onAbort !== null) unit.signal?.removeEventListener('abort', unit.onAbort);
    this.outstanding--;
    if (ok) unit.resolve(value as unknown[]);
    else {
      if (partial.length > 0 && value instanceof Error) Object.defineProperty(value, 'partialResults', { value: partial, enumerable: false });
      unit.reject(value);
    }
    this.checkIdle();
  }

  private abortUnit(unit: PendingUnit): void {
    // Queued: it never runs (dispatch skips it). Running: its result is dropped when it comes.
    this.settle(unit, false, unit.signal?.reason);
  }

  private takeQueued(): PendingUnit[] {
    const units = this.queue.slice(this.queueHead).filter((u): u is PendingUnit => u !== null && u.state === 'queued');
    this.queue.length = 0;
    this.queueHead = 0;
    return units;
  }

  /** Every task settled (an aborted one that still runs on its worker is settled: shutdown does not wait for it). */
  private whenIdle(): Promise<void> {
    if (this.outstanding === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private checkIdle(): void {
    if (this.outstanding !== 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** Once: tells the workers this executor is done (CLOSE), then the group's own release. */
  private release(): Promise<void> {
    this.released ??= (async () => {
      await this.ready;
      const group = this.group;
      if (group === null) return;
      const close: Order = [OrderKind.CLOSE, this.id];
      await Promise.all(this.workers.filter((w) => w.alive).map((w) => group.inter.send(close, w.remote, ORDER_TAG).catch(() => {})));
      await group.release();
    })();
    return this.released;
  }

  /** For the error of a call made before the workers are known to be missing. */
  get failure(): unknown {
    return this.startError;
  }
}
