/**
 * A rank's address, as every rank publishes it at start-up through whichever
 * bootstrap started the job, and as transports use it to connect: shared by
 * the runtime (which exchanges it) and the transports (which dial it).
 */

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
