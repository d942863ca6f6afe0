/**
 * The transport interface: what the p2p layer needs from whatever carries its
 * frames. It moves frames; it knows nothing of tags or matching.
 */
import type { FrameHeader } from './frame.js';
import type { BoardSlot } from './shm-board.js';
import type { PeerAddress } from '../wire/index.js';

export type { PeerAddress };

/** What the transport delivers upward, by synchronous callback. */
export interface FrameSink {
  onFrame(from: number, header: FrameHeader, payload: Uint8Array | null, owned: boolean): void;
  /** The buffer a DATA frame from `from` with this rendezvous id is written into. */
  dataTarget(from: number, header: FrameHeader): Uint8Array;
  /** Frames to `rank` can no longer be delivered: the connection to it failed or closed. */
  onSendFailed(rank: number, reason: Error): void;
  /**
   * No message (EAGER or RTS) will come from `rank` any more: it said goodbye
   * (`why` 'finalized'), or every connection from it closed ('exited' when
   * the launcher said so, else 'closed'). Rendezvous data already asked for
   * may still come after 'finalized'.
   */
  onPeerEnded(rank: number, why: string): void;
  /**
   * A connection broke the protocol (a malformed frame, a close in the
   * middle of one). That connection alone was closed; the error names it.
   */
  onProtocolError(err: Error): void;
}

export type ConnectionKind = 'self' | 'shm' | 'unix' | 'tcp';

/** The part of a rank's address its transport contributes (Transport.listen). */
export type TransportAddress = Pick<PeerAddress, 'tcpPort' | 'unixPath' | 'shmFd'>;

/** What a transport learns once every rank's address is known (Transport.start). */
export interface TransportStart {
  /** Every rank's address, by rank. */
  table: readonly PeerAddress[];
  /**
   * Whether the progress engine spins on this host (it does not where more
   * ranks run than cores): only then do polled sockets get read by the spin.
   */
  spinning: boolean;
}

/**
 * A transport is built complete (its sink and its collaborators arrive in its
 * constructor) and listens from then on, so peers may connect while the
 * addresses are being exchanged; `start` is the one later step, when every
 * rank's address is known, and comes before the first send.
 */
export interface Transport {
  /** Opens the listeners peers will connect to; what to publish of this rank's address. Called once, before start. */
  listen(): Promise<TransportAddress>;
  /**
   * Every rank's address is known: sends may begin. Called once. Resolves
   * once the transport is ready for the program's first message (shared
   * memory: its doorbell connections up both ways, so no key proof is left
   * half done when the program starts computing).
   */
  start(job: TransportStart): Promise<void>;
  /**
   * Writes one frame to `dest`; `onWritten` runs once the payload may be
   * reused. The header is encoded during the call and never kept, so callers
   * may fill one object for every frame.
   */
  send(dest: number, header: FrameHeader, payload: Uint8Array | null, onWritten?: (err?: Error | null) => void): void;
  /**
   * Writes one frame whose payload is the caller's (an eager send of the
   * caller's typed array) if that can be done now, without keeping the
   * caller's bytes: true when the bytes went out or the transport copied
   * them, so the caller may change them at once; false, with nothing
   * written, when the frame would have to wait (a full shared-memory ring).
   * The caller then send()s it, and the transport keeps the caller's bytes
   * until onWritten rather than copy them once more.
   */
  trySend(dest: number, header: FrameHeader, payload: Uint8Array): boolean;
  /** Bytes accepted for `dest` but not yet handed to the kernel. */
  queuedBytes(dest: number): number;
  /** False while so much waits for `dest` that senders should wait for whenWritable. */
  writable(dest: number): boolean;
  /**
   * Resolves when the connection to `dest` is up and its queue has drained
   * below the high-water mark; rejects when the connection fails.
   */
  whenWritable(dest: number): Promise<void>;
  /** Why frames to `dest` can no longer be delivered, or null while they can. */
  sendFailure(dest: number): Error | null;
  /**
   * Writes out everything queued for every peer and then a goodbye on each
   * connection, after which only rendezvous data follows: the end of a rank's
   * program (finalize).
   */
  finish(): Promise<void>;
  /**
   * The launcher says `rank`'s program is done ('finalized' or 'exited'):
   * once what it sent has been read (or at once, if it never connected),
   * the sink hears onPeerEnded.
   */
  peerDone(rank: number, why: string): void;
  kindTo(dest: number): ConnectionKind;
  /**
   * More processes joined the universe (a spawn's children, or the parents
   * of this one): their addresses, by universe index. They are reached over
   * sockets only, never shared memory (each world sizes its inboxes for its
   * own ranks at start). Called before any of them can connect.
   */
  addPeers(peers: readonly PeerAddress[]): void;
  /** Closes every connection gracefully, letting queued frames go out first. */
  close(): Promise<void>;
  /**
   * The board slot (shm-board.ts) of `rank`, this rank's own included, where
   * the two share memory; null otherwise, and absent for a transport
   * without shared memory. Peers' slots are mapped at start (where the
   * board is offered).
   */
  boardSlot?(rank: number): BoardSlot | null;
  /**
   * Whether `rank` meets its local peers on the board (Inbox.boardOffer):
   * 0 not known yet (it is starting), 1 yes, 2 no (or no shared memory with it).
   */
  boardOffer?(rank: number): number;
  /** After this rank published on the board: `rank`'s doorbell, if it sleeps, as after a write into its ring. */
  wake?(rank: number): void;
}

/**
 * Something the progress engine (p2p/progress.ts) polls while it spins: the
 * shared-memory rings, the polled sockets.
 */
export interface Poller {
  /** Moves what can move now (frames in, queued frames out); true if anything did. */
  poll(): boolean;
  /** The engine stops (true) or starts (false) polling: peers must ring the doorbell while it sleeps. */
  setAsleep(asleep: boolean): void;
  /** Polls have found nothing for a while: yield the core (cheap when nobody else wants it). */
  idle(): void;
  /**
   * Writes out now what waits for the end of the tick (corked sockets): the
   * spin holds the thread, so a write left to process.nextTick would wait
   * for the whole slice.
   */
  flush?(): void;
}
