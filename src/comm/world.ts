/**
 * Start-up and shut-down of the process's MPI world, in three steps:
 *
 * 1. open: the bootstrap (who am I, how do I reach the others), then the
 *    progress engine and the matching engine, which opens its transport
 *    (shared memory over sockets, or sockets alone) with itself as the sink;
 *    the listeners go up, so peers may connect from here on.
 * 2. exchange: this rank's address goes out through the bootstrap, every
 *    rank's comes back.
 * 3. start: the engine learns the table and how this host spins, and its
 *    transport gets ready (shared-memory doorbells connected both ways)
 *    before the program runs.
 *
 * Every object is complete when constructed: collaborators arrive in
 * constructors, and `start` is the one later step, taken once. Finalisation
 * runs by itself when the program's work is done (`beforeExit`), or when
 * `finalize()` is awaited.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { debug, defaultEagerCredit, options as processOptions, publish, type Options } from '../base/index.js';
import { MAX_MESSAGE_BYTES } from '../codec/index.js';
import { callName, describeCall, sameCall } from '../coll/index.js';
import { P2PEngine, Progress, type EngineStart, type HostBoard } from '../p2p/index.js';
import { bindThisProcess, detectBootstrap, hostIdentity, processorName, reportLines, reportOnSignal, type Bootstrap, type RankReport } from '../runtime/index.js';
import { allowPeerWrites, loadPeerMemory, loadShmLib, loadSocketLib, OwnInbox, ShmTransport, SocketTransport, type FrameSink, type PeerAddress, type PeerMemory, type SocketLib, type Transport } from '../transport/index.js';
import { TraceRecorder } from './trace.js';
import { ContextPool, contextIdOf, MAX_CONTEXT_IDS, pointToPointContext, SELF_CONTEXT_ID, WORLD_CONTEXT_ID } from './context.js';

export type WorldState = 'running' | 'finalizing' | 'finalized';

/** What a communicator uses of the matching engine. */
export type CommEngine = Pick<P2PEngine, 'setGroup' | 'probe' | 'iprobe' | 'isend' | 'isendEncoded' | 'irecv' | 'improbe' | 'mprobe' | 'mrecv'
  | 'debugCalls' | 'noteCollectiveCall'>;

/**
 * What a communicator and its creation use of the world: narrow, so a unit
 * test builds one without the transports, and the compiler checks it does.
 */
export interface CommWorld {
  readonly rank: number;
  readonly engine: CommEngine;
  /** The context ids of this process's communicators (comm/context.ts). */
  readonly contexts: ContextPool;
  /** Every known process's address, by universe index: splitType groups ranks by host. */
  readonly table: readonly Pick<PeerAddress, 'hostId' | 'shmFd'>[];
  readonly bootstrap: Pick<Bootstrap, 'abort' | 'name' | 'spawn' | 'spawnGo'>;
  /**
   * A board for the collectives of a communicator with `members` (world
   * ranks), all on this host (p2p/host-board.ts), or null where it cannot
   * be had here (a member's slot is not mapped: MPI4TS_HOST_COLL=0 on
   * this rank, or no shared memory with that member).
   */
  openHostBoard?(context: number, members: readonly number[], rank: number, comm: string): HostBoard | null;
  /** Gives back a board the members did not agree to use. */
  closeHostBoard?(board: HostBoard): void;
  /** Processes joined (a spawn's children): the engine and the table learn their addresses. */
  addPeers?(peers: readonly PeerAddress[]): void;
  /** The addresses of these processes (a spawn's parents, for a bootstrap that keeps no table of the universe). */
  addressesOf?(universe: readonly number[]): PeerAddress[];
}

/** The process's MPI world: what every communicator of this process shares. */
export class World implements CommWorld {
  readonly rank: number;
  readonly size: number;
  readonly transport: Transport;
  /** The context ids of this process's communicators (comm/context.ts). */
  readonly contexts = new ContextPool();
  state: WorldState = 'running';
  private finalizing: Promise<void> | null = null;
  /** finalize holds one of the progress engine's pending operations: no user operation. */
  private finalizeHolds = false;

  constructor(
    readonly bootstrap: Bootstrap,
    readonly engine: P2PEngine,
    readonly progress: Progress,
    readonly options: Options,
    readonly table: readonly PeerAddress[],
    readonly hostId: string,
    readonly processorName: string,
    /** How rendezvous payloads between ranks of this host travel, in words for `mpi4ts info`. */
    readonly crossMemory: string,
  ) {
    this.rank = bootstrap.rank;
    this.worldGroup = bootstrap.worldGroup ?? Array.from({ length: bootstrap.size }, (_, r) => r);
    this.size = this.worldGroup.length;
    this.transport = engine.transport;
  }

  /**
   * COMM_WORLD's members as universe indices (DESIGN.md "Dynamic
   * processes"): 0..size-1 in the job's own ranks, a block of the universe
   * in a spawned world. `rank` is this process's universe index.
   */
  readonly worldGroup: readonly number[];

  /** More processes joined (a spawn's children): their addresses go to the table and the engine. */
  addPeers(peers: readonly PeerAddress[]): void {
    const table = this.table as PeerAddress[];
    for (const peer of peers) table[peer.rank] = peer;
    this.engine.addPeers(peers);
  }

  openHostBoard(context: number, members: readonly number[], rank: number, comm: string): HostBoard | null {
    return this.engine.openHostBoard(context, members, rank, comm);
  }

  closeHostBoard(board: HostBoard): void {
    this.engine.closeHostBoard(board);
  }

  addressesOf(universe: readonly number[]): PeerAddress[] {
    return universe.map((u) => this.table[u]).filter((a): a is PeerAddress => a !== undefined);
  }

  /**
   * MPI_Finalize: everything sent goes out, then a goodbye on every
   * connection (a peer still waiting for a message from this rank then learns
   * that it never comes), then the bootstrap's barrier. Once per world.
   */
  finalize(): Promise<void> {
    this.finalizing ??= this.runFinalize();
    return this.finalizing;
  }

  private async runFinalize(): Promise<void> {
    this.state = 'finalizing';
    // Alive until done: the connections are unref'd, and a goodbye may wait for one to open.
    this.progress.begin();
    this.finalizeHolds = true;
    debug('rank %d finalizing: writing out what is queued, then goodbyes', this.rank);
    await this.transport.finish();
    debug('rank %d finalizing: goodbyes written; waiting for the others', this.rank);
    await this.bootstrap.finalize();
    debug('rank %d finalized', this.rank);
    this.finalizeHolds = false;
    this.progress.end();
    await this.transport.close();
    this.bootstrap.close();
    this.state = 'finalized';
    publish('mpi4ts:world:finalize', () => ({ rank: this.rank }));
  }

  /**
   * A program that ends with receives or sends pending (irecv never waited
   * for) would keep its process alive for ever: the progress engine holds
   * the event loop while anything is pending, so beforeExit never comes.
   * Every quarter of `graceMs` (an unref'd timer: it keeps nothing alive)
   * this looks for that state: only operations nobody waits for, nothing of
   * the program's own left, no frame moving. Once it has lasted `graceMs`,
   * the rank prints what is pending and ends the job with an error
   * (MPI_Finalize with pending operations is erroneous, MPI 4.1 section 11.2.2).
   */
  watchForEndedProgram(graceMs: number): void {
    let since = -1;
    let frames = '';
    const timer = setInterval(() => {
      if (this.state !== 'running' || !this.engine.onlyUnwaitedPending() || programActivity(this.progress).length > 0) {
        since = -1;
        return;
      }
      const report = this.report();
      const now = Date.now();
      const moved = JSON.stringify(report.frames);
      if (since < 0 || moved !== frames) {
        since = now;
        frames = moved;
        return;
      }
      if (now - since < graceMs) return;
      clearInterval(timer);
      const message = `rank ${this.rank}'s program ended with ${report.pendingCount} operation(s) still pending, which nothing waits for ` +
        '(finalize with pending operations is erroneous; wait for every request, or cancel the receives)';
      process.stderr.write(`mpi4ts: ${message}:\n${reportLines(report, false).map((l) => `  ${l}`).join('\n')}\n`);
      publish('mpi4ts:job:abort', () => ({ rank: this.rank, code: 1, message }));
      void this.bootstrap.abort(1, message);
    }, Math.max(50, Math.floor(graceMs / 4)));
    timer.unref();
  }

  /**
   * This rank's hang report (DESIGN.md "Hang reports and deadlocks"): the
   * registry's pending operations and unmatched messages, and what of the
   * program's own could still wake it. Made on request only.
   */
  report(): RankReport {
    const engine = this.engine.pendingReport();
    return {
      rank: this.rank, host: this.processorName, pid: process.pid,
      pending: engine.pending.slice(0, REPORTED_OPERATIONS), pendingCount: engine.pending.length,
      unexpected: engine.unexpected, unexpectedCount: engine.unexpectedCount,
      otherPending: engine.otherPending - (this.finalizeHolds ? 1 : 0),
      // A report is one control line (at most 1 MiB): beyond REPORTED_PEERS the counts are left out.
      frames: engine.frames.length > REPORTED_PEERS ? [] : engine.frames, framesOmitted: engine.frames.length > REPORTED_PEERS,
      finalizing: this.state === 'finalizing', userActivity: programActivity(this.progress),
    };
  }
}

/** Pending operations a report lists (the count says how many more): a rank with thousands posted stays readable. */
const REPORTED_OPERATIONS = 64;
/** Peers whose frame counts a report carries (about 30 bytes each); a rank that talked to more says so instead. */
const REPORTED_PEERS = 20_000;

/** Node's names for the handles of the standard streams, by the class of their handle. */
const STREAM_RESOURCES: Record<string, string> = { Pipe: 'PipeWrap', TTY: 'TTYWrap', TCP: 'TCPSocketWrap' };

/**
 * What keeps this process's event loop alive besides mpi4ts: its ref'd
 * handles and requests (process.getActiveResourcesInfo) less the library's
 * own (the progress engine's keep-alive timer, its spin's setImmediate; the
 * connections are unref'd) and stdout and stderr, which every process holds.
 * Anything left (a timer, a file read, a socket, a child) may wake the
 * program and make it send: its rank is not stuck in mpi4ts.
 */
function programActivity(progress: Progress): string[] {
  const own = new Map<string, number>();
  const discount = (type: string): void => {
    own.set(type, (own.get(type) ?? 0) + 1);
  };
  if (progress.holdsLoop) discount('Timeout');
  if (progress.isSpinning) discount('Immediate');
  for (const stream of [process.stdout, process.stderr]) {
    const handle = (stream as unknown as { _handle?: { hasRef?: () => boolean; constructor: { name: string } } })._handle;
    const type = handle === undefined ? undefined : STREAM_RESOURCES[handle.constructor.name];
    if (type !== undefined && handle?.hasRef?.() !== false) discount(type);
  }
  const left: string[] = [];
  for (const type of process.getActiveResourcesInfo()) {
    const n = own.get(type) ?? 0;
    if (n > 0) own.set(type, n - 1);
    else left.push(type);
  }
  return left;
}

export async function initWorld(): Promise<World> {
  const options = processOptions();
  const bootstrap = await detectBootstrap();
  const { rank, size } = bootstrap;
  // Pinned before the transports start their threads (the ones already running are pinned too).
  if (bootstrap.binding) bindThisProcess(bootstrap.binding, { rank, host: processorName() });
  const hostId = hostIdentity();
  const tracer = options.trace || options.profile ? startTracing(bootstrap, options) : null;
  const opened = openEngine(bootstrap, options, hostId, tracer);
  // A world of one listens too where it may spawn: its children connect to it.
  const listening = networked(bootstrap) ? await opened.engine.transport.listen() : { tcpPort: 0, unixPath: '' };
  const me: PeerAddress = {
    rank, host: processorName(), hostId, tcpHost: bootstrap.advertiseHost, pid: process.pid, eagerCredit: opened.eagerCredit, ...listening,
  };
  const table = withoutOtherInboxes(await bootstrap.exchange(me), bootstrap.worldGroup);
  const spin = spinOf(table, hostId, options);
  const started = opened.engine.start({ table, ...spin });
  // Done notices may have come already (they waited in the bootstrap): the transport knows its peers now.
  bootstrap.watchPeers?.((peer, how) => opened.engine.transport.peerDone(peer, how));
  // Polled until ready: the doorbell connections' key proofs are finished before the program computes.
  // (Sockets alone have nothing to wait for, and a spin of pollMicros would be for nothing.)
  const mayWait = size > 1 && options.useShm;
  if (mayWait) opened.progress.begin();
  await started;
  if (mayWait) opened.progress.end();
  debug('rank %d of %d up (bootstrap %s, %d ranks on this host, poll %d us)', rank, size, bootstrap.name, spin.ranksHere, spin.pollMicros);
  publish('mpi4ts:world:start', () => ({ rank, size, bootstrap: bootstrap.name, host: me.host, ranksOnHost: spin.ranksHere, pollMicros: spin.pollMicros }));
  const world = new World(bootstrap, opened.engine, opened.progress, options, table, hostId, me.host, opened.crossMemory);
  // Hang reports: asked for by mpi4ts run, else printed by the rank itself on SIGUSR1 (not for a
  // singleton, whose SIGUSR1 stays Node's: the inspector).
  const report = (): RankReport => world.report();
  if (bootstrap.serveReports !== undefined) bootstrap.serveReports(report);
  else if (bootstrap.name !== 'singleton') reportOnSignal(report);
  if (options.pendingGraceMs > 0) world.watchForEndedProgram(options.pendingGraceMs);
  process.on('beforeExit', () => {
    if (world.state === 'running') void world.finalize();
  });
  return world;
}

/**
 * --trace and --profile: the calls are wrapped from here on, and what was
 * recorded goes to the launcher before finalize's barrier, before an abort,
 * and when the launcher stops the job (SIGTERM, which then ends the rank as
 * it would have). Where no launcher collects it (MPI4TS_TRACE or
 * MPI4TS_PROFILE under another one) it says so once and records nothing.
 */
function startTracing(bootstrap: Bootstrap, options: Options): TraceRecorder | null {
  const sendTrace = bootstrap.sendTrace?.bind(bootstrap);
  if (sendTrace === undefined) {
    const variable = options.trace ? 'MPI4TS_TRACE' : 'MPI4TS_PROFILE';
    if (bootstrap.rank === 0) {
      process.stderr.write(`mpi4ts: ${variable} is set, but only mpi4ts run collects a timeline or profile (--trace FILE, --profile); not recording\n`);
    }
    return null;
  }
  const host = processorName();
  const recorder = new TraceRecorder((part) => sendTrace(host, part), {
    timeline: options.trace, profile: options.profile, maxEvents: options.traceMaxEvents, worldSize: bootstrap.size,
  });
  recorder.install();
  const finalize = bootstrap.finalize.bind(bootstrap);
  bootstrap.finalize = () => recorder.flush().then(finalize);
  const abort = bootstrap.abort.bind(bootstrap);
  bootstrap.abort = (code, message) => recorder.flush().then(() => abort(code, message));
  const sendNow = bootstrap.sendTraceNow?.bind(bootstrap);
  if (sendNow !== undefined) process.once('uncaughtExceptionMonitor', () => recorder.flushNow((part) => sendNow(host, part)));
  process.once('SIGTERM', () => {
    const exit = (): never => process.exit(128 + 15);
    setTimeout(exit, 1000).unref();
    void recorder.flush().then(exit, exit);
  });
  return recorder;
}

/** Peers may join later (mpi4ts run's spawn), so even a world of one listens. */
function networked(bootstrap: Bootstrap): boolean {
  return bootstrap.size > 1 || bootstrap.spawn !== undefined;
}

/**
 * A spawned process knows its parents' addresses too, but shared memory is
 * per world (each sized its inbox for its own ranks at start): every process
 * outside this COMM_WORLD is reached by socket.
 */
function withoutOtherInboxes(table: PeerAddress[], worldGroup: readonly number[] | undefined): PeerAddress[] {
  if (worldGroup === undefined) return table;
  const mine = new Set(worldGroup);
  for (const address of table) if (address !== undefined && !mine.has(address.rank)) address.shmFd = -1;
  return table;
}

/** A communicator in a hang report, by its context id (the same on every member). */
function communicatorWords(id: number): string {
  return id === WORLD_CONTEXT_ID ? 'COMM_WORLD' : id === SELF_CONTEXT_ID ? 'COMM_SELF' : `communicator ${id}`;
}

/** The progress engine and the matching engine on its transport, listening not yet. */
function openEngine(bootstrap: Bootstrap, options: Options, hostId: string, tracer: TraceRecorder | null):
  { engine: P2PEngine; progress: Progress; eagerCredit: number; crossMemory: string } {
  const { rank, size } = bootstrap;
  const direct = directWrites(rank, size, options);
  const progress = new Progress({ pollMicros: options.pollMicros });
  const eagerCredit = options.eagerCredit ?? defaultEagerCredit(size, options.eagerLimit);
  const engine = new P2PEngine(rank, {
    progress,
    tracer,
    peerMemory: direct.memory,
    openTransport: (sink) => {
      const sockets = (socketSink: FrameSink): SocketTransport => openSockets(bootstrap, options, hostId, socketSink, progress);
      const shm = size > 1 && options.useShm ? openShm(bootstrap, options, hostId, sink, sockets, progress) : null;
      return shm ?? sockets(sink);
    },
  }, {
    worldSize: size,
    eagerThreshold: options.eagerLimit,
    eagerCredit,
    // Context ids 0..MAX_CONTEXT_IDS-1, two matching contexts each (comm/context.ts).
    contextLimit: 2 * MAX_CONTEXT_IDS,
    // COMM_WORLD and COMM_SELF (comm/context.ts) are known before any peer can send: their frames
    // are checked against their groups from the first.
    groups: [
      { pointToPoint: pointToPointContext(WORLD_CONTEXT_ID), group: bootstrap.worldGroup ?? Array.from({ length: size }, (_, r) => r) },
      { pointToPoint: pointToPointContext(SELF_CONTEXT_ID), group: [rank] },
    ],
    describeCollective: describeCall,
    nameCollective: callName,
    sameCollectiveCall: sameCall,
    describeContext: (context) => communicatorWords(contextIdOf(context & ~1)),
    debugCalls: options.debugCalls,
    // The launcher blames the rank that died first, not the ranks whose receives failed for it.
    onPeerLost: (peer) => bootstrap.peerLost?.(peer),
    directWriteMinBytes: options.cmaMinBytes,
    directWriteMaxBytes: options.cmaMaxBytes,
    directSplitMinBytes: options.cmaSplitMinBytes,
    // MPI's errors-are-fatal: a connection that broke the protocol may have lost messages.
    onFatal: (err) => {
      const message = `rank ${rank}: ${err.message}`;
      publish('mpi4ts:job:abort', () => ({ rank, code: 1, message }));
      void bootstrap.abort(1, message);
    },
  });
  return { engine, progress, eagerCredit, crossMemory: direct.words };
}

/**
 * Cross-memory attach for this rank, or null where it is off or the kernel
 * or the platform has none; and in words, for `mpi4ts info` (and the debug
 * log, when it cannot be had).
 */
function directWrites(rank: number, size: number, options: Options): { memory: PeerMemory | null; words: string } {
  if (!options.cma) return { memory: null, words: 'through the transport (MPI4TS_CMA=0)' };
  const memory = loadPeerMemory();
  const refused = memory instanceof Error ? memory.message : allowPeerWrites();
  if (refused !== null) {
    debug('rank %d: no cross-memory attach (%s); large messages on this host go through the ring', rank, refused);
    return { memory: null, words: `through the transport: no cross-memory attach (${refused})` };
  }
  const window = `${options.cmaMinBytes} to ${options.cmaMaxBytes} bytes`;
  const split = options.cmaSplitMinBytes > 0 ? `, from ${options.cmaSplitMinBytes} bytes up split with the receiver's read where the host has a core per rank` : '';
  return { memory: size > 1 ? memory as PeerMemory : null, words: `written straight into the receiver's memory from ${window}${split} (cross-memory attach; a refusal falls back to the transport)` };
}

/** How this host spins: more ranks than cores, and spinning would steal the cores the others need. */
function spinOf(table: readonly PeerAddress[], hostId: string, options: Options): Omit<EngineStart, 'table'> & { ranksHere: number } {
  const ranksHere = table.filter((p) => p.hostId === hostId).length;
  const oversubscribed = ranksHere > availableParallelism();
  return oversubscribed
    ? { pollMicros: options.oversubscribedPollMicros, yieldAfterPolls: 0, ranksHere }
    : { pollMicros: options.pollMicros, ranksHere, splitCopies: true };
}

function frameLimits(options: Options): { maxEagerBytes: number; maxMessageBytes: number } {
  return { maxEagerBytes: Math.max(options.eagerLimit, 64 * 1024 * 1024), maxMessageBytes: MAX_MESSAGE_BYTES };
}

function openSockets(bootstrap: Bootstrap, options: Options, hostId: string, sink: FrameSink, progress: Progress): SocketTransport {
  const { rank, size } = bootstrap;
  return new SocketTransport({
    rank, size, key: bootstrap.key, sink, hostId,
    socketLib: size > 1 ? socketLibFor(options) : null,
    onPumpActive: (pump) => {
      debug('rank %d reads its peer sockets from the spin', rank);
      progress.addPoller(pump);
    },
    limits: frameLimits(options),
    forceTcp: options.forceTcp,
    bindHost: bootstrap.advertiseHost,
    portRange: options.portRange,
    directRead: options.directRead,
    // Abstract socket names are listed to every local user (ss -lx): random, nothing of the key.
    unixPath: networked(bootstrap) ? `\0mpi4ts-${process.pid}-${randomBytes(8).toString('hex')}-${rank}` : '',
  });
}

/** The shared-memory transport over sockets, or null (with the reason in the debug log) where it cannot work. */
function openShm(bootstrap: Bootstrap, options: Options, hostId: string, sink: FrameSink,
  openSockets: (sink: FrameSink) => SocketTransport, progress: Progress): ShmTransport | null {
  const lib = loadShmLib();
  if (lib instanceof Error) {
    debug('no shared memory: %s', lib.message);
    return null;
  }
  let inbox: OwnInbox;
  try {
    inbox = OwnInbox.create(lib, bootstrap.rank);
  } catch (err) {
    debug('no shared memory: %s', (err as Error).message);
    return null;
  }
  let shm: ShmTransport;
  try {
    shm = new ShmTransport({
      rank: bootstrap.rank, key: bootstrap.key, sink, limits: frameLimits(options), lib, inbox, hostId, openSockets,
      ringCapacity: options.shmRingBytes, onDoorbell: () => progress.kick(), offerBoard: options.hostCollectives,
    });
  } catch (err) {
    debug('no shared memory: %s', (err as Error).message);
    inbox.close();
    return null;
  }
  progress.addPoller(shm);
  return shm;
}

/** The native calls of the socket pump (sockets read and written from the spin), or null (reason in the debug log) where it is off or cannot work. */
function socketLibFor(options: Options): SocketLib | null {
  if (!options.socketPoll || !options.directRead) return null;
  const lib = loadSocketLib();
  if (lib instanceof Error) {
    debug('sockets read by libuv only: %s', lib.message);
    return null;
  }
  return lib;
}
