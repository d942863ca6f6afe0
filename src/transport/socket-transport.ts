/**
 * Frames over stream sockets: a Unix socket between ranks of one host, TCP
 * otherwise (DESIGN.md "Transports"). Each rank sends only on the connection
 * it opened to a peer and receives on the ones peers opened to it, so two
 * ranks that connect at the same moment never race, and the frames of one
 * sender reach the receiver in the order they were written (MPI's
 * non-overtaking rule rests on this).
 *
 * An outgoing connection goes through these states:
 *
 *     CONNECTING --connect, hello written--> PROVING --answer checked--> READY
 *         ^                                     |                          |
 *         +------- closed before READY ---------+                          |
 *         |        (retry after a pause)                                   |
 *         +-- too many prompt refusals --> FAILED <-- closed, or error ----+
 *
 * Frames written before READY wait in `pending`, and a send does not count as
 * written until its connection is READY (Transport.writable). Nothing in this
 * waits on a clock that a peer's busy event loop could run out: a peer that
 * computes leaves our connection in its accept queue, and we wait. Only the
 * accepting side times out a connection that has not proved the key (it may
 * be a stranger); a rank dropped that way, because its own loop was too busy
 * to write its hello, simply connects again.
 */
import { createServer, connect, Socket, type Server } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ProtocolError, copyBytes, debug, publish } from '../base/index.js';
import { checkServerHello, clientHello, CLIENT_HELLO_BYTES, HelloChecker, SERVER_HELLO_BYTES } from './auth.js';
import { encodeHeader, FrameKind, HEADER_BYTES, newHeader, type FrameHeader } from './frame.js';
import { FrameReader, type FrameReaderLimits } from './frame-reader.js';
import { SocketPump, type SocketLib } from './socket-pump.js';
import type { ConnectionKind, FrameSink, PeerAddress, Transport, TransportAddress, TransportStart } from './transport.js';
import { UNPROVEN_LIMIT, UNPROVEN_TIMEOUT_MS, UnprovenConnections } from '../wire/index.js';

/**
 * Each incoming connection reads into one buffer of this size, reused for
 * every read (frames handed up from it are copied by whoever keeps them).
 */
const READ_BUFFER_BYTES = 128 * 1024;

/** Above this many queued bytes a sender waits for the socket to drain. */
export const WRITE_HIGH_WATER = 8 * 1024 * 1024;

/**
 * A hello written within this long of starting to connect was prompt: if the
 * peer then closes on us, it refused us, and enough refusals end the
 * connection. A hello our own busy loop wrote late may have been timed out by
 * the peer for being late; that refusal does not count.
 */
const PROMPT_HELLO_MS = 2000;
const MAX_PROMPT_REFUSALS = 10;
/** Pause before connecting again: doubling from the first, up to the last. */
const RETRY_FIRST_MS = 10;
const RETRY_MAX_MS = 1000;

const BYE = ((): FrameHeader => {
  const h = newHeader();
  h.kind = FrameKind.BYE;
  return h;
})();

export interface SocketTransportOptions {
  rank: number;
  size: number;
  key: Buffer;
  sink: FrameSink;
  limits: FrameReaderLimits;
  /** Never use Unix sockets (tests and benchmarks of the TCP path). */
  forceTcp: boolean;
  /** Address to listen on for TCP. */
  bindHost: string;
  /** Inclusive port range to listen in, or null for any port. */
  portRange: [number, number] | null;
  /** Unix socket path to listen on, or '' for none. */
  unixPath: string;
  /**
   * Read large payloads straight into their receive buffers and everything
   * else into one reused buffer per connection (MPI4TS_DIRECT_READ=0 turns it
   * off: Node's own reads of 64 KiB chunks, each copied once more).
   */
  directRead: boolean;
  /**
   * Reads authenticated peer connections from the progress engine's spin too
   * through a SocketPump (socket-pump.ts) this transport makes with these
   * native calls; null leaves all reading to libuv. Needs directRead.
   */
  socketLib: SocketLib | null;
  /** The pump has its first connection: the progress engine should poll it from now on. */
  onPumpActive: (pump: SocketPump) => void;
  /** Identifies this host (PeerAddress.hostId): peers with the same id are reached by Unix socket. */
  hostId: string;
}

/** What SocketTransport.start learns besides the table. */
export interface SocketStart extends TransportStart {
  /**
   * Connections from these peers carry only doorbells (a ShmTransport reaches
   * them through shared memory): the spin leaves them alone, as a recv per
   * poll would slow the rings' spin for nothing.
   */
  doorbellsOnly?: (peerRank: number) => boolean;
}

interface PendingWrite {
  header: Buffer;
  payload: Uint8Array | null;
  onWritten: ((err?: Error | null) => void) | undefined;
}

/** Someone waiting until fewer than `limit` bytes are queued on a READY connection. */
interface QueueWaiter {
  limit: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

const State = { CONNECTING: 0, PROVING: 1, READY: 2, FAILED: 3 } as const;
type StateCode = (typeof State)[keyof typeof State];

/** The connection this rank opened to one peer, used only to send. */
class OutgoingConnection {
  socket: Socket | null = null;
  state: StateCode = State.CONNECTING;
  failed: Error | null = null;
  /** Frames written before the connection was READY. */
  readonly pending: PendingWrite[] = [];
  pendingBytes = 0;
  /** Corked until the end of this tick (see SocketTransport.cork). */
  corked = false;
  promptRefusals = 0;
  attempts = 0;
  readonly waiters: QueueWaiter[] = [];
  constructor(readonly dest: number, readonly kind: ConnectionKind) {}

  get ready(): boolean {
    return this.state === State.READY;
  }
}

/** A proven connection from a peer, which this rank only reads. */
interface IncomingPath {
  readonly from: number;
  socket: Socket;
  /** For messages: "tcp from 10.0.0.2:41234", "unix socket #3". */
  readonly label: string;
  frames: number;
  /** The peer said goodbye on it, or it closed at a frame boundary: no message follows. */
  ended: boolean;
  /** By goodbye (the peer's program finished) rather than by a close. */
  saidBye: boolean;
  /** Closed by this rank (a protocol error, or a duplicate). */
  dropped: boolean;
}

export class SocketTransport implements Transport {
  private readonly outgoing = new Map<number, OutgoingConnection>();
  /** Every accepted socket, proven or not, to destroy at close. */
  private readonly accepted = new Set<Socket>();
  private readonly incoming = new Map<number, IncomingPath[]>();
  /** Peers reported ended to the sink. */
  private readonly endedPeers = new Set<number>();
  /** What the launcher said of peers whose program is done ('finalized', 'exited'). */
  private readonly notices = new Map<number, string>();
  private readonly incomingWaiters = new Map<number, (() => void)[]>();
  private readonly servers: Server[] = [];
  private readonly checker: HelloChecker;
  private readonly unproven: UnprovenConnections;
  private peers: readonly PeerAddress[] = [];
  /** Reads and writes the polled connections from the spin, or null (libuv does it all). */
  private readonly pump: SocketPump | null;
  /** Whether a connection from this peer, once proven, is read by the spin (decided at start). */
  private pollsFrom: (peerRank: number) => boolean = () => false;
  private closing = false;
  private serial = 0;

  /** Connections corked for this tick (see cork): what a flush before a spin uncorks, not every peer's. */
  private readonly corkedConnections = new Set<OutgoingConnection>();

  constructor(private readonly opts: SocketTransportOptions) {
    this.pump = opts.socketLib === null ? null
      : new SocketPump(opts.socketLib, { flush: () => this.flushCorked(), onFirstConnection: opts.onPumpActive });
    this.checker = new HelloChecker(opts.key, opts.rank, opts.size);
    this.unproven = new UnprovenConnections(
      { limit: UNPROVEN_LIMIT + opts.size, maxBytes: CLIENT_HELLO_BYTES, timeoutMs: UNPROVEN_TIMEOUT_MS },
      (socket, reason) => debug('dropped a connection from %s: %s', socket.remoteAddress ?? 'a local socket', reason),
    );
  }

  /** Uncorks every connection corked for this tick: the progress engine is about to spin. */
  private flushCorked(): void {
    for (const connection of this.corkedConnections) this.uncork(connection);
  }

  /**
   * Frames written in one turn of the program (a window of isends, a header
   * and its payload) leave in one writev: the socket stays corked until the
   * current tick's callbacks and promise continuations have run. A program
   * that then waits for anything lets it go at once, so latency is unchanged.
   */
  private cork(connection: OutgoingConnection): void {
    if (connection.corked) return;
    connection.corked = true;
    connection.socket!.cork();
    this.corkedConnections.add(connection);
    process.nextTick(this.uncorkAtTickEnd, connection);
  }

  private readonly uncorkAtTickEnd = (connection: OutgoingConnection): void => this.uncork(connection);

  private uncork(connection: OutgoingConnection): void {
    // Already uncorked by a flush before a spin: one cork, one uncork.
    if (!connection.corked) return;
    connection.corked = false;
    this.corkedConnections.delete(connection);
    connection.socket!.uncork();
  }

  /** Opens the listeners; returns what to publish as this rank's address. */
  async listen(): Promise<TransportAddress> {
    const tcpPort = await this.listenTcp();
    let unixPath = '';
    if (!this.opts.forceTcp && this.opts.unixPath !== '') {
      try {
        await this.listenOn(this.opts.unixPath);
        unixPath = this.opts.unixPath;
      } catch (err) {
        debug('unix socket %s unavailable (%s); TCP only', this.opts.unixPath, (err as Error).message);
      }
    }
    debug('rank %d listening on tcp %s:%d', this.opts.rank, this.opts.bindHost, tcpPort);
    return { tcpPort, unixPath };
  }

  /**
   * The address table of the whole job; before the first send. A connection
   * is read by the spin only where the engine spins: where it never does
   * (more ranks than cores), libuv reads large payloads straight into their
   * buffers only on connections the spin leaves alone.
   */
  start(job: SocketStart): Promise<void> {
    this.peers = job.table;
    const doorbellsOnly = job.doorbellsOnly ?? (() => false);
    this.pollsFrom = job.spinning && this.pump !== null ? (peer) => !doorbellsOnly(peer) : () => false;
    // Connections open on first use: nothing to wait for.
    return Promise.resolve();
  }

  addPeers(peers: readonly PeerAddress[]): void {
    const table = this.peers.slice();
    for (const peer of peers) table[peer.rank] = { ...peer, shmFd: -1 };
    this.peers = table;
    this.checker.grow(table.length);
  }

  kindTo(dest: number): ConnectionKind {
    if (dest === this.opts.rank) return 'self';
    const peer = this.peers[dest];
    if (peer !== undefined && !this.opts.forceTcp && peer.unixPath !== '' && peer.hostId === this.opts.hostId) return 'unix';
    return 'tcp';
  }

  trySend(dest: number, header: FrameHeader, payload: Uint8Array): boolean {
    const connection = this.connectionTo(dest);
    // Frames that wait in user space for the writev at the end of the tick need bytes of their own.
    if (!this.sendFirstOfTick(connection, header, payload)) this.queueFrame(connection, header, copyBytes(payload), undefined);
    return true;
  }

  send(dest: number, header: FrameHeader, payload: Uint8Array | null, onWritten?: (err?: Error | null) => void): void {
    const connection = this.connectionTo(dest);
    if (onWritten === undefined && this.sendFirstOfTick(connection, header, payload)) return;
    this.queueFrame(connection, header, payload, onWritten);
  }

  sendFailure(dest: number): Error | null {
    return this.outgoing.get(dest)?.failed ?? null;
  }

  /**
   * The first frame of a tick goes at once, by itself, by one send(2); the
   * others of the tick (a window of isends) wait, corked, to leave together
   * in one writev. True when the frame went.
   */
  private sendFirstOfTick(connection: OutgoingConnection, header: FrameHeader, payload: Uint8Array | null): boolean {
    if (!connection.ready || connection.corked || !this.sentDirectly(connection.socket!, header, payload)) return false;
    this.cork(connection);
    return true;
  }

  /** A frame through Node's stream: held until the connection is READY, corked until the end of the tick. */
  private queueFrame(connection: OutgoingConnection, header: FrameHeader, payload: Uint8Array | null,
    onWritten: ((err?: Error | null) => void) | undefined): void {
    if (connection.failed !== null) {
      onWritten?.(connection.failed);
      return;
    }
    if (!connection.ready) {
      const head = encodeHeader(header);
      connection.pending.push({ header: head, payload, onWritten });
      connection.pendingBytes += head.length + (payload?.length ?? 0);
      return;
    }
    this.cork(connection);
    writeFrame(connection.socket!, encodeHeader(header), payload, onWritten);
  }

  /** A small frame sent by one send(2) (socket-pump.ts); false when Node's stream must write it. */
  private sentDirectly(socket: Socket, header: FrameHeader, payload: Uint8Array | null): boolean {
    const pump = this.pump;
    if (pump === null) return false;
    const sent = pump.sendDirect(socket, header, payload);
    if (sent === 0) return false;
    const total = HEADER_BYTES + (payload?.length ?? 0);
    // The socket buffer took part of it: the rest goes through Node, first in its (empty) queue.
    if (sent < total) socket.write(Buffer.from(pump.sendScratch.subarray(sent, total)));
    return true;
  }

  queuedBytes(dest: number): number {
    const connection = this.outgoing.get(dest);
    return connection === undefined ? 0 : queued(connection);
  }

  writable(dest: number): boolean {
    const connection = this.outgoing.get(dest);
    return connection === undefined || (connection.ready && queued(connection) < WRITE_HIGH_WATER);
  }

  whenWritable(dest: number): Promise<void> {
    return this.whenQueuedBelow(dest, WRITE_HIGH_WATER);
  }

  /** Resolves once the connection to `dest` is READY (opening it if need be); rejects if it fails. */
  whenReady(dest: number): Promise<void> {
    this.connectionTo(dest);
    return this.whenQueuedBelow(dest, Infinity);
  }

  /** Resolves once a proven connection from `from` is there. */
  whenIncoming(from: number): Promise<void> {
    if ((this.incoming.get(from)?.length ?? 0) > 0) return Promise.resolve();
    return new Promise((resolve) => {
      const waiters = this.incomingWaiters.get(from) ?? [];
      waiters.push(resolve);
      this.incomingWaiters.set(from, waiters);
    });
  }

  /**
   * Writes out what waits for every peer, then a goodbye (BYE) after it on
   * every connection: the peer then knows that no message follows. Connections that
   * failed are skipped; their sends have been rejected.
   */
  async finish(): Promise<void> {
    const goodbyes: Promise<void>[] = [];
    for (const connection of this.outgoing.values()) {
      if (connection.failed !== null) continue;
      // Written after everything queued, so its write callback says all of it went.
      goodbyes.push(this.whenQueuedBelow(connection.dest, Infinity).then(() => new Promise<void>((resolve) => {
        writeFrame(connection.socket!, encodeHeader(BYE), null, () => resolve());
      }), () => undefined));
    }
    await Promise.all(goodbyes);
  }

  /** The launcher says `rank` is done: without a connection from it, nothing more can come. */
  peerDone(rank: number, why: string): void {
    this.notices.set(rank, why);
    if ((this.incoming.get(rank)?.length ?? 0) === 0) this.reportEnded(rank, why);
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const server of this.servers) server.close();
    this.unproven.clear();
    const flushes: Promise<void>[] = [];
    for (const connection of this.outgoing.values()) {
      const socket = connection.socket;
      if (socket === null || socket.destroyed) continue;
      flushes.push(new Promise((resolve) => {
        socket.once('close', () => resolve());
        socket.end();
      }));
    }
    await Promise.race([Promise.all(flushes), new Promise((r) => setTimeout(r, 2000).unref())]);
    for (const socket of this.accepted) socket.destroy();
    for (const connection of this.outgoing.values()) connection.socket?.destroy();
  }

  private whenQueuedBelow(dest: number, limit: number): Promise<void> {
    const connection = this.outgoing.get(dest);
    if (connection === undefined) return Promise.resolve();
    if (connection.failed !== null) return Promise.reject(connection.failed);
    if (connection.ready && queued(connection) < limit) return Promise.resolve();
    return new Promise((resolve, reject) => connection.waiters.push({ limit, resolve, reject }));
  }

  /** Wakes those waiting for less to be queued; one 'drain' listener per socket, not one per waiter. */
  private wakeWaiters(connection: OutgoingConnection): void {
    if (!connection.ready || connection.waiters.length === 0) return;
    const bytes = queued(connection);
    for (let i = 0; i < connection.waiters.length; i++) {
      const waiter = connection.waiters[i]!;
      if (bytes >= waiter.limit) continue;
      connection.waiters.splice(i--, 1);
      waiter.resolve();
    }
  }

  private connectionTo(dest: number): OutgoingConnection {
    let connection = this.outgoing.get(dest);
    if (connection === undefined) {
      if (this.peers[dest] === undefined) throw new ProtocolError(`no address known for rank ${dest}`);
      connection = new OutgoingConnection(dest, this.kindTo(dest));
      this.outgoing.set(dest, connection);
      this.open(connection);
    }
    return connection;
  }

  private open(connection: OutgoingConnection): void {
    const dest = connection.dest;
    const peer = this.peers[dest]!;
    const socket = connection.kind === 'unix'
      ? connect({ path: peer.unixPath })
      : connect({ host: peer.tcpHost, port: peer.tcpPort, noDelay: true });
    socket.unref();
    connection.socket = socket;
    connection.state = State.CONNECTING;
    connection.attempts++;
    const started = performance.now();
    let prompt = true;
    let nonce: Buffer | null = null;
    const reply = Buffer.allocUnsafe(SERVER_HELLO_BYTES);
    let got = 0;
    let lastError: Error | null = null;
    socket.once('connect', () => {
      const { hello, nonce: n } = clientHello(this.opts.key, this.opts.rank, dest);
      nonce = n;
      prompt = performance.now() - started < PROMPT_HELLO_MS;
      socket.write(hello);
      connection.state = State.PROVING;
    });
    socket.on('data', (chunk: Buffer) => {
      // Nothing arrives on an outgoing connection after the answer; reading goes on only to see the close.
      if (connection.state !== State.PROVING) return;
      if (got + chunk.length > SERVER_HELLO_BYTES) {
        this.failConnection(connection, new ProtocolError(`rank ${dest} (${describe(peer, connection.kind)}) sent more than its key proof`));
        socket.destroy();
        return;
      }
      chunk.copy(reply, got);
      got += chunk.length;
      if (got < SERVER_HELLO_BYTES) return;
      try {
        checkServerHello(reply, this.opts.key, nonce!, this.opts.rank, dest);
      } catch (err) {
        this.failConnection(connection, err as Error);
        socket.destroy();
        return;
      }
      this.becomeReady(connection, socket);
    });
    socket.on('error', (err) => {
      lastError = err;
    });
    socket.on('close', () => {
      if (connection.socket !== socket || connection.state === State.FAILED) return;
      const why = lastError === null ? 'closed' : lastError.message;
      if (this.closing) {
        this.failConnection(connection, new ProtocolError(`connection to rank ${dest} closed at the end of the job`), false);
      } else if (connection.ready) {
        this.failConnection(connection, new ProtocolError(`connection to rank ${dest} (${describe(peer, connection.kind)}) ${why === 'closed' ? 'closed' : `failed: ${why}`}`));
      } else {
        this.retry(connection, why, prompt);
      }
    });
  }

  /**
   * Closed before READY. The peer's listener may have dropped us for being
   * late with our hello, or for a flood of strangers: connect again after a
   * pause, frames still pending. A peer that keeps refusing a prompt hello
   * (another job at its address, a wrong key) ends the connection.
   */
  private retry(connection: OutgoingConnection, why: string, prompt: boolean): void {
    if (prompt) connection.promptRefusals++;
    const peer = this.peers[connection.dest]!;
    if (connection.promptRefusals >= MAX_PROMPT_REFUSALS) {
      this.failConnection(connection, new ProtocolError(`cannot connect to rank ${connection.dest} (${describe(peer, connection.kind)}): ` +
        `${why} (${connection.attempts} attempts; the key proof refused, or nobody listening there?)`));
      return;
    }
    const pause = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(connection.attempts - 1, 10));
    debug('connection to rank %d %s before its key proof was answered; connecting again in %d ms', connection.dest, why, pause);
    connection.socket = null;
    // Ref'd: a finalize waiting for this connection must keep the process alive.
    setTimeout(() => {
      if (!this.closing && connection.state !== State.FAILED) this.open(connection);
    }, pause);
  }

  private becomeReady(connection: OutgoingConnection, socket: Socket): void {
    connection.state = State.READY;
    publish('mpi4ts:transport:connect', () => ({ rank: this.opts.rank, peer: connection.dest, kind: connection.kind }));
    connection.pendingBytes = 0;
    connection.promptRefusals = 0;
    this.cork(connection);
    for (const w of connection.pending.splice(0)) writeFrame(socket, w.header, w.payload, w.onWritten);
    socket.on('drain', () => this.wakeWaiters(connection));
    this.wakeWaiters(connection);
  }

  /** The connection can carry nothing more: fail what waits on it and tell the sink. */
  private failConnection(connection: OutgoingConnection, err: Error, tell = true): void {
    if (connection.state === State.FAILED) return;
    connection.state = State.FAILED;
    connection.failed = err;
    connection.pendingBytes = 0;
    for (const w of connection.pending.splice(0)) w.onWritten?.(err);
    for (const waiter of connection.waiters.splice(0)) waiter.reject(err);
    if (tell && !this.closing) this.opts.sink.onSendFailed(connection.dest, err);
  }

  private async listenTcp(): Promise<number> {
    const range = this.opts.portRange;
    if (range === null) return (await this.listenOn({ host: this.opts.bindHost, port: 0 })) as number;
    let lastError: Error | null = null;
    for (let port = range[0]; port <= range[1]; port++) {
      try {
        return (await this.listenOn({ host: this.opts.bindHost, port })) as number;
      } catch (err) {
        lastError = err as Error;
      }
    }
    throw new ProtocolError(`no free port in --port-range ${range[0]}-${range[1]} on ${this.opts.bindHost}: ${lastError?.message ?? ''}`);
  }

  private listenOn(where: string | { host: string; port: number }): Promise<number | string> {
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      const onListening = (): void => {
        server.off('error', reject);
        server.unref();
        this.servers.push(server);
        const address = server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : String(address));
      };
      if (typeof where === 'string') server.listen(where, onListening);
      else server.listen(where.port, where.host, onListening);
    });
  }

  /** A peer connected: its first bytes must prove the key; then its frames are read. Strangers are dropped. */
  private accept(socket: Socket): void {
    socket.unref();
    this.track(socket);
    socket.on('error', (err) => debug('incoming connection error: %s', err.message));
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.unproven.admit(socket);
    const hello = Buffer.allocUnsafe(CLIENT_HELLO_BYTES);
    let got = 0;
    const onData = (chunk: Buffer): void => {
      if (!this.unproven.received(socket, chunk.length)) return;
      chunk.copy(hello, got);
      got += chunk.length;
      if (got < CLIENT_HELLO_BYTES) return;
      socket.off('data', onData);
      this.unproven.proven(socket);
      let proven: { peerRank: number; reply: Buffer };
      try {
        proven = this.checker.check(hello);
      } catch (err) {
        debug('dropped a connection from %s: %s', socket.remoteAddress ?? 'a local socket', (err as Error).message);
        socket.destroy();
        return;
      }
      socket.write(proven.reply);
      // The answer must have gone before the connection changes hands (readDirectly); 44 bytes on a
      // fresh connection always do. If not, drop it: the peer connects again.
      if (socket.writableLength !== 0) {
        socket.destroy();
        return;
      }
      this.addPath(socket, proven.peerRank);
    };
    socket.on('data', onData);
  }

  private track(socket: Socket): void {
    this.accepted.add(socket);
    socket.once('close', () => this.accepted.delete(socket));
  }

  /** A proven connection from `from`: read its frames from now on. */
  private addPath(accepted: Socket, from: number): void {
    const label = accepted.remoteAddress === undefined ? `unix socket #${++this.serial}` : `tcp from ${accepted.remoteAddress}:${accepted.remotePort}`;
    const paths = this.incoming.get(from) ?? [];
    this.incoming.set(from, paths);
    for (const old of [...paths]) {
      // A peer connects again only when it never had our answer: the old connection never carried
      // a frame. One that did and is still open beside a new one is not the peer's doing.
      if (old.frames === 0 && !old.ended) {
        paths.splice(paths.indexOf(old), 1);
        old.dropped = true;
        old.socket.destroy();
      } else if (!old.ended) {
        accepted.destroy();
        this.opts.sink.onProtocolError(new ProtocolError(`a second connection claiming rank ${from} (${label}) while its first ` +
          `(${old.label}) carries frames; closed it`));
        return;
      }
    }
    const ended = this.endedPeers.has(from);
    const path: IncomingPath = { from, socket: accepted, label, frames: 0, ended, saidBye: false, dropped: false };
    paths.push(path);
    const reader = new FrameReader({
      onFrame: (header, payload, owned) => this.frameFrom(path, header, payload, owned),
      dataTarget: (header) => this.opts.sink.dataTarget(from, header),
    }, this.opts.limits);
    const guard = (read: () => void): void => {
      if (path.dropped) return;
      try {
        read();
      } catch (err) {
        this.broken(path, err instanceof Error ? err : new Error(String(err)));
      }
    };
    path.socket = this.opts.directRead ? this.readDirectly(accepted, from, reader, guard) : accepted;
    if (!this.opts.directRead) accepted.on('data', (chunk: Buffer) => guard(() => reader.push(chunk)));
    path.socket.once('close', () => {
      if (this.closing || path.dropped) return;
      if (!reader.atFrameBoundary) {
        this.broken(path, new ProtocolError('the connection closed in the middle of a frame'));
      } else if (path.frames === 0 && !this.notices.has(from)) {
        // Closed before it carried anything (the peer never had our answer, and connects again):
        // no sign that the peer is done.
        path.dropped = true;
        paths.splice(paths.indexOf(path), 1);
      } else {
        this.pathEnded(path);
      }
    });
    for (const resolve of this.incomingWaiters.get(from)?.splice(0) ?? []) resolve();
  }

  private frameFrom(path: IncomingPath, header: FrameHeader, payload: Uint8Array | null, owned: boolean): void {
    path.frames++;
    if (header.kind === FrameKind.BYE) {
      path.saidBye = true;
      this.pathEnded(path);
      return;
    }
    if (path.ended && (header.kind === FrameKind.EAGER || header.kind === FrameKind.RTS)) {
      throw new ProtocolError('a message after the sender said goodbye');
    }
    this.opts.sink.onFrame(path.from, header, payload, owned);
  }

  /** A protocol error on one connection: close it (only it), and say which it was. */
  private broken(path: IncomingPath, err: Error): void {
    if (path.dropped) return;
    path.dropped = true;
    path.socket.destroy();
    this.opts.sink.onProtocolError(new ProtocolError(`bad frame from rank ${path.from} (${path.label}): ${err.message}; closed that connection`));
    this.pathEnded(path);
  }

  private pathEnded(path: IncomingPath): void {
    path.ended = true;
    const paths = this.incoming.get(path.from) ?? [];
    if (paths.some((p) => !p.ended)) return;
    const why = paths.some((p) => p.saidBye) ? 'finalized' : this.notices.get(path.from) ?? 'closed';
    this.reportEnded(path.from, why);
  }

  private reportEnded(rank: number, why: string): void {
    if (this.endedPeers.has(rank) || this.closing) return;
    this.endedPeers.add(rank);
    this.opts.sink.onPeerEnded(rank, why);
  }

  /**
   * Moves an accepted connection to a socket that reads where the frame reader
   * says (Node's `onread` option, which net.Server cannot give accepted
   * sockets: so the OS handle is handed to a new Socket, reading paused
   * meanwhile). Returns the socket that now owns the connection.
   */
  private readDirectly(accepted: Socket, from: number, reader: FrameReader, guard: (read: () => void) => void): Socket {
    const handle = (accepted as unknown as { _handle: { readStop(): number; reading: boolean } | null })._handle;
    if (handle === null) return accepted;
    handle.readStop();
    // Node's flag: left true, the new socket would think the handle is already reading.
    handle.reading = false;
    accepted.removeAllListeners();
    this.accepted.delete(accepted);
    (accepted as unknown as { _handle: unknown })._handle = null;
    const readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    const polled = this.pollsFrom(from);
    const socket = new Socket({
      handle,
      onread: {
        // Node asks for the next read's buffer right after a read, not when it reads. With the
        // spin reading too, the frame reader may have moved on by then (into a payload that is
        // complete and handed to the program): libuv then reads into its own buffer, copied from.
        buffer: polled ? () => readBuffer : () => reader.nextReadTarget(readBuffer),
        callback: (count: number, target: Uint8Array) => {
          guard(() => reader.pushRead(target, count));
          return true;
        },
      },
    } as ConstructorParameters<typeof Socket>[0]);
    socket.unref();
    this.track(socket);
    socket.on('error', (err) => debug('incoming connection error: %s', err.message));
    if (polled) {
      const pollBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
      this.pump!.add({
        socket,
        target: () => reader.nextReadTarget(pollBuffer),
        delivered: (target, count) => guard(() => reader.pushRead(target, count)),
      });
    }
    return socket;
  }
}

function queued(connection: OutgoingConnection): number {
  return connection.pendingBytes + (connection.socket?.writableLength ?? 0);
}

function writeFrame(socket: Socket, header: Buffer, payload: Uint8Array | null, onWritten?: (err?: Error | null) => void): void {
  if (payload === null || payload.length === 0) {
    socket.write(header, onWritten);
    return;
  }
  socket.write(header);
  socket.write(payload, onWritten);
}

function describe(peer: PeerAddress, kind: ConnectionKind): string {
  return kind === 'unix' ? `unix socket on ${peer.host}` : `tcp ${peer.tcpHost}:${peer.tcpPort} on ${peer.host}`;
}
