/**
 * The communicator (MPI 4.0 chapter 7): a group of ranks and a matching space
 * of their own. This class is the public face; each method checks its
 * arguments and hands off to the p2p engine or a collective algorithm.
 */
import { ANY_SOURCE, ANY_TAG, COMM_TYPE_SHARED, PROC_NULL, TAG_UB, UNDEFINED, MPIError } from '../base/index.js';
import type { RawBuffer } from '../codec/index.js';
import { Request, Status } from '../p2p/index.js';
import { checkBuffer, checkDest, checkRecvTag, checkRoot, checkSendTag, checkSource } from './validate.js';
import { BAND, collectives, Op, runCollective, SUM, type Channel, type TypedArray } from '../coll/index.js';
import type { World } from './world.js';
import { CartComm } from './cart.js';
import { ContextPool, contextIdOf, pointToPointContext, SELF_CONTEXT_ID } from './context.js';

export interface CommInit {
  world: World;
  /** World rank of each member, indexed by rank in this communicator. */
  group: readonly number[];
  /** Matching context of point-to-point traffic; collectives use context + 1. */
  context: number;
}

export class Comm {
  readonly rank: number;
  readonly size: number;
  /** @internal */ readonly world: World;
  /** @internal */ readonly group: readonly number[];
  /** @internal */ readonly context: number;
  private freed = false;

  /** @internal Communicators come from COMM_WORLD, dup, split and createCart. */
  constructor(init: CommInit) {
    this.world = init.world;
    this.group = init.group;
    this.context = init.context;
    this.size = init.group.length;
    this.rank = init.group.indexOf(init.world.rank);
    // Frames in its contexts must come from its members, under their rank in it.
    init.world.engine.setGroup(init.context, init.group);
  }

  /** Matching context of this communicator's collective traffic: no user tag can reach it. */
  get collContext(): number {
    return this.context + 1;
  }

  /** @internal Throws if the communicator was freed. */
  checkUsable(call: string): void {
    if (this.freed) throw new MPIError('ERR_COMM', `${call}: this communicator was freed`);
  }

  /** @internal */
  markFreed(): void {
    this.freed = true;
  }

  // ---- point-to-point (MPI 4.0 chapter 3) ----

  /** Standard-mode send (MPI_Send): resolves when `value` may be changed again. */
  send(value: unknown, dest: number, tag = 0): Promise<void> {
    return this.sent('send', value, dest, tag, false);
  }

  /** Synchronous send (MPI_Ssend): resolves once the receiver has matched it. */
  ssend(value: unknown, dest: number, tag = 0): Promise<void> {
    return this.sent('ssend', value, dest, tag, true);
  }

  /** Nonblocking standard send (MPI_Isend). */
  isend(value: unknown, dest: number, tag = 0): Request<void> {
    return this.startSend('isend', value, dest, tag, false);
  }

  /** Nonblocking synchronous send (MPI_Issend). */
  issend(value: unknown, dest: number, tag = 0): Request<void> {
    return this.startSend('issend', value, dest, tag, true);
  }

  /** Receives a value (MPI_Recv); fills `status` when given. */
  recv<T = unknown>(source: number = ANY_SOURCE, tag: number = ANY_TAG, status?: Status): Promise<T> {
    return this.received('recv', A_VALUE, source, tag, status) as Promise<T>;
  }

  /** Receives raw bytes into `buf` (MPI_Recv on a buffer); too small a buffer is MPI_ERR_TRUNCATE. */
  recvInto<B extends RawBuffer>(buf: B, source: number = ANY_SOURCE, tag: number = ANY_TAG, status?: Status): Promise<B> {
    return this.received('recvInto', buf, source, tag, status) as Promise<B>;
  }

  /** Nonblocking receive (MPI_Irecv). Receives match in the order they are posted. */
  irecv<T = unknown>(source: number = ANY_SOURCE, tag: number = ANY_TAG): Request<T> {
    return this.startRecv('irecv', A_VALUE, source, tag) as Request<T>;
  }

  /** Nonblocking receive into a caller-owned buffer. */
  irecvInto<B extends RawBuffer>(buf: B, source: number = ANY_SOURCE, tag: number = ANY_TAG): Request<B> {
    return this.startRecv('irecvInto', buf, source, tag) as Request<B>;
  }

  /** Sends and receives at once (MPI_Sendrecv), safe against the exchange deadlock. */
  async sendrecv<T = unknown>(value: unknown, dest: number, sendtag = 0,
    source: number = ANY_SOURCE, recvtag: number = ANY_TAG, status?: Status): Promise<T> {
    // Both halves' arguments first: a receive posted before a bad send would wait for ever.
    this.checkUsable('sendrecv');
    checkDest(dest, this.size, 'dest', 'sendrecv');
    checkSendTag(sendtag, 'sendtag', 'sendrecv');
    const receive = this.startRecv('sendrecv', A_VALUE, source, recvtag) as Request<T>;
    let send: Request<void>;
    try {
      send = this.startSend('sendrecv', value, dest, sendtag, false);
    } catch (err) {
      // The value cannot be encoded: take the receive back.
      receive.cancel();
      throw err;
    }
    const [received] = await Promise.all([receive.wait(status), send.wait()]);
    return received as T;
  }

  /** Waits for a matching message without receiving it (MPI_Probe). */
  async probe(source: number = ANY_SOURCE, tag: number = ANY_TAG, status?: Status): Promise<Status> {
    this.checkUsable('probe');
    checkSource(source, this.size);
    checkRecvTag(tag);
    const found = await this.world.engine.probe(this.context, source, this.worldRankOf(source), tag);
    return status === undefined ? found : status.assign(found);
  }

  /**
   * Is a matching message waiting? (MPI_Iprobe) Synchronous, like mpi4py: it
   * sees what has arrived by the last turn of the event loop, so a polling
   * loop must await something (a timer, a receive) between calls.
   */
  iprobe(source: number = ANY_SOURCE, tag: number = ANY_TAG, status?: Status): boolean {
    this.checkUsable('iprobe');
    checkSource(source, this.size);
    checkRecvTag(tag);
    return this.world.engine.iprobe(this.context, source, tag, status);
  }

  // ---- communicators and topologies (MPI 4.0 chapters 7 and 8) ----
  // Each is collective over this communicator. The tags of its collective
  // steps are taken when it is called, like any collective's, so it keeps its
  // place among the collectives started here even though it runs later.

  /** A communicator with the same group and a matching space of its own (MPI_Comm_dup). */
  dup(): Promise<Comm> {
    this.checkUsable('dup');
    const agreeTag = this.nextCollectiveTag();
    return this.createComm(async (pool) => {
      const id = await this.agreeContextId(pool, 'dup', agreeTag);
      pool.take(id);
      return new Comm({ world: this.world, group: this.group, context: pointToPointContext(id) });
    });
  }

  /**
   * Splits into one communicator per `color`, ranked by `key` then by rank
   * here (MPI_Comm_split). Color UNDEFINED gives null.
   */
  split(color: number, key = 0): Promise<Comm | null> {
    this.checkUsable('split');
    return this.splitInto('split', color, key, (init) => new Comm(init));
  }

  /** The ranks of this communicator that share this host (MPI_Comm_split_type). */
  splitType(type: number = COMM_TYPE_SHARED, key = 0): Promise<Comm | null> {
    this.checkUsable('splitType');
    if (type !== COMM_TYPE_SHARED && type !== UNDEFINED) {
      return Promise.reject(new MPIError('ERR_ARG', `splitType: type ${String(type)} is not supported ` +
        `(COMM_TYPE_SHARED = ${COMM_TYPE_SHARED}, or UNDEFINED)`));
    }
    const table = this.world.table;
    const myHost = table[this.world.rank]!.hostId;
    // Color: the lowest rank here on the same host, the same on all of them.
    const color = type === UNDEFINED ? UNDEFINED : this.group.findIndex((w) => table[w]!.hostId === myHost);
    return this.splitInto('splitType', color, key, (init) => new Comm(init));
  }

  /**
   * A communicator whose ranks sit on a grid (MPI_Cart_create). Ranks beyond
   * the grid's size get null. `reorder` is accepted and ignored, as MPI allows.
   */
  createCart(dims: readonly number[], periods?: readonly boolean[], reorder = false): Promise<CartComm | null> {
    this.checkUsable('createCart');
    void reorder;
    let cells: number;
    let wraps: boolean[];
    try {
      cells = checkCartDims(dims, this.size);
      wraps = checkCartPeriods(periods, dims.length);
    } catch (err) {
      return Promise.reject(err);
    }
    const color = this.rank < cells ? 0 : UNDEFINED;
    return this.splitInto('createCart', color, this.rank,
      (init) => new CartComm({ ...init, dims, periods: wraps })) as Promise<CartComm | null>;
  }

  /** Releases this communicator (MPI_Comm_free); any further call on it throws. */
  free(): void {
    this.checkUsable('free');
    const id = contextIdOf(this.context);
    if (id <= SELF_CONTEXT_ID) throw new MPIError('ERR_COMM', 'free: COMM_WORLD and COMM_SELF cannot be freed');
    this.markFreed();
    this.world.engine.setGroup(this.context, null);
    this.world.contexts.release(id);
  }

  /** Ends every rank of the job (MPI_Abort); the launcher exits with `code`. */
  abort(code = 1): Promise<never> {
    const exitCode = Number.isInteger(code) && code >= 0 && code <= 255 ? code : 1;
    const message = `rank ${this.world.rank} called abort(${code})`;
    return this.world.bootstrap.abort(exitCode, message).then(() => process.exit(exitCode));
  }

  // ---- collectives (MPI 4.0 chapter 6); algorithms in src/coll/ ---- [coll block begins]

  private collectiveCalls = 0;

  /**
   * @internal The tag of every message of the next collective call: its
   * sequence number. Ranks call collectives in the same order, so they agree
   * on it, and calls started without awaiting never cross-match.
   */
  nextCollectiveTag(): number {
    const tag = this.collectiveCalls;
    this.collectiveCalls = tag >= TAG_UB ? 0 : tag + 1;
    return tag;
  }

  /** Waits until every rank has called it (MPI_Barrier). */
  barrier(): Promise<void> {
    return this.collective('barrier', () => {}, (ch) => collectives.barrier(ch));
  }

  /** The root's value, on every rank (MPI_Bcast). */
  bcast<T>(value: T, root = 0): Promise<T> {
    return this.collective('bcast', () => checkRoot(root, this.size), (ch) => collectives.bcast(ch, value, root)) as Promise<T>;
  }

  /** `values[rank]` of the root's array of `size` items (MPI_Scatter); others pass null. */
  scatter<T>(values: readonly T[] | null, root = 0): Promise<T> {
    return this.collective('scatter', () => checkRoot(root, this.size), (ch) => collectives.scatter(ch, values, root)) as Promise<T>;
  }

  /** Every rank's value, in rank order, at the root; null elsewhere (MPI_Gather). */
  gather<T>(value: T, root = 0): Promise<T[] | null> {
    return this.collective('gather', () => checkRoot(root, this.size), (ch) => collectives.gather(ch, value, root)) as Promise<T[] | null>;
  }

  /** Every rank's value, in rank order, on every rank (MPI_Allgather). */
  allgather<T>(value: T): Promise<T[]> {
    return this.collective('allgather', () => {}, (ch) => collectives.allgather(ch, value)) as Promise<T[]>;
  }

  /** Item i of the result is what rank i put at index `rank` (MPI_Alltoall). */
  alltoall<T>(values: readonly T[]): Promise<T[]> {
    return this.collective('alltoall', () => {}, (ch) => collectives.alltoall(ch, values)) as Promise<T[]>;
  }

  /** The reduction of every rank's value at the root; null elsewhere (MPI_Reduce). */
  reduce<T>(value: T, op: Op = SUM, root = 0): Promise<T | null> {
    return this.collective('reduce', () => { checkOp(op); checkRoot(root, this.size); },
      (ch) => collectives.reduce(ch, value, op, root)) as Promise<T | null>;
  }

  /** The reduction of every rank's value, on every rank (MPI_Allreduce). */
  allreduce<T>(value: T, op: Op = SUM): Promise<T> {
    return this.collective('allreduce', () => checkOp(op), (ch) => collectives.allreduce(ch, value, op)) as Promise<T>;
  }

  /**
   * The reduction of typed arrays everywhere, into `recvbuf` (MPI_Allreduce
   * with a receive buffer): `recvbuf` has the type and length of `sendbuf`,
   * or is `sendbuf` itself to reduce in place. Large arrays allocate nothing.
   */
  allreduceInto<A extends TypedArray>(sendbuf: A, recvbuf: A, op: Op = SUM): Promise<A> {
    return this.collective('allreduceInto', () => checkOp(op), (ch) => collectives.allreduceInto(ch, sendbuf, recvbuf, op)) as Promise<A>;
  }

  /** Inclusive prefix reduction over ranks 0..rank (MPI_Scan). */
  scan<T>(value: T, op: Op = SUM): Promise<T> {
    return this.collective('scan', () => checkOp(op), (ch) => collectives.scan(ch, value, op, false)) as Promise<T>;
  }

  /** Exclusive prefix reduction over ranks 0..rank-1; null on rank 0 (MPI_Exscan). */
  exscan<T>(value: T, op: Op = SUM): Promise<T | null> {
    return this.collective('exscan', () => checkOp(op), (ch) => collectives.scan(ch, value, op, true)) as Promise<T | null>;
  }

  /**
   * Every rank's typed array joined in rank order at the root, null elsewhere
   * (MPI_Gatherv). `counts[i]` (significant at the root) is the length rank i sends.
   */
  gatherv<A extends TypedArray>(sendbuf: A, counts: readonly number[] | null, root = 0): Promise<A | null> {
    return this.collective('gatherv', () => checkRoot(root, this.size),
      (ch) => collectives.gatherv(ch, sendbuf, counts, root)) as Promise<A | null>;
  }

  /**
   * Rank i gets the `counts[i]` elements of the root's typed array after
   * those of ranks below it (MPI_Scatterv). `sendbuf` and `counts` are
   * significant at the root; others may pass null.
   */
  scatterv<A extends TypedArray>(sendbuf: A | null, counts: readonly number[] | null, root = 0): Promise<A> {
    return this.collective('scatterv', () => checkRoot(root, this.size),
      (ch) => collectives.scatterv(ch, sendbuf, counts, root)) as Promise<A>;
  }

  /** Every rank's typed array (rank i's of length `counts[i]`) joined in rank order, everywhere (MPI_Allgatherv). */
  allgatherv<A extends TypedArray>(sendbuf: A, counts: readonly number[]): Promise<A> {
    return this.collective('allgatherv', () => {}, (ch) => collectives.allgatherv(ch, sendbuf, counts)) as Promise<A>;
  }

  /**
   * Reduces typed arrays of `sum(counts)` elements element by element; rank i
   * gets the `counts[i]` elements after those of the ranks below it (MPI_Reduce_scatter).
   */
  reduceScatter<A extends TypedArray>(sendbuf: A, counts: readonly number[], op: Op = SUM): Promise<A> {
    return this.collective('reduceScatter', () => checkOp(op),
      (ch) => collectives.reduceScatter(ch, sendbuf, counts, op)) as Promise<A>;
  }

  /** Checks arguments (rejecting at once, naming the call), then runs the call under its own tag. */
  /** Not async: the collective's own promise is returned, one promise and its hops fewer per call. */
  private collective<T>(call: string, check: () => void, algorithm: (ch: Channel) => Promise<T>): Promise<T> {
    try {
      this.checkUsable(call);
    } catch (err) {
      return Promise.reject(err);
    }
    try {
      check();
    } catch (err) {
      if (err instanceof Error) err.message = `${call}: ${err.message}`;
      return Promise.reject(err);
    }
    return runCollective(call, this, this.nextCollectiveTag(), algorithm);
  }

  // ---- [coll block ends] ----

  // ---- internals ----

  /** One creation at a time per process, so concurrent ones never pick the same context id. */
  private createComm<T>(create: (pool: ContextPool) => Promise<T>): Promise<T> {
    const pool = this.world.contexts;
    return pool.serialize(() => create(pool));
  }

  /** The lowest context id free on every rank here (MPICH's mask agreement). */
  private async agreeContextId(pool: ContextPool, call: string, tag: number): Promise<number> {
    const everywhereFree = await runCollective(call, this, tag, (ch) => collectives.allreduce(ch, pool.freeMask(), BAND));
    return ContextPool.lowestFree(everywhereFree as Uint32Array);
  }

  /**
   * split's engine. Bad arguments on one rank still take part in the exchange,
   * so that every rank reports them instead of the others hanging.
   */
  private splitInto(call: string, color: number, key: number, make: (init: CommInit) => Comm): Promise<Comm | null> {
    const problem = splitArgumentProblem(call, color, key);
    const gatherTag = this.nextCollectiveTag();
    const agreeTag = this.nextCollectiveTag();
    return this.createComm(async (pool) => {
      const entries = await runCollective(call, this, gatherTag,
        (ch) => collectives.allgather(ch, problem ?? [color, key])) as ([number, number] | string)[];
      const bad = entries.findIndex((entry) => typeof entry === 'string');
      if (bad >= 0) throw new MPIError('ERR_ARG', bad === this.rank ? String(entries[bad]) : `${call}: rank ${bad} passed a bad argument: ${String(entries[bad])}`);
      const id = await this.agreeContextId(pool, call, agreeTag);
      if (color === UNDEFINED) return null;
      pool.take(id);
      const members = (entries as [number, number][])
        .map(([c, k], rank) => ({ c, k, rank }))
        .filter((entry) => entry.c === color)
        .sort((a, b) => a.k - b.k || a.rank - b.rank);
      return make({ world: this.world, group: members.map((m) => this.group[m.rank]!), context: pointToPointContext(id) });
    });
  }

  /** @internal World rank of a rank of this communicator, or -1 for a wildcard. */
  worldRankOf(rank: number): number {
    return rank >= 0 ? this.group[rank]! : rank === PROC_NULL ? PROC_NULL : -1;
  }

  /*
   * The blocking calls as promises: a synchronous throw (bad arguments) becomes
   * a rejection. Arguments passed on rather than a closure over them: that
   * would be an allocation per message.
   */
  private sent(call: string, value: unknown, dest: number, tag: number, sync: boolean): Promise<void> {
    try {
      return this.startSend(call, value, dest, tag, sync).wait();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private received(call: string, into: RawBuffer | typeof A_VALUE, source: number, tag: number, status: Status | undefined): Promise<unknown> {
    try {
      return this.startRecv(call, into, source, tag).wait(status);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private startSend(call: string, value: unknown, dest: number, tag: number, sync: boolean): Request<void> {
    this.checkUsable(call);
    checkDest(dest, this.size, 'dest', call);
    checkSendTag(tag, 'tag', call);
    return this.world.engine.isend(this.context, this.rank, this.worldRankOf(dest), tag, value, sync, call);
  }

  /** `into`: the caller's buffer (checked: it may be anything), or A_VALUE for a receive of a value. */
  private startRecv(call: string, into: RawBuffer | typeof A_VALUE, source: number, tag: number): Request<unknown> {
    if (into !== A_VALUE) checkBuffer(into, 'buf', call);
    this.checkUsable(call);
    checkSource(source, this.size, 'source', call);
    checkRecvTag(tag, 'tag', call);
    return this.world.engine.irecv(this.context, source, this.worldRankOf(source), tag, into === A_VALUE ? null : into, call);
  }
}

/** What a receive of a value (recv, irecv) passes where a buffer receive passes the caller's buffer. */
const A_VALUE = Symbol('a value, not a buffer');

/** op must be an MPI.Op (a plain function is not one: wrap it with MPI.Op.create). */
function checkOp(op: unknown): void {
  if (!(op instanceof Op)) {
    const got = typeof op === 'function' ? 'a function (wrap it with MPI.Op.create)' : String(op);
    throw new TypeError(`op must be an MPI.Op such as MPI.SUM or one made by MPI.Op.create, got ${got}`);
  }
}

function splitArgumentProblem(call: string, color: unknown, key: unknown): string | null {
  if (!(Number.isInteger(color) && ((color as number) >= 0 || color === UNDEFINED))) {
    return `${call}: color ${String(color)} must be a non-negative integer or UNDEFINED`;
  }
  if (!Number.isInteger(key)) return `${call}: key ${String(key)} must be an integer`;
  return null;
}

/** The number of grid cells; the grid must fit in the communicator. */
function checkCartDims(dims: unknown, size: number): number {
  if (!Array.isArray(dims) || dims.length === 0 || dims.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new MPIError('ERR_DIMS', `createCart: dims ${JSON.stringify(dims)} must be a non-empty array of positive integers ` +
      '(MPI.computeDims(size, ndims) gives balanced ones)');
  }
  const cells = (dims as number[]).reduce((a, b) => a * b, 1);
  if (cells > size) {
    throw new MPIError('ERR_DIMS', `createCart: dims ${JSON.stringify(dims)} make ${cells} cells, more than the ${size} ranks of the communicator`);
  }
  return cells;
}

function checkCartPeriods(periods: unknown, ndims: number): boolean[] {
  if (periods === undefined) return new Array<boolean>(ndims).fill(false);
  if (!Array.isArray(periods) || periods.length !== ndims || periods.some((p) => typeof p !== 'boolean')) {
    throw new MPIError('ERR_ARG', `createCart: periods ${JSON.stringify(periods)} must be an array of ${ndims} booleans (one per dimension)`);
  }
  return [...(periods as boolean[])];
}
