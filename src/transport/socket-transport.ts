/**
 * Frames over stream sockets: a Unix socket between ranks of one host, TCP
 * otherwise (DESIGN.md "Transports"). Each rank sends only on the connection
 * it opened to a peer and receives on the ones peers opened to it, so two
 * ranks that connect at the same moment never race, and the frames of one
 * sender reach the receiver in the order they were written (MPI's
 * non-overtaking rule rests on this).
 */
import { createServer, connect, Socket, type Server } from 'node:net';
import { debuglog } from 'node:util';
import { ProtocolError } from '../errors.js';
import { copyBytes } from '../codec/index.js';
import { clientHandshake, serverHandshake } from './auth.js';
import { encodeHeader, HEADER_BYTES, type FrameHeader } from './frame.js';
import { FrameReader, type FrameReaderLimits } from './frame-reader.js';
import type { SocketPoller } from './socket-poller.js';
import type { ChannelKind, FrameSink, PeerAddress, Transport } from './transport.js';

const debug = debuglog('mpi4ts');

/**
 * Each incoming connection reads into one buffer of this size, reused for
 * every read (frames handed up from it are copied by whoever keeps them).
 */
const READ_BUFFER_BYTES = 128 * 1024;

/** Above this many queued bytes a sender waits for the socket to drain. */
export const WRITE_HIGH_WATER = 8 * 1024 * 1024;

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
   * (socket-poller.ts); null leaves all reading to libuv. Needs directRead.
   */
  poller: SocketPoller | null;
}

interface PendingWrite {
  header: Buffer;
  payload: Uint8Array | null;
  onWritten: ((err?: Error | null) => void) | undefined;
}

/** The connection this rank opened to one peer, used only to send. */
class OutgoingChannel {
  socket: Socket | null = null;
  ready = false;
  failed: Error | null = null;
  /** Frames written before the key handshake finished. */
  readonly pending: PendingWrite[] = [];
  pendingBytes = 0;
  /** Corked until the end of this tick (see SocketTransport.cork). */
  corked = false;
  constructor(readonly kind: ChannelKind) {}
}

export class SocketTransport implements Transport {
  private readonly outgoing = new Map<number, OutgoingChannel>();
  private readonly incoming = new Set<Socket>();
  private readonly servers: Server[] = [];
  private peers: PeerAddress[] = [];
  private myHostId = '';
  private closing = false;

  /** Channels corked for this tick (see cork): what a flush before a spin uncorks, not every peer's. */
  private readonly corkedChannels = new Set<OutgoingChannel>();

  constructor(private readonly opts: SocketTransportOptions) {
    opts.poller?.onFlush(() => this.flushCorked());
  }

  /** Uncorks every channel corked for this tick: the progress engine is about to spin. */
  private flushCorked(): void {
    for (const channel of this.corkedChannels) this.uncork(channel);
  }

  /**
   * Frames written in one turn of the program (a window of isends, a header
   * and its payload) leave in one writev: the socket stays corked until the
   * current tick's callbacks and promise continuations have run. A program
   * that then waits for anything lets it go at once, so latency is unchanged.
   */
  private cork(channel: OutgoingChannel): void {
    if (channel.corked) return;
    channel.corked = true;
    channel.socket!.cork();
    this.corkedChannels.add(channel);
    process.nextTick(this.uncorkAtTickEnd, channel);
  }

  private readonly uncorkAtTickEnd = (channel: OutgoingChannel): void => this.uncork(channel);

  private uncork(channel: OutgoingChannel): void {
    // Already uncorked by a flush before a spin: one cork, one uncork.
    if (!channel.corked) return;
    channel.corked = false;
    this.corkedChannels.delete(channel);
    channel.socket!.uncork();
  }

  /** Opens the listeners; returns what to publish as this rank's address. */
  async listen(): Promise<{ tcpPort: number; unixPath: string }> {
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
    return { tcpPort, unixPath };
  }

  /** The address table of the whole job; needed before the first send. */
  setPeers(peers: PeerAddress[], myHostId: string): void {
    this.peers = peers;
    this.myHostId = myHostId;
  }

  kindTo(dest: number): ChannelKind {
    if (dest === this.opts.rank) return 'self';
    const peer = this.peers[dest];
    if (peer !== undefined && !this.opts.forceTcp && peer.unixPath !== '' && peer.hostId === this.myHostId) return 'unix';
    return 'tcp';
  }

  trySend(dest: number, header: FrameHeader, payload: Uint8Array): boolean {
    const channel = this.channelTo(dest);
    // Frames that wait in user space for the writev at the end of the tick need bytes of their own.
    if (!this.sendFirstOfTick(channel, header, payload)) this.queueFrame(channel, header, copyBytes(payload), undefined);
    return true;
  }

  send(dest: number, header: FrameHeader, payload: Uint8Array | null, onWritten?: (err?: Error | null) => void): void {
    const channel = this.channelTo(dest);
    if (onWritten === undefined && this.sendFirstOfTick(channel, header, payload)) return;
    this.queueFrame(channel, header, payload, onWritten);
  }

  /**
   * The first frame of a tick goes at once, by itself, by one send(2); the
   * others of the tick (a window of isends) wait, corked, to leave together
   * in one writev. True when the frame went.
   */
  private sendFirstOfTick(channel: OutgoingChannel, header: FrameHeader, payload: Uint8Array | null): boolean {
    if (channel.failed !== null || !channel.ready || channel.corked || !this.sentDirectly(channel.socket!, header, payload)) return false;
    this.cork(channel);
    return true;
  }

  /** A frame through Node's stream: held until the key handshake, corked until the end of the tick. */
  private queueFrame(channel: OutgoingChannel, header: FrameHeader, payload: Uint8Array | null,
    onWritten: ((err?: Error | null) => void) | undefined): void {
    if (channel.failed !== null) {
      onWritten?.(channel.failed);
      return;
    }
    if (!channel.ready) {
      const head = encodeHeader(header);
      channel.pending.push({ header: head, payload, onWritten });
      channel.pendingBytes += head.length + (payload?.length ?? 0);
      return;
    }
    this.cork(channel);
    writeFrame(channel.socket!, encodeHeader(header), payload, onWritten);
  }

  /** A small frame sent by one send(2) (socket-poller.ts); false when Node's stream must write it. */
  private sentDirectly(socket: Socket, header: FrameHeader, payload: Uint8Array | null): boolean {
    const poller = this.opts.poller;
    if (poller === null) return false;
    const sent = poller.sendDirect(socket, header, payload);
    if (sent === 0) return false;
    const total = HEADER_BYTES + (payload?.length ?? 0);
    // The socket buffer took part of it: the rest goes through Node, first in its (empty) queue.
    if (sent < total) socket.write(Buffer.from(poller.sendScratch.subarray(sent, total)));
    return true;
  }

  queuedBytes(dest: number): number {
    const channel = this.outgoing.get(dest);
    if (channel === undefined) return 0;
    return channel.pendingBytes + (channel.socket?.writableLength ?? 0);
  }

  writable(dest: number): boolean {
    return this.queuedBytes(dest) < WRITE_HIGH_WATER;
  }

  whenWritable(dest: number): Promise<void> {
    const channel = this.outgoing.get(dest);
    if (channel === undefined || this.queuedBytes(dest) < WRITE_HIGH_WATER) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (channel.failed !== null || this.queuedBytes(dest) < WRITE_HIGH_WATER) resolve();
        else setTimeout(check, 1);
      };
      if (channel.socket !== null && channel.ready) channel.socket.once('drain', check);
      else setTimeout(check, 1);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const server of this.servers) server.close();
    const flushes: Promise<void>[] = [];
    for (const channel of this.outgoing.values()) {
      const socket = channel.socket;
      if (socket === null || socket.destroyed) continue;
      flushes.push(new Promise((resolve) => {
        socket.once('close', () => resolve());
        socket.end();
      }));
    }
    await Promise.race([Promise.all(flushes), new Promise((r) => setTimeout(r, 2000).unref())]);
    for (const socket of this.incoming) socket.destroy();
    for (const channel of this.outgoing.values()) channel.socket?.destroy();
  }

  private channelTo(dest: number): OutgoingChannel {
    let channel = this.outgoing.get(dest);
    if (channel === undefined) {
      channel = new OutgoingChannel(this.kindTo(dest));
      this.outgoing.set(dest, channel);
      this.open(dest, channel);
    }
    return channel;
  }

  private open(dest: number, channel: OutgoingChannel): void {
    const peer = this.peers[dest];
    if (peer === undefined) throw new ProtocolError(`no address known for rank ${dest}`);
    const socket = channel.kind === 'unix'
      ? connect({ path: peer.unixPath })
      : connect({ host: peer.tcpHost, port: peer.tcpPort, noDelay: true });
    socket.unref();
    channel.socket = socket;
    const fail = (err: Error): void => {
      if (channel.failed !== null) return;
      channel.failed = err;
      for (const w of channel.pending.splice(0)) w.onWritten?.(err);
      if (!this.closing) this.opts.sink.onPeerLost(dest, err);
    };
    socket.once('connect', () => {
      clientHandshake(socket, this.opts.key, this.opts.rank, dest).then(({ leftover }) => {
        if (leftover.length > 0) debug('rank %d sent %d unexpected bytes after the handshake', dest, leftover.length);
        channel.ready = true;
        channel.pendingBytes = 0;
        this.cork(channel);
        for (const w of channel.pending.splice(0)) writeFrame(socket, w.header, w.payload, w.onWritten);
        // Nothing arrives on an outgoing channel after the handshake; keep reading only to see the close.
        socket.on('data', () => {});
      }, (err: Error) => {
        socket.destroy();
        fail(err);
      });
    });
    socket.on('error', (err) => fail(new ProtocolError(`connection to rank ${dest} (${describe(peer, channel.kind)}) failed: ${err.message}`)));
    socket.on('close', () => {
      if (!this.closing) fail(new ProtocolError(`connection to rank ${dest} closed`));
    });
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

  /** A peer connected: prove keys, then read its frames. Strangers are dropped. */
  private accept(socket: Socket): void {
    socket.unref();
    this.incoming.add(socket);
    socket.once('close', () => this.incoming.delete(socket));
    socket.on('error', (err) => debug('incoming connection error: %s', err.message));
    serverHandshake(socket, this.opts.key, this.opts.rank, this.opts.size).then(({ peerRank, leftover }) => {
      this.readFrames(socket, peerRank, leftover);
    }, (err: Error) => {
      debug('dropped a connection from %s: %s', socket.remoteAddress ?? 'a local socket', err.message);
      socket.destroy();
    });
  }

  private readFrames(socket: Socket, from: number, leftover: Buffer): void {
    const sink = this.opts.sink;
    const reader = new FrameReader({
      onFrame: (header, payload, owned) => sink.onFrame(from, header, payload, owned),
      dataTarget: (header) => sink.dataTarget(from, header),
    }, this.opts.limits);
    let failed = false;
    const guard = (read: () => void): void => {
      if (failed) return;
      try {
        read();
      } catch (err) {
        failed = true;
        socket.destroy();
        sink.onPeerLost(from, err instanceof Error ? err : new Error(String(err)));
      }
    };
    if (leftover.length > 0) guard(() => reader.push(leftover));
    if (this.opts.directRead) socket = this.readDirectly(socket, from, reader, guard);
    else socket.on('data', (chunk: Buffer) => guard(() => reader.push(chunk)));
    socket.once('close', () => {
      if (!this.closing && !failed && !reader.atFrameBoundary) sink.onPeerLost(from, new ProtocolError(`connection from rank ${from} closed in the middle of a frame`));
    });
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
    this.incoming.delete(accepted);
    (accepted as unknown as { _handle: unknown })._handle = null;
    const readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    const polled = this.opts.poller?.polls(from) === true;
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
    this.incoming.add(socket);
    socket.once('close', () => this.incoming.delete(socket));
    socket.on('error', (err) => debug('incoming connection error: %s', err.message));
    if (polled) {
      const pollBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
      this.opts.poller!.add({
        socket,
        target: () => reader.nextReadTarget(pollBuffer),
        delivered: (target, count) => guard(() => reader.pushRead(target, count)),
      });
    }
    return socket;
  }
}

function writeFrame(socket: Socket, header: Buffer, payload: Uint8Array | null, onWritten?: (err?: Error | null) => void): void {
  if (payload === null || payload.length === 0) {
    socket.write(header, onWritten);
    return;
  }
  socket.write(header);
  socket.write(payload, onWritten);
}

function describe(peer: PeerAddress, kind: ChannelKind): string {
  return kind === 'unix' ? `unix socket on ${peer.host}` : `tcp ${peer.tcpHost}:${peer.tcpPort} on ${peer.host}`;
}
