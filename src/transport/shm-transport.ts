/**
 * Frames through shared-memory rings between ranks of one host, sockets to
 * everyone else (DESIGN.md "Transports"). Every frame to a peer takes one
 * path for the whole job, so frames stay in order (MPI's non-overtaking rule).
 *
 * Rings are polled, not waited on: the progress engine calls poll() while it
 * spins. When it stops spinning it sets the "asleep" flag of this rank's
 * inbox; a peer that then writes clears the flag and rings a doorbell: a
 * payload-less frame over the Unix socket to the sleeper, which wakes its
 * event loop from epoll. The same holds the other way for a writer that
 * sleeps with frames queued behind a full ring. Each side sets its flag and
 * then looks again (or writes and then looks at the flag), with sequentially
 * consistent atomics, so a wake-up is never lost. The doorbell connection
 * also reports a peer's death, as for socket peers.
 */
import { ProtocolError, debug } from '../base/index.js';
import { FrameKind, newHeader, type FrameHeader } from './frame.js';
import type { FrameReaderLimits } from './frame-reader.js';
import { attachFront, attachInbox, inboxToken, type Inbox, type OwnInbox, type ShmLib } from './shm-segment.js';
import { RingReader, RingWriter } from './shm-ring.js';
import type { BoardSlot } from './shm-board.js';
import { WRITE_HIGH_WATER, type SocketTransport } from './socket-transport.js';
import type { ConnectionKind, FrameSink, PeerAddress, Transport, TransportAddress, TransportStart } from './transport.js';

/** The doorbell, a frame of its own kind with nothing else in it; it never reaches the engine. */
const DOORBELL = ((): FrameHeader => {
  const h = newHeader();
  h.kind = FrameKind.DOORBELL;
  return h;
})();

export interface ShmTransportOptions {
  rank: number;
  key: Buffer;
  /** Where frames go up (the p2p engine). */
  sink: FrameSink;
  limits: FrameReaderLimits;
  lib: ShmLib;
  inbox: OwnInbox;
  /** Data bytes per ring (a power of two). */
  ringCapacity: number;
  /** Called when a doorbell rings: the progress engine polls. */
  onDoorbell: () => void;
  /**
   * Map every local peer's board slot at start and offer the board
   * (shm-board.ts; MPI4TS_HOST_COLL): false says "no" to every peer.
   */
  offerBoard: boolean;
  /** Identifies this host (PeerAddress.hostId): the ranks with the same id share memory with this one. */
  hostId: string;
  /**
   * Opens the socket transport underneath (doorbells, and every peer without
   * shared memory), given the sink it delivers to: this transport's, where
   * doorbells stop and the rest goes up.
   */
  openSockets: (sink: FrameSink) => SocketTransport;
}

interface ShmPeer {
  rank: number;
  pid: number;
  fd: number;
  /** Index of this rank's ring in the peer's inbox. */
  ringThere: number;
  /** Mapped at the first send; null before, or after attaching failed (then sockets carry it). */
  writer: RingWriter | null;
  inbox: Inbox | null;
  fellBack: boolean;
  /** Its header and board slot, mapped at start where the board is offered (attachFront), else null. */
  front: Inbox | null;
}

interface ShmSource {
  rank: number;
  reader: RingReader;
}

export class ShmTransport implements Transport {
  private readonly socket: SocketTransport;
  /** By rank: an array, not a Map, as it is looked up for every frame sent. */
  private peers: (ShmPeer | undefined)[] = [];
  private readonly sources: ShmSource[] = [];
  /** Peers with frames queued behind a full ring. */
  private readonly backlog = new Set<ShmPeer>();
  private readonly writableWaiters: { peer: ShmPeer; resolve: () => void; reject: (err: Error) => void }[] = [];
  private asleep = true;
  private ringCount = 0;
  /** For the debug log: how often the rings alone were not enough. */
  private doorbellsRung = 0;

  /** Waiting for every queue behind a full ring to be empty (finish). */
  private readonly drainedWaiters: (() => void)[] = [];

  /** What the socket transport delivers to: doorbells stop here, the rest goes up. */
  private readonly socketSink: FrameSink = {
    onFrame: (from, header, payload, owned) => {
      if (header.kind === FrameKind.DOORBELL) this.opts.onDoorbell();
      else this.opts.sink.onFrame(from, header, payload, owned);
    },
    dataTarget: (from, header) => this.opts.sink.dataTarget(from, header),
    onSendFailed: (rank, reason) => {
      const peer = this.peers[rank];
      if (peer !== undefined && peer.writer !== null) {
        // The doorbell connection closing is how a dead peer shows: its ring takes nothing more.
        peer.writer.fail(reason);
        this.leaveBacklog(peer);
        // Senders waiting for room learn of it.
        this.flushBacklog();
      }
      this.opts.sink.onSendFailed(rank, reason);
    },
    onPeerEnded: (rank, why) => {
      // A peer says goodbye on its socket only once everything it wrote into our ring is there
      // (finish), and a peer that exited wrote nothing after: read the ring to its end first.
      this.drainRing(rank);
      this.opts.sink.onPeerEnded(rank, why);
    },
    onProtocolError: (err) => this.opts.sink.onProtocolError(err),
  };

  constructor(private readonly opts: ShmTransportOptions) {
    this.socket = opts.openSockets(this.socketSink);
  }

  /** The sockets' listeners, and this rank's inbox where a Unix socket can carry its doorbells. */
  async listen(): Promise<TransportAddress> {
    const address = await this.socket.listen();
    return address.unixPath === '' ? address : { ...address, shmFd: this.opts.inbox.fd };
  }

  /**
   * The address table is known: size this rank's inbox for the other local
   * ranks that offer shared memory, start reading their rings, and start the
   * sockets (which then leave the doorbell connections to libuv).
   */
  async start(job: TransportStart): Promise<void> {
    this.openRings(job.table);
    this.offerBoard();
    await this.socket.start({ ...job, doorbellsOnly: (peer) => this.peers[peer] !== undefined });
    // Open the doorbell connections now: their closing is how a dead peer shows.
    for (const peer of this.peers) if (peer !== undefined) this.ringDoorbell(peer.rank);
    await this.connected();
  }

  private openRings(table: readonly PeerAddress[]): void {
    const local = table.filter((p) => p.hostId === this.opts.hostId && (p.shmFd ?? -1) >= 0).map((p) => p.rank);
    if (!local.includes(this.opts.rank) || local.length < 2) return;
    const me = this.opts.rank;
    this.ringCount = local.length - 1;
    this.peers = new Array<ShmPeer | undefined>(table.length).fill(undefined);
    let inbox: Inbox;
    try {
      inbox = this.opts.inbox.open(me, inboxToken(this.opts.key, me, process.pid), this.ringCount, this.opts.ringCapacity);
    } catch (err) {
      // Peers find the inbox unsized, give up on it after a while, and use sockets, as this rank does.
      debug('cannot size the shared-memory inbox (%s); using sockets', (err as Error).message);
      return;
    }
    // The progress engine may already sleep (it did since this transport was made): peers must see it.
    inbox.setAsleep(this.asleep);
    const ringIndex = (writer: number, owner: number): number => {
      const w = local.indexOf(writer);
      return w - (w > local.indexOf(owner) ? 1 : 0);
    };
    for (const rank of local) {
      if (rank === me) continue;
      const address = table[rank]!;
      this.peers[rank] = { rank, pid: address.pid, fd: address.shmFd!, ringThere: ringIndex(me, rank), writer: null, inbox: null, fellBack: false, front: null };
      const reader = new RingReader(inbox.ring(ringIndex(rank, me)), {
        onFrame: (header, payload, owned) => {
          // Goodbyes go on the socket, after every frame of the ring is in (finish).
          if (header.kind === FrameKind.BYE) throw new ProtocolError('a goodbye in the shared-memory ring');
          this.opts.sink.onFrame(rank, header, payload, owned);
        },
        dataTarget: (header) => this.opts.sink.dataTarget(rank, header),
      }, this.opts.limits);
      this.sources.push({ rank, reader });
    }
  }

  /**
   * Maps every local peer's header and board slot, and says in this rank's
   * header whether it meets them on the board (Inbox.boardOffer): yes only
   * if it mapped them all and MPI4TS_HOST_COLL allows it. A peer that is
   * slow to size its inbox holds this start up (attachFront waits for it).
   */
  private offerBoard(): void {
    const own = this.opts.inbox.mapped;
    if (own === null) return;
    let mapped = this.opts.offerBoard;
    for (const peer of this.peers) {
      if (peer === undefined || !mapped) continue;
      try {
        peer.front = attachFront(this.opts.lib, peer.pid, peer.fd, peer.rank, inboxToken(this.opts.key, peer.rank, peer.pid), this.ringCount, this.opts.ringCapacity);
      } catch (err) {
        debug('rank %d: no board slot of rank %d (%s): the collectives go by messages', this.opts.rank, peer.rank, (err as Error).message);
        mapped = false;
      }
    }
    own.setBoardOffer(mapped ? 1 : 2);
  }

  kindTo(dest: number): ConnectionKind {
    const peer = this.peers[dest];
    if (peer !== undefined && !peer.fellBack) return 'shm';
    return this.socket.kindTo(dest);
  }

  send(dest: number, header: FrameHeader, payload: Uint8Array | null, onWritten?: (err?: Error | null) => void): void {
    const peer = this.peers[dest];
    const writer = peer === undefined ? null : this.writerOf(peer);
    if (writer === null) {
      this.socket.send(dest, header, payload, onWritten);
      return;
    }
    writer.send(header, payload, onWritten);
    this.afterWrite(peer!);
  }

  trySend(dest: number, header: FrameHeader, payload: Uint8Array): boolean {
    const peer = this.peers[dest];
    const writer = peer === undefined ? null : this.writerOf(peer);
    if (writer === null) return this.socket.trySend(dest, header, payload);
    // Straight into the ring when it has room: the copy into shared memory is the only one.
    // Otherwise the caller send()s the frame, and it waits for room with the caller's bytes:
    // copying them first would cost an allocation and a copy per queued frame.
    if (!writer.sendNow(header, payload)) return false;
    this.afterWrite(peer!);
    return true;
  }

  queuedBytes(dest: number): number {
    const peer = this.peers[dest];
    if (peer === undefined || peer.fellBack) return this.socket.queuedBytes(dest);
    return peer.writer?.queuedBytes ?? 0;
  }

  addPeers(peers: readonly PeerAddress[]): void {
    this.socket.addPeers(peers);
  }

  writable(dest: number): boolean {
    const peer = this.peers[dest];
    if (peer === undefined || peer.fellBack) return this.socket.writable(dest);
    return (peer.writer?.queuedBytes ?? 0) < WRITE_HIGH_WATER;
  }

  whenWritable(dest: number): Promise<void> {
    const peer = this.peers[dest];
    if (peer === undefined || peer.fellBack) return this.socket.whenWritable(dest);
    const failure = peer.writer?.failure ?? null;
    if (failure !== null) return Promise.reject(failure);
    if ((peer.writer?.queuedBytes ?? 0) < WRITE_HIGH_WATER) return Promise.resolve();
    return new Promise((resolve, reject) => this.writableWaiters.push({ peer, resolve, reject }));
  }

  sendFailure(dest: number): Error | null {
    const peer = this.peers[dest];
    // A ring's writer is failed with its doorbell connection (socketSink.onSendFailed).
    if (peer !== undefined && peer.writer !== null) return peer.writer.failure;
    return this.socket.sendFailure(dest);
  }

  /** Everything queued behind full rings goes in, then the sockets say goodbye after it. */
  async finish(): Promise<void> {
    if (this.backlog.size > 0) this.flushBacklog();
    if (this.backlog.size > 0) {
      debug('rank %d waits for frames queued behind full rings to %s', this.opts.rank, [...this.backlog].map((p) => p.rank).join(', '));
      await new Promise<void>((resolve) => this.drainedWaiters.push(resolve));
    }
    await this.socket.finish();
  }

  peerDone(rank: number, why: string): void {
    this.socket.peerDone(rank, why);
  }

  /**
   * Resolves once the doorbell connections are up both ways with every local
   * peer: the one this rank opened (so no key proof is left half done when
   * the program starts computing) and the one each peer opened, which it
   * does only after sizing its inbox (so a first send never waits for that).
   */
  private async connected(): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const peer of this.peers) {
      if (peer === undefined) continue;
      waits.push(this.socket.whenReady(peer.rank), this.socket.whenIncoming(peer.rank));
    }
    await Promise.all(waits);
  }

  /**
   * Reads every ring and pushes queued frames into rings with room; true if
   * anything moved. Frames go up by synchronous callback.
   */
  poll(): boolean {
    let moved = false;
    for (let i = 0; i < this.sources.length; i++) {
      const source = this.sources[i]!;
      const read = this.pollSource(source);
      if (read === null) {
        i--;
        continue;
      }
      if (!read) continue;
      moved = true;
      // Room freed: a writer sleeping on a full ring needs its doorbell.
      if (source.reader.ring.takeWriterWaiting()) this.ringDoorbell(source.rank);
    }
    if (this.backlog.size > 0 && this.flushBacklog()) moved = true;
    return moved;
  }

  /** One poll of one ring; null when the ring broke the protocol (it is then read no more). */
  private pollSource(source: ShmSource): boolean | null {
    try {
      return source.reader.poll();
    } catch (err) {
      this.sources.splice(this.sources.indexOf(source), 1);
      const message = err instanceof Error ? err.message : String(err);
      this.opts.sink.onProtocolError(new ProtocolError(`bad frame from rank ${source.rank} (shared-memory ring): ${message}; ` +
        'stopped reading that ring'));
      return null;
    }
  }

  /** Reads `rank`'s ring until it holds nothing more. */
  private drainRing(rank: number): void {
    const source = this.sources.find((s) => s.rank === rank);
    if (source === undefined) return;
    let read: boolean | null;
    while ((read = this.pollSource(source)) === true) {
      if (source.reader.ring.takeWriterWaiting()) this.ringDoorbell(rank);
    }
    // A goodbye comes after whole frames; a process that died while writing one leaves a piece.
    if (read === false && (!source.reader.atFrameBoundary || !source.reader.ring.isEmpty())) {
      this.sources.splice(this.sources.indexOf(source), 1);
      this.opts.sink.onProtocolError(new ProtocolError(`bad frame from rank ${rank} (shared-memory ring): ` +
        'its connections closed in the middle of a frame; stopped reading that ring'));
    }
  }

  /** The progress engine has polled a while in vain: let the peer have the core if it waits for one. */
  idle(): void {
    this.opts.lib.yieldCpu();
  }

  /** The progress engine stops (true) or starts (false) polling. */
  setAsleep(asleep: boolean): void {
    this.asleep = asleep;
    this.opts.inbox.mapped?.setAsleep(asleep);
    if (asleep) for (const peer of this.backlog) peer.writer!.ring.setWriterWaiting(true);
  }

  async close(): Promise<void> {
    debug('rank %d rang %d doorbells', this.opts.rank, this.doorbellsRung);
    await this.socket.close();
    this.opts.inbox.close();
  }

  private flushBacklog(): boolean {
    let moved = false;
    for (const peer of this.backlog) {
      if (!peer.writer!.flush()) continue;
      moved = true;
      this.afterWrite(peer);
    }
    if (this.writableWaiters.length > 0) {
      for (let i = 0; i < this.writableWaiters.length; i++) {
        const waiter = this.writableWaiters[i]!;
        const failure = waiter.peer.writer?.failure ?? null;
        if (failure === null && (waiter.peer.writer?.queuedBytes ?? 0) >= WRITE_HIGH_WATER) continue;
        this.writableWaiters.splice(i--, 1);
        if (failure === null) waiter.resolve();
        else waiter.reject(failure);
      }
    }
    return moved;
  }

  /** After bytes went into a peer's ring: wake it if it sleeps; track a backlog. */
  private afterWrite(peer: ShmPeer): void {
    const writer = peer.writer!;
    if (writer.queuedBytes > 0 && !this.backlog.has(peer)) {
      this.backlog.add(peer);
      if (this.asleep) {
        writer.ring.setWriterWaiting(true);
        // Room may have freed before the flag was seen.
        writer.flush();
      }
    }
    // Checked after that flush: a peer in the backlog always has bytes queued (finish waits on it).
    if (writer.queuedBytes === 0) this.leaveBacklog(peer);
    if (peer.inbox!.takeAsleep()) this.ringDoorbell(peer.rank);
  }

  /** Nothing waits behind `peer`'s ring any more; once nothing waits behind any, finish may go on. */
  private leaveBacklog(peer: ShmPeer): void {
    if (this.backlog.size === 0 || !this.backlog.delete(peer) || this.backlog.size > 0) return;
    for (const resolve of this.drainedWaiters.splice(0)) resolve();
  }

  private writerOf(peer: ShmPeer): RingWriter | null {
    if (peer.writer !== null) return peer.writer;
    if (peer.fellBack) return null;
    try {
      const token = inboxToken(this.opts.key, peer.rank, peer.pid);
      peer.inbox = attachInbox(this.opts.lib, peer.pid, peer.fd, peer.rank, token, this.ringCount, this.opts.ringCapacity, peer.ringThere);
      peer.writer = new RingWriter(peer.inbox.ring(peer.ringThere));
      return peer.writer;
    } catch (err) {
      // Nothing went to this peer yet: sockets can carry everything from here on, in order.
      debug('shared memory to rank %d unavailable (%s); using sockets', peer.rank, (err as Error).message);
      peer.fellBack = true;
      return null;
    }
  }

  boardSlot(rank: number): BoardSlot | null {
    if (rank === this.opts.rank) return this.opts.inbox.mapped?.board ?? null;
    return this.peers[rank]?.front?.board ?? null;
  }

  boardOffer(rank: number): number {
    if (rank === this.opts.rank) return this.opts.inbox.mapped?.boardOffer ?? 2;
    return this.peers[rank]?.front?.boardOffer ?? 2;
  }

  wake(rank: number): void {
    const peer = this.peers[rank];
    if (peer?.front?.takeAsleep() === true) this.ringDoorbell(rank);
  }

  private ringDoorbell(rank: number): void {
    this.doorbellsRung++;
    this.socket.send(rank, DOORBELL, null);
  }

}
