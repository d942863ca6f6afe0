/**
 * A loopback Transport: N matching engines in one process, joined by
 * in-memory links, as undici's tests put a DummySocket under a client. It
 * keeps the Transport contract (src/transport/transport.ts) as strictly as
 * the real ones, so that an engine leaning on something they do not promise
 * fails here:
 *
 * - Frames of one ordered pair (from -> to) arrive in the order they were
 *   sent. Nothing arrives during send(): delivery is a later step (a turn of
 *   the event loop, or the test's call), so no engine call re-enters another.
 * - The header is encoded during send() and only the bytes are kept (the
 *   engine fills one header object for every frame); the receiver's real
 *   FrameReader decodes them into one header per link, reused frame after frame.
 * - The payload stays the sender's until the frame is delivered; onWritten
 *   runs then (the payload may be reused), or with the error of a failed link.
 * - An eager payload comes up as a view into a read buffer (owned false)
 *   that is overwritten with 0xdd after the callback: an engine that keeps
 *   the view sees garbage. DATA lands in sink.dataTarget(...).
 * - A callback that throws (a ProtocolError) closes that link only; the
 *   receiver's sink hears onProtocolError naming it, then onPeerEnded
 *   'closed', and the sender's hears onSendFailed (socket-transport.ts `broken`).
 *
 * The test steers it: hold() and deliver() one link's frames at a time to
 * choose interleavings, failLink() and kill() a peer, inject() raw bytes.
 *
 * Every engine is built by makeEngines(), and only there: how an engine is
 * constructed and wired is changing (constructor injection), and then only
 * that function must follow.
 */
import { ProtocolError } from '../../src/base/index.js';
import { MAX_MESSAGE_BYTES } from '../../src/codec/index.js';
import { pointToPointContext, SELF_CONTEXT_ID, WORLD_CONTEXT_ID } from '../../src/comm/context.js';
import { P2PEngine, Progress } from '../../src/p2p/index.js';
import {
  encodeHeader, FrameKind, FrameReader, HEADER_BYTES, newHeader,
  type ConnectionKind, type FrameHeader, type FrameKindCode, type FrameSink, type PeerAddress, type Transport,
  type TransportAddress,
} from '../../src/transport/index.js';

/** COMM_WORLD's point-to-point and collective contexts, and COMM_SELF's, as comm/world.ts sets them up. */
export const WORLD = pointToPointContext(WORLD_CONTEXT_ID);
export const WORLD_COLL = WORLD + 1;
export const SELF = pointToPointContext(SELF_CONTEXT_ID);

export const KIND_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(FrameKind).map(([name, code]) => [code, name]));

type OnWritten = (err?: Error | null) => void;

/** What travels on a link, in order: frames, raw bytes a test injects, and the launcher's "that rank is done". */
type Item =
  | { what: 'frame'; seq: number; header: Buffer; payload: Uint8Array | null; onWritten: OnWritten | undefined }
  | { what: 'raw'; seq: number; bytes: Uint8Array }
  | { what: 'end'; seq: number; why: string };

/** One direction between two ranks: the sender's queue and the receiver's reader. */
class Link {
  readonly queue: Item[] = [];
  /** Bytes accepted and not delivered yet (Transport.queuedBytes). */
  queuedBytes = 0;
  /** Why frames on it can no longer go (the sender's side), or null. */
  failed: Error | null = null;
  /** The receiver closed it after a protocol error: nothing more is read. */
  closed = false;
  saidBye = false;
  /** The receiver's sink heard onPeerEnded for this sender over it. */
  ended = false;
  /** trySend refuses, as a full shared-memory ring does. */
  refuseTrySend = false;
  /** Kind names of the frames sent, for assertions. */
  readonly sent: string[] = [];
  readonly waiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  reader: FrameReader | null = null;

  constructor(readonly from: number, readonly to: number) {}
}

export interface DeliveredFrame {
  from: number;
  to: number;
  /** A copy: the reader's own header is reused for the next frame. */
  header: FrameHeader;
}

export class LoopbackNetwork {
  /** Bytes queued on a link beyond which writable() is false. */
  highWater = Infinity;
  /** Every frame handed to a sink, in order. */
  readonly delivered: DeliveredFrame[] = [];
  private readonly links: Link[][];
  private readonly sinks: (FrameSink | null)[];
  private readonly limits: { maxEagerBytes: number; maxMessageBytes: number };
  private seq = 0;
  private holding = false;
  private scheduled = false;

  constructor(readonly size: number, maxEagerBytes: number) {
    this.links = Array.from({ length: size }, (_, from) => Array.from({ length: size }, (_, to) => new Link(from, to)));
    this.sinks = new Array<FrameSink | null>(size).fill(null);
    this.limits = { maxEagerBytes, maxMessageBytes: MAX_MESSAGE_BYTES };
  }

  /** `rank`'s side of the network. */
  transport(rank: number): Transport {
    return new LoopbackTransport(this, rank);
  }

  /** Frames from now on reach `sink` as rank `rank`. */
  connect(rank: number, sink: FrameSink): void {
    this.sinks[rank] = sink;
    for (const link of this.links.map((row) => row[rank]!)) {
      link.reader = new FrameReader({
        onFrame: (header, payload, owned) => this.frameUp(link, sink, header, payload, owned),
        dataTarget: (header) => sink.dataTarget(link.from, header),
      }, this.limits);
    }
  }

  // ---- steering delivery ----

  /** Nothing is delivered until deliver(), flush() or release(). */
  hold(): void {
    this.holding = true;
  }

  /** Delivery by itself again, on the next turn of the event loop. */
  release(): void {
    this.holding = false;
    this.schedule();
  }

  /** Delivers up to `count` items of one link, in order; returns how many went. */
  deliver(from: number, to: number, count = 1): number {
    const link = this.link(from, to);
    let done = 0;
    while (done < count && link.queue.length > 0) {
      this.deliverItem(link, link.queue.shift()!);
      done++;
    }
    return done;
  }

  /** Delivers everything, what deliveries cause too, in the order it was sent; returns how many items went. */
  flush(): number {
    let done = 0;
    for (let link = this.oldestHead(); link !== null; link = this.oldestHead()) {
      if (++done > 1_000_000) throw new Error('loopback: a million frames in one flush, the engines talk for ever');
      this.deliverItem(link, link.queue.shift()!);
    }
    return done;
  }

  /** Flushes and lets the event loop turn until nothing is in flight, whatever the program's awaits send in between. */
  async settle(): Promise<void> {
    for (let turn = 0; turn < 1000; turn++) {
      this.flush();
      await new Promise((resolve) => setImmediate(resolve));
      if (this.inFlight() === 0) return;
    }
    throw new Error('loopback: still frames in flight after 1000 turns of the event loop');
  }

  /** Items waiting on one link, or on all. */
  inFlight(from?: number, to?: number): number {
    if (from !== undefined && to !== undefined) return this.link(from, to).queue.length;
    return this.links.flat().reduce((n, link) => n + link.queue.length, 0);
  }

  /** Kind names of the frames sent on a link since the last clearLog(). */
  sentKinds(from: number, to: number): string[] {
    return [...this.link(from, to).sent];
  }

  clearLog(): void {
    for (const link of this.links.flat()) link.sent.length = 0;
    this.delivered.length = 0;
  }

  // ---- failures ----

  /**
   * The connection from -> to fails on the sender's side: what waits on it
   * is dropped (onWritten with `reason`), later sends fail, and the sender's
   * sink hears onSendFailed.
   */
  failLink(from: number, to: number, reason: Error): void {
    const link = this.link(from, to);
    if (link.failed !== null) return;
    link.failed = reason;
    const kept: Item[] = [];
    for (const item of link.queue.splice(0)) {
      if (item.what === 'end') kept.push(item);
      else if (item.what === 'frame') item.onWritten?.(reason);
    }
    link.queue.push(...kept);
    link.queuedBytes = 0;
    for (const w of link.waiters.splice(0)) w.reject(reason);
    this.sinks[from]?.onSendFailed(to, reason);
  }

  /**
   * Rank `rank` dies (`why`: 'exited', 'closed'): sends to it fail at once;
   * what it sent before still arrives, and then every other rank hears that it ended.
   */
  kill(rank: number, why: string): void {
    for (let r = 0; r < this.size; r++) {
      if (r === rank) continue;
      this.failLink(r, rank, new Error(`the connection to rank ${rank} closed`));
      this.enqueue(this.link(rank, r), { what: 'end', seq: 0, why });
    }
  }

  /** Makes trySend on from -> to refuse (true) or accept (false), as a full or free ring. */
  refuseTrySend(from: number, to: number, refuse: boolean): void {
    this.link(from, to).refuseTrySend = refuse;
  }

  /** Raw bytes on the link from -> to, after what was sent before: a peer's bad frame. */
  inject(from: number, to: number, bytes: Uint8Array): void {
    this.enqueue(this.link(from, to), { what: 'raw', seq: 0, bytes: Uint8Array.from(bytes) });
  }

  /** A well-encoded frame with the given fields (the others 0), as raw bytes on from -> to. */
  injectFrame(from: number, to: number, fields: Partial<FrameHeader> & { kind: FrameKindCode }, payload?: Uint8Array): void {
    const header = { ...newHeader(), ...fields, length: fields.length ?? payload?.length ?? 0 };
    const bytes = new Uint8Array(HEADER_BYTES + (payload?.length ?? 0));
    bytes.set(encodeHeader(header));
    if (payload !== undefined) bytes.set(payload, HEADER_BYTES);
    this.inject(from, to, bytes);
  }

  // ---- what the transports call ----

  /** @internal */
  link(from: number, to: number): Link {
    const link = this.links[from]?.[to];
    if (link === undefined) throw new RangeError(`loopback: no link ${from} -> ${to} in a network of ${this.size}`);
    return link;
  }

  /** @internal */
  enqueue(link: Link, item: Item): void {
    item.seq = ++this.seq;
    link.queue.push(item);
    if (item.what === 'frame') {
      link.queuedBytes += item.header.length + (item.payload?.length ?? 0);
      link.sent.push(KIND_NAMES[item.header[1]!]!);
    }
    this.schedule();
  }

  /** @internal Resolves once `link` has room, rejects once it has failed. */
  whenWritable(link: Link): Promise<void> {
    if (link.failed !== null) return Promise.reject(link.failed);
    if (link.queuedBytes < this.highWater) return Promise.resolve();
    return new Promise((resolve, reject) => link.waiters.push({ resolve, reject }));
  }

  // ---- delivery ----

  private schedule(): void {
    if (this.holding || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.holding) this.flush();
    });
  }

  /** The link whose first item was sent earliest, or null when nothing is in flight. */
  private oldestHead(): Link | null {
    let oldest: Link | null = null;
    for (const row of this.links) {
      for (const link of row) {
        const head = link.queue[0];
        if (head !== undefined && (oldest === null || head.seq < oldest.queue[0]!.seq)) oldest = link;
      }
    }
    return oldest;
  }

  private deliverItem(link: Link, item: Item): void {
    const sink = this.sinks[link.to];
    if (sink === null || sink === undefined) throw new Error(`loopback: rank ${link.to} has no engine connected`);
    switch (item.what) {
      case 'end':
        this.reportEnded(link, sink, item.why);
        return;
      case 'raw':
        this.read(link, sink, item.bytes);
        return;
      case 'frame': {
        const size = item.header.length + (item.payload?.length ?? 0);
        link.queuedBytes -= size;
        // The read buffer: the frame's bytes as they would come off a socket.
        const chunk = new Uint8Array(size);
        chunk.set(item.header);
        if (item.payload !== null) chunk.set(item.payload, HEADER_BYTES);
        // Copied out: the sender may reuse its payload.
        item.onWritten?.(null);
        this.wakeWriters(link);
        this.read(link, sink, chunk);
        return;
      }
      default: {
        const unknown: never = item;
        throw new Error(`loopback: unknown item ${String(unknown)}`);
      }
    }
  }

  private read(link: Link, sink: FrameSink, chunk: Uint8Array): void {
    if (link.closed) return;
    try {
      link.reader!.push(chunk);
    } catch (err) {
      this.broken(link, sink, err instanceof Error ? err : new Error(String(err)));
    }
    // Read buffers are reused: a view kept past its frame's callback now reads garbage.
    chunk.fill(0xdd);
  }

  private frameUp(link: Link, sink: FrameSink, header: FrameHeader, payload: Uint8Array | null, owned: boolean): void {
    // Goodbyes stop at the transport, as in the real ones (they count them per connection).
    if (header.kind === FrameKind.BYE) {
      link.saidBye = true;
      this.reportEnded(link, sink, 'finalized');
      return;
    }
    if (link.saidBye && (header.kind === FrameKind.EAGER || header.kind === FrameKind.RTS)) {
      throw new ProtocolError('a message after the sender said goodbye');
    }
    this.delivered.push({ from: link.from, to: link.to, header: { ...header } });
    sink.onFrame(link.from, header, payload, owned);
  }

  /** A protocol error on one link: closed (only it), and both ends told. */
  private broken(link: Link, sink: FrameSink, err: Error): void {
    link.closed = true;
    sink.onProtocolError(new ProtocolError(`bad frame from rank ${link.from} (loopback): ${err.message}; closed that connection`));
    this.reportEnded(link, sink, 'closed');
    this.failLink(link.from, link.to, new Error(`rank ${link.to} closed the connection`));
  }

  private reportEnded(link: Link, sink: FrameSink, why: string): void {
    if (link.ended) return;
    link.ended = true;
    sink.onPeerEnded(link.from, why);
  }

  private wakeWriters(link: Link): void {
    if (link.queuedBytes >= this.highWater) return;
    for (const w of link.waiters.splice(0)) w.resolve();
  }
}

/** One rank's side: every call is about the link from this rank. */
class LoopbackTransport implements Transport {
  constructor(private readonly net: LoopbackNetwork, private readonly rank: number) {}

  listen(): Promise<TransportAddress> {
    return Promise.resolve({ tcpPort: 0, unixPath: '' });
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  send(dest: number, header: FrameHeader, payload: Uint8Array | null, onWritten?: OnWritten): void {
    const link = this.net.link(this.rank, dest);
    if (link.failed !== null) {
      onWritten?.(link.failed);
      return;
    }
    // Encoded now, as the real transports do: the caller reuses `header` for its next frame.
    this.net.enqueue(link, { what: 'frame', seq: 0, header: encodeHeader(header, Buffer.alloc(HEADER_BYTES)), payload, onWritten });
  }

  trySend(dest: number, header: FrameHeader, payload: Uint8Array): boolean {
    const link = this.net.link(this.rank, dest);
    if (link.failed === null && link.refuseTrySend) return false;
    // Accepted: with bytes of its own, so the caller may change its own at once.
    this.send(dest, header, Uint8Array.from(payload));
    return true;
  }

  queuedBytes(dest: number): number {
    return this.net.link(this.rank, dest).queuedBytes;
  }

  writable(dest: number): boolean {
    const link = this.net.link(this.rank, dest);
    return link.failed === null && link.queuedBytes < this.net.highWater;
  }

  whenWritable(dest: number): Promise<void> {
    return this.net.whenWritable(this.net.link(this.rank, dest));
  }

  sendFailure(dest: number): Error | null {
    return this.net.link(this.rank, dest).failed;
  }

  finish(): Promise<void> {
    const goodbyes: Promise<void>[] = [];
    for (let dest = 0; dest < this.net.size; dest++) {
      if (dest === this.rank || this.sendFailure(dest) !== null) continue;
      goodbyes.push(new Promise((resolve) => {
        this.send(dest, { ...newHeader(), kind: FrameKind.BYE }, null, () => resolve());
      }));
    }
    return Promise.all(goodbyes).then(() => undefined);
  }

  peerDone(rank: number, why: string): void {
    // After what `rank` sent us: the sink hears it once that has been read.
    this.net.enqueue(this.net.link(rank, this.rank), { what: 'end', seq: 0, why });
  }

  addPeers(): void {}

  kindTo(dest: number): ConnectionKind {
    return dest === this.rank ? 'self' : 'shm';
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export interface LoopbackOptions {
  /** Largest payload sent eagerly (default 64 bytes: small, so tests reach rendezvous cheaply). */
  eagerThreshold?: number;
  /** Eager credit each rank publishes, one for all or one per rank (default 1 MiB). */
  eagerCredit?: number | readonly number[];
  contextLimit?: number;
  describeCollective?: (code: number) => string;
  sameCollectiveCall?: (mine: number, theirs: number) => boolean;
  /** Start with delivery held (hold()). */
  hold?: boolean;
}

export interface Loopback {
  readonly engines: readonly P2PEngine[];
  readonly progress: readonly Progress[];
  readonly net: LoopbackNetwork;
  /** What each rank's onFatal was called with. */
  readonly fatal: readonly Error[][];
  /** Operations each rank's progress engine still counts as pending (0 everywhere once all is done). */
  pendingOperations(): number[];
  /** Lets go of the progress engines' keep-alive timers, even when operations are left pending. */
  close(): void;
}

/** `n` engines, wired as comm/world.ts wires one: COMM_WORLD and COMM_SELF groups, the peer table, a transport. */
export function makeEngines(n: number, options: LoopbackOptions = {}): Loopback {
  const eagerThreshold = options.eagerThreshold ?? 64;
  const creditOf = (rank: number): number => {
    const credit = options.eagerCredit ?? 1024 * 1024;
    return typeof credit === 'number' ? credit : credit[rank]!;
  };
  const net = new LoopbackNetwork(n, Math.max(eagerThreshold, 64 * 1024 * 1024));
  if (options.hold === true) net.hold();
  const table: PeerAddress[] = Array.from({ length: n }, (_, rank) => ({
    rank, host: 'loopback', hostId: 'loopback', tcpHost: '', tcpPort: 0, unixPath: '', pid: process.pid, eagerCredit: creditOf(rank),
  }));
  const fatal: Error[][] = Array.from({ length: n }, () => []);
  const progress = Array.from({ length: n }, () => new Progress({ pollMicros: 0 }));
  const everyone = Array.from({ length: n }, (_, r) => r);
  const engines = progress.map((p, rank) => {
    const engine = new P2PEngine(rank, {
      progress: p,
      openTransport: (sink) => {
        net.connect(rank, sink);
        return net.transport(rank);
      },
    }, {
      worldSize: n,
      eagerThreshold,
      eagerCredit: creditOf(rank),
      contextLimit: options.contextLimit ?? 4096,
      describeCollective: options.describeCollective,
      sameCollectiveCall: options.sameCollectiveCall,
      onFatal: (err) => fatal[rank]!.push(err),
    });
    engine.setGroup(WORLD, everyone);
    engine.setGroup(SELF, [rank]);
    void engine.start({ table, pollMicros: 0 });
    return engine;
  });
  return {
    engines, progress, net, fatal,
    pendingOperations: () => progress.map((p) => p.pendingOperations),
    close: () => {
      for (const p of progress) while (p.pendingOperations > 0) p.end();
    },
  };
}
