/**
 * The job's control server (DESIGN.md "Start-up"): every rank connects, proves
 * the job key in its first line, publishes its address, and gets the table
 * of all ranks once all have arrived. Afterwards it carries abort and
 * finalize, and tells every rank when another's program is done. Connections
 * that fail the proof are dropped without a word; those that have not proved
 * it yet are bounded in number, bytes and time (transport/unproven.ts), as
 * this port may face the network.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { ControlKind, encodeControl, MAX_HELLO_LINE, proofMatches, proofOf, readControlLines, UNPROVEN_LIMIT, UNPROVEN_TIMEOUT_MS, UnprovenConnections,
  type ControlMessage, type PeerAddress, type PeerEnd } from '../wire/index.js';

export interface ControlEvents {
  /** A rank asked to end the job. */
  onAbort(rank: number, code: number, message: string): void;
  /** Something was wrong with a connection (for the launcher's debug output). */
  onRejected(reason: string): void;
  /** A proven rank's connection closed before the job told it to finish (its host or the link went down). */
  onLost(rank: number): void;
}

/**
 * Control connections idle most of the time, so a dead link or host shows only
 * through TCP keep-alive: Node probes every second, ten times, after this much
 * silence; a lost peer is noticed within about 15 s (README "Running on a cluster").
 */
export const KEEPALIVE_IDLE_MS = 5000;

export class ControlServer {
  private server: Server | null = null;
  private readonly table: (PeerAddress | undefined)[];
  private readonly sockets: (Socket | undefined)[];
  private readonly nonces: string[] = [];
  private readonly seenNonces = new Set<string>();
  /** Ranks that said finalize and have not been told to finish yet. */
  private readonly finalizing = new Set<number>();
  /** Every rank that ever said finalize. */
  private readonly finalizedEver = new Set<number>();
  private readonly exited = new Set<number>();
  /** Ranks told to finish: their connection may close now. */
  private readonly told = new Set<number>();
  private readonly unproven: UnprovenConnections;
  private closing = false;
  private arrived = 0;
  port = 0;

  constructor(private readonly size: number, private readonly key: Buffer, private readonly events: ControlEvents) {
    this.table = new Array<PeerAddress | undefined>(size);
    this.sockets = new Array<Socket | undefined>(size);
    this.unproven = new UnprovenConnections(
      { limit: UNPROVEN_LIMIT + size, maxBytes: MAX_HELLO_LINE, timeoutMs: UNPROVEN_TIMEOUT_MS },
      (_socket, reason) => events.onRejected(reason),
    );
  }

  /** Listens on `host`, at any port or at the first free one of `range`. */
  async listen(host: string, range: [number, number] | null = null): Promise<number> {
    if (range === null) return this.listenAt(host, 0);
    for (let port = range[0]; port <= range[1]; port++) {
      try {
        return await this.listenAt(host, port);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      }
    }
    throw new Error(`no free port for the control server on ${host} in --port-range ${range[0]}-${range[1]}`);
  }

  private listenAt(host: string, port: number): Promise<number> {
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        const address = server.address();
        this.port = typeof address === 'object' && address !== null ? address.port : 0;
        resolve(this.port);
      });
    });
  }

  /** Whether `rank` ever said finalize. */
  hasFinalized(rank: number): boolean {
    return this.finalizedEver.has(rank);
  }

  /** A rank's process ended with code 0: it needs no more, and counts as finalised. */
  rankExitedCleanly(rank: number): void {
    this.exited.add(rank);
    if (!this.finalizedEver.has(rank)) this.tellDone(rank, 'exited');
    this.maybeFinalize();
  }

  close(): void {
    this.closing = true;
    this.server?.close();
    this.unproven.clear();
    for (const socket of this.sockets) socket?.destroy();
  }

  private accept(socket: Socket): void {
    socket.on('error', () => {});
    socket.setKeepAlive(true, KEEPALIVE_IDLE_MS);
    readControlLines(socket, this.unproven, {
      hello: (message) => this.hello(socket, message),
      message: (rank, message) => this.fromRank(rank, message),
      reject: (reason) => this.events.onRejected(reason),
    });
  }

  /** Checks a hello; returns the proven rank, or -1 after dropping the connection. */
  private hello(socket: Socket, message: ControlMessage): number {
    if (message.t !== ControlKind.HELLO) {
      this.reject(socket, `expected hello, got "${message.t}"`);
      return -1;
    }
    const { rank, nonce } = message;
    if (!Number.isInteger(rank) || rank < 0 || rank >= this.size || this.sockets[rank] !== undefined) {
      this.reject(socket, `hello from an invalid or duplicate rank ${String(rank)}`);
      return -1;
    }
    if (typeof nonce !== 'string' || !/^[0-9a-f]{32}$/.test(nonce) || this.seenNonces.has(nonce)) {
      this.reject(socket, `a connection claiming rank ${rank} sent a missing or used nonce`);
      return -1;
    }
    if (!proofMatches(proofOf(this.key, 'ctl-C', nonce, rank), Buffer.from(String(message.proof), 'hex'))) {
      this.reject(socket, `a connection claiming rank ${rank} failed the job key proof`);
      return -1;
    }
    this.seenNonces.add(nonce);
    this.sockets[rank] = socket;
    socket.once('close', () => {
      if (!this.told.has(rank) && !this.exited.has(rank) && !this.closing) this.events.onLost(rank);
    });
    this.table[rank] = { ...message.address, rank };
    this.nonces[rank] = nonce;
    if (++this.arrived === this.size) this.welcomeAll();
    return rank;
  }

  private welcomeAll(): void {
    const table = this.table as PeerAddress[];
    this.sockets.forEach((socket, rank) => {
      const proof = proofOf(this.key, 'ctl-S', this.nonces[rank] ?? '', rank).toString('hex');
      socket?.write(encodeControl({ t: ControlKind.WELCOME, proof, table }));
    });
  }

  private fromRank(rank: number, message: ControlMessage): void {
    switch (message.t) {
      case ControlKind.ABORT:
        this.events.onAbort(rank, message.code, String(message.message ?? ''));
        return;
      case ControlKind.FINALIZE:
        this.finalizing.add(rank);
        if (!this.finalizedEver.has(rank)) {
          this.finalizedEver.add(rank);
          this.tellDone(rank, 'finalized');
        }
        this.maybeFinalize();
        return;
      case ControlKind.HELLO:
      case ControlKind.WELCOME:
      case ControlKind.FINALIZED:
      case ControlKind.PEER_DONE:
        this.events.onRejected(`rank ${rank} sent an unexpected "${message.t}"`);
        return;
      default: {
        const unknown: never = message;
        this.events.onRejected(`rank ${rank} sent an unknown control message ${JSON.stringify(unknown)}`);
      }
    }
  }

  /** Tells every other rank still connected that `rank`'s program is done. */
  private tellDone(rank: number, how: PeerEnd): void {
    if (this.arrived < this.size) return;
    const line = encodeControl({ t: ControlKind.PEER_DONE, rank, how });
    this.sockets.forEach((socket, other) => {
      if (other !== rank && !this.told.has(other)) socket?.write(line);
    });
  }

  /** Everybody done: let them all close and exit (the barrier inside MPI_Finalize). */
  private maybeFinalize(): void {
    for (let rank = 0; rank < this.size; rank++) {
      if (!this.finalizing.has(rank) && !this.exited.has(rank)) return;
    }
    for (const rank of this.finalizing) {
      this.told.add(rank);
      this.sockets[rank]?.write(encodeControl({ t: ControlKind.FINALIZED }));
    }
    this.finalizing.clear();
  }

  private reject(socket: Socket, reason: string): void {
    this.events.onRejected(reason);
    this.unproven.proven(socket);
    socket.destroy();
  }
}
