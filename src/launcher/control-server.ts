/**
 * The job's control server (DESIGN.md "Start-up"): every rank connects, proves
 * the job key, publishes its address, and gets the table of all ranks once
 * all have arrived. Afterwards it carries abort and finalize. Connections
 * that fail the proof are dropped without a word.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { proofMatches, proofOf } from '../transport/auth.js';
import type { PeerAddress } from '../transport/transport.js';
import { ControlKind, encodeControl, LineDecoder, type ControlMessage } from '../runtime/control-protocol.js';

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
  private readonly finalized = new Set<number>();
  private readonly exited = new Set<number>();
  /** Ranks told to finish: their connection may close now. */
  private readonly told = new Set<number>();
  private closing = false;
  private arrived = 0;
  port = 0;

  constructor(private readonly size: number, private readonly key: Buffer, private readonly events: ControlEvents) {
    this.table = new Array<PeerAddress | undefined>(size);
    this.sockets = new Array<Socket | undefined>(size);
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

  /** A rank's process ended with code 0: it needs no more, and counts as finalised. */
  rankExitedCleanly(rank: number): void {
    this.exited.add(rank);
    this.maybeFinalize();
  }

  close(): void {
    this.closing = true;
    this.server?.close();
    for (const socket of this.sockets) socket?.destroy();
  }

  private accept(socket: Socket): void {
    socket.on('error', () => {});
    socket.setKeepAlive(true, KEEPALIVE_IDLE_MS);
    const nonce = randomBytes(16).toString('hex');
    let rank = -1;
    const timer = setTimeout(() => {
      if (rank < 0) this.reject(socket, 'a connection did not say hello within 30 s');
    }, 30_000);
    timer.unref();
    const decoder = new LineDecoder((message) => {
      if (rank < 0) {
        clearTimeout(timer);
        rank = this.hello(socket, nonce, message);
        return;
      }
      this.fromRank(rank, message);
    });
    let firstByte = true;
    socket.on('data', (chunk: Buffer) => {
      // Control lines are JSON objects: anything else is a stranger, dropped at once.
      if (firstByte && chunk.length > 0) {
        firstByte = false;
        if (chunk[0] !== 0x7b) {
          this.reject(socket, 'a connection sent something other than a control message');
          return;
        }
      }
      try {
        decoder.push(chunk);
      } catch (err) {
        this.reject(socket, `bad control message: ${(err as Error).message}`);
      }
    });
    socket.write(encodeControl({ t: ControlKind.CHALLENGE, nonce }));
  }

  /** Checks a hello; returns the proven rank, or -1 after dropping the connection. */
  private hello(socket: Socket, nonce: string, message: ControlMessage): number {
    if (message.t !== ControlKind.HELLO) {
      this.reject(socket, `expected hello, got "${message.t}"`);
      return -1;
    }
    const { rank } = message;
    if (!Number.isInteger(rank) || rank < 0 || rank >= this.size || this.sockets[rank] !== undefined) {
      this.reject(socket, `hello from an invalid or duplicate rank ${String(rank)}`);
      return -1;
    }
    if (!proofMatches(proofOf(this.key, 'ctl-C', nonce, rank), Buffer.from(String(message.proof), 'hex'))) {
      this.reject(socket, `a connection claiming rank ${rank} failed the job key proof`);
      return -1;
    }
    this.sockets[rank] = socket;
    socket.once('close', () => {
      if (!this.told.has(rank) && !this.exited.has(rank) && !this.closing) this.events.onLost(rank);
    });
    this.table[rank] = { ...message.address, rank };
    (socket as Socket & { rankNonce?: string }).rankNonce = message.nonce;
    if (++this.arrived === this.size) this.welcomeAll();
    return rank;
  }

  private welcomeAll(): void {
    const table = this.table as PeerAddress[];
    this.sockets.forEach((socket, rank) => {
      const nonce = (socket as Socket & { rankNonce?: string }).rankNonce ?? '';
      const proof = proofOf(this.key, 'ctl-S', nonce, rank).toString('hex');
      socket?.write(encodeControl({ t: ControlKind.WELCOME, proof, table }));
    });
  }

  private fromRank(rank: number, message: ControlMessage): void {
    switch (message.t) {
      case ControlKind.ABORT:
        this.events.onAbort(rank, message.code, message.message);
        return;
      case ControlKind.FINALIZE:
        this.finalized.add(rank);
        this.maybeFinalize();
        return;
      case ControlKind.CHALLENGE:
      case ControlKind.HELLO:
      case ControlKind.WELCOME:
      case ControlKind.FINALIZED:
        this.events.onRejected(`rank ${rank} sent an unexpected "${message.t}"`);
        return;
      default: {
        const unknown: never = message;
        this.events.onRejected(`rank ${rank} sent an unknown control message ${JSON.stringify(unknown)}`);
      }
    }
  }

  /** Everybody done: let them all close and exit (the barrier inside MPI_Finalize). */
  private maybeFinalize(): void {
    for (let rank = 0; rank < this.size; rank++) {
      if (!this.finalized.has(rank) && !this.exited.has(rank)) return;
    }
    for (const rank of this.finalized) {
      this.told.add(rank);
      this.sockets[rank]?.write(encodeControl({ t: ControlKind.FINALIZED }));
    }
    this.finalized.clear();
  }

  private reject(socket: Socket, reason: string): void {
    this.events.onRejected(reason);
    socket.destroy();
  }
}
