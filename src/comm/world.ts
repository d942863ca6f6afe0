/**
 * Start-up and shut-down of the process's MPI world: picks the bootstrap,
 * opens the listeners, exchanges addresses, and wires transport, matching
 * engine and progress engine together. Finalisation runs by itself when the
 * program's work is done (`beforeExit`), or when `finalize()` is awaited.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { debuglog } from 'node:util';
import { MAX_MESSAGE_BYTES } from '../codec/index.js';
import { collectiveName } from '../coll/index.js';
import { P2PEngine, Progress } from '../p2p/index.js';
import { defaultEagerCredit, options as processOptions, type Options } from '../base/index.js';
import { detectBootstrap, hostIdentity, processorName, type Bootstrap } from '../runtime/index.js';
import { loadShmLib, loadSocketLib, OwnInbox, ShmTransport, SocketPump, SocketTransport, type PeerAddress, type Transport } from '../transport/index.js';
import { ContextPool, MAX_CONTEXT_IDS, pointToPointContext, SELF_CONTEXT_ID, WORLD_CONTEXT_ID } from './context.js';

const debug = debuglog('mpi4ts');

export interface World {
  readonly bootstrap: Bootstrap;
  readonly engine: P2PEngine;
  readonly transport: Transport;
  readonly progress: Progress;
  readonly options: Options;
  readonly rank: number;
  readonly size: number;
  readonly table: readonly PeerAddress[];
  readonly hostId: string;
  readonly processorName: string;
  /** The context ids of this process's communicators (comm/context.ts). */
  readonly contexts: ContextPool;
  state: 'running' | 'finalizing' | 'finalized';
  finalize(): Promise<void>;
}

export async function initWorld(): Promise<World> {
  const options = processOptions();
  const bootstrap = await detectBootstrap();
  const { rank, size } = bootstrap;
  const hostId = hostIdentity();
  const progress = new Progress({ pollMicros: options.pollMicros });
  const eagerCredit = options.eagerCredit ?? defaultEagerCredit(size, options.eagerLimit);
  const engine = new P2PEngine(rank, progress, {
    worldSize: size,
    eagerThreshold: options.eagerLimit,
    eagerCredit,
    // Context ids 0..MAX_CONTEXT_IDS-1, two matching contexts each (comm/context.ts).
    contextLimit: 2 * MAX_CONTEXT_IDS,
    describeCollective: collectiveName,
    // MPI's errors-are-fatal: a connection that broke the protocol may have lost messages.
    onFatal: (err) => void bootstrap.abort(1, `rank ${rank}: ${err.message}`),
  });
  // COMM_WORLD and COMM_SELF (comm/context.ts) are known before any peer can send: their frames
  // are checked against their groups from the first.
  engine.setGroup(pointToPointContext(WORLD_CONTEXT_ID), Array.from({ length: size }, (_, r) => r));
  engine.setGroup(pointToPointContext(SELF_CONTEXT_ID), [rank]);
  const limits = { maxEagerBytes: Math.max(options.eagerLimit, 64 * 1024 * 1024), maxMessageBytes: MAX_MESSAGE_BYTES };
  // ---- shared memory (DESIGN.md "Transports"): rings to ranks of this host, sockets underneath ----
  const shm = size > 1 && options.useShm ? openShm(rank, bootstrap.key, engine, limits, options.shmRingBytes, progress) : null;
  const socketPoller = size > 1 ? openSocketPoller(options) : null;
  const sockets = new SocketTransport({
    rank, size, key: bootstrap.key, sink: shm?.socketSink ?? engine,
    limits,
    forceTcp: options.forceTcp,
    bindHost: bootstrap.advertiseHost,
    portRange: options.portRange,
    directRead: options.directRead,
    poller: socketPoller,
    // Abstract socket names are listed to every local user (ss -lx): random, nothing of the key.
    unixPath: size > 1 ? `\0mpi4ts-${process.pid}-${randomBytes(8).toString('hex')}-${rank}` : '',
  });
  shm?.attachSocket(sockets);
  const transport: Transport = shm ?? sockets;
  engine.attach(transport);
  const listening = size > 1 ? await sockets.listen() : { tcpPort: 0, unixPath: '' };
  const me: PeerAddress = {
    rank, host: processorName(), hostId, tcpHost: bootstrap.advertiseHost,
    tcpPort: listening.tcpPort, unixPath: listening.unixPath, pid: process.pid, eagerCredit,
  };
  if (shm !== null && listening.unixPath !== '') me.shmFd = shm.inboxFd;
  const table = await bootstrap.exchange(me);
  sockets.setPeers(table, hostId);
  engine.setPeers(table);
  bootstrap.watchPeers?.((peer, how) => transport.peerDone(peer, how));
  // More ranks than cores on this host: spinning would steal the cores the others need.
  const ranksHere = table.filter((p) => p.hostId === hostId).length;
  const oversubscribed = ranksHere > availableParallelism();
  const spin = oversubscribed ? options.oversubscribedPollMicros : options.pollMicros;
  progress.setPollMicros(spin, oversubscribed ? 0 : undefined);
  if (socketPoller !== null && spin > 0) {
    // Peers of this host reached through shared memory: their socket only carries doorbells.
    socketPoller.polls = (peer) => shm === null || table[peer]?.hostId !== hostId;
  }
  socketPoller?.onFirstConnection(() => {
    debug('rank %d reads its peer sockets from the spin', rank);
    progress.attachPoller(socketPoller);
  });
  if (shm !== null) {
    shm.setPeers(table, hostId);
    progress.attachPoller(shm);
    // Before the program runs: no key proof may be left half done when it starts computing.
    progress.begin();
    await shm.connected();
    progress.end();
  }
  debug('rank %d of %d up (bootstrap %s, %d ranks on this host, poll %d us)', rank, size, bootstrap.name, ranksHere, spin);

  const world: World = {
    bootstrap, engine, transport, progress, options, rank, size, table, hostId,
    processorName: me.host,
    contexts: new ContextPool(),
    state: 'running',
    finalize: () => finalizeWorld(world),
  };
  process.on('beforeExit', () => {
    if (world.state === 'running') void world.finalize();
  });
  return world;
}

/** The shared-memory transport, or null (with the reason in the debug log) where it cannot work. */
function openShm(rank: number, key: Buffer, engine: P2PEngine, limits: { maxEagerBytes: number; maxMessageBytes: number },
  ringCapacity: number, progress: Progress): ShmTransport | null {
  const lib = loadShmLib();
  if (lib instanceof Error) {
    debug('no shared memory: %s', lib.message);
    return null;
  }
  try {
    const inbox = OwnInbox.create(lib, rank);
    return new ShmTransport({ rank, key, sink: engine, limits, lib, inbox, ringCapacity, onDoorbell: () => progress.kick() });
  } catch (err) {
    debug('no shared memory: %s', (err as Error).message);
    return null;
  }
}

/** The poller that reads sockets from the spin, or null (reason in the debug log) where it is off or cannot work. */
function openSocketPoller(options: Options): SocketPump | null {
  if (!options.socketPoll || !options.directRead) return null;
  const lib = loadSocketLib();
  if (lib instanceof Error) {
    debug('sockets read by libuv only: %s', lib.message);
    return null;
  }
  return new SocketPump(lib);
}

let finalizing: Promise<void> | null = null;

async function finalizeWorld(world: World): Promise<void> {
  if (finalizing !== null) return finalizing;
  world.state = 'finalizing';
  finalizing = (async () => {
    // Alive until done: the connections are unref'd, and a goodbye may wait for one to open.
    world.progress.begin();
    // Everything sent goes out, then a goodbye on every connection: a peer still waiting for a
    // message from this rank then learns that it never comes.
    debug('rank %d finalizing: writing out what is queued, then goodbyes', world.rank);
    await world.transport.finish();
    debug('rank %d finalizing: goodbyes written; waiting for the others', world.rank);
    await world.bootstrap.finalize();
    debug('rank %d finalized', world.rank);
    world.progress.end();
    await world.transport.close();
    world.bootstrap.close();
    world.state = 'finalized';
  })();
  return finalizing;
}
