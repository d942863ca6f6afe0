/**
 * The transport interface: what the p2p layer needs from whatever carries its
 * frames. It moves frames; it knows nothing of tags or matching.
 */
import type { FrameHeader } from './frame.js';

/** How to reach a rank, as published at start-up. */
export interface PeerAddress {
  rank: number;
  /** Host name, for people. */
  host: string;
  /** Identifies a host (and network namespace): equal ids may use a Unix socket. */
  hostId: string;
  tcpHost: string;
  tcpPort: number;
  /** Unix socket path (a leading NUL marks Linux's abstract namespace), or '' for none. */
  unixPath: string;
  pid: number;
  /** This rank's shared-memory inbox, a descriptor peers open as /proc/<pid>/fd/<shmFd>; absent or -1 for none. */
  shmFd?: number;
  /**
   * Bytes of eager messages each sender may have in flight to this rank
   * before it must wait for them to be received (p2p/engine.ts, eager flow
   * control); absent: the sender's default.
   */
  eagerCredit?: number;
}

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

export type ChannelKind = 'self' | 'shm' | 'unix' | 'tcp';

export interface Transport {
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
   * Resolves when the channel to `dest` is up and its queue has drained
   * below the high-water mark; rejects when the channel fails.
   */
  whenWritable(dest: number): Promise<void>;
  /** Why frames to `dest` can no longer be delivered, or null while they can. */
  sendFailure(dest: number): Error | null;
  /**
   * Writes out everything queued for every peer and then a goodbye on each
   * channel, after which only rendezvous data follows: the end of a rank's
   * program (finalize).
   */
  finish(): Promise<void>;
  /**
   * The launcher says `rank`'s program is done ('finalized' or 'exited'):
   * once what it sent has been read (or at once, if it never connected),
   * the sink hears onPeerEnded.
   */
  peerDone(rank: number, why: string): void;
  kindTo(dest: number): ChannelKind;
  /** Closes every channel gracefully, letting queued frames go out first. */
  close(): Promise<void>;
}
