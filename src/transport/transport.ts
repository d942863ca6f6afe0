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
}

/** What the transport delivers upward, by synchronous callback. */
export interface FrameSink {
  onFrame(from: number, header: FrameHeader, payload: Uint8Array | null, owned: boolean): void;
  /** The buffer a DATA frame from `from` with this rendezvous id is written into. */
  dataTarget(from: number, header: FrameHeader): Uint8Array;
  /** A peer's connection failed or closed before the job finished. */
  onPeerLost(rank: number, reason: Error): void;
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
  /** Resolves when the queue to `dest` has drained below the high-water mark. */
  whenWritable(dest: number): Promise<void>;
  kindTo(dest: number): ChannelKind;
  /** Closes every channel gracefully, letting queued frames go out first. */
  close(): Promise<void>;
}
