/**
 * Bootstrap for launchers that give nothing but a rank and a size (Kubernetes
 * jobs, PBS without PMI, containers, `srun --mpi=none`), as torch.distributed
 * does with MASTER_ADDR/MASTER_PORT: rank 0 listens at MPI4TS_RENDEZVOUS,
 * every rank (rank 0 too) connects, proves the job key, publishes its address
 * and gets the table. The connection then carries finalize and abort, and a
 * rank whose connection drops before finalize ends the whole job.
 *
 * Trust: nothing in such an environment is secret, so the job key must come
 * from the user (MPI4TS_KEY, the same secret on every rank); without it the
 * job does not start. The proofs use the same HMAC scheme as `mpi4ts run`.
 *
 * The messages are those of the `mpi4ts run` control connection
 * (control-protocol.ts), with one addition: rank 0 ends the others by
 * closing their connections, and each rank then exits.
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { JobError, readOptions, requiredIntVar } from '../base/index.js';
import { ControlKind, encodeControl, LineDecoder, MAX_HELLO_LINE, PeerDoneRelay, proofMatches, proofOf, readControlLines, UNPROVEN_LIMIT, UNPROVEN_TIMEOUT_MS,
  UnprovenConnections, type ControlMessage, type PeerAddress, type PeerEnd } from '../wire/index.js';
import type { Bootstrap } from './bootstrap.js';

export interface RendezvousEnvironment {
  /** For `mpi4ts info`: "rendezvous" or "slurm". */
  name: string;
  rank: number;
  size: number;
  host: string;
  port: number;
  key: Buffer;
  /** How long ranks keep trying to reach rank 0. */
  timeoutMs: number;
}

const RETRY_MS = 200;

/** Reads MPI4TS_RANK/SIZE/RENDEZVOUS/KEY; null when MPI4TS_RENDEZVOUS is unset. */
export function rendezvousEnvironment(env: NodeJS.ProcessEnv): RendezvousEnvironment | null {
  const where = env.MPI4TS_RENDEZVOUS;
  if (where === undefined || where === '') return null;
  const size = requiredIntVar(env, 'MPI4TS_SIZE', 1);
  const rank = requiredIntVar(env, 'MPI4TS_RANK', 0);
  if (rank >= size) throw new JobError(`MPI4TS_RANK=${rank} is out of range for MPI4TS_SIZE=${size} (0..${size - 1})`);
  return { name: 'rendezvous', rank, size, ...parseHostPort(where, 'MPI4TS_RENDEZVOUS'), key: userKey(env), timeoutMs: readOptions(env).rendezvousTimeoutMs };
}

/** "host:port" or "[v6]:port". */
export function parseHostPort(text: string, what: string): { host: string; port: number } {
  const match = /^\[?([^\]\s]+?)\]?:(\d+)$/.exec(text);
  const port = Number(match?.[2]);
  if (match === null || port < 1 || port > 65535) throw new JobError(`${what}="${text}" must be host:port with a port from 1 to 65535`);
  return { host: match[1]!, port };
}

/** The job key from MPI4TS_KEY; refused when missing or too short to be a secret. */
export function userKey(env: NodeJS.ProcessEnv, context = 'MPI4TS_RENDEZVOUS'): Buffer {
  const text = env.MPI4TS_KEY ?? '';
  if (text.length < 16) {
    throw new JobError(`${context} needs MPI4TS_KEY: a secret of at least 16 characters, the same on every rank ` +
      `(e.g. export MPI4TS_KEY=$(openssl rand -hex 32)); it authenticates every connection of the job` +
      (text === '' ? '' : ` (the MPI4TS_KEY given has ${text.length} characters)`));
  }
  // Read once: processes the program starts must not inherit the job's secret.
  if (env === process.env) delete env.MPI4TS_KEY;
  return createHash('sha256').update(`mpi4ts-rendezvous-key|${text}`).digest();
}



export class RendezvousBootstrap implements Bootstrap {
  readonly name: string;
  readonly rank: number;
  readonly size: number;
  readonly key: Buffer;
  advertiseHost = '127.0.0.1';
  private server: RendezvousServer | null = null;
  private socket: Socket | null = null;
  private readonly inbox: ControlMessage[] = [];
  private waiter: ((m: ControlMessage | null) => void) | null = null;
  ending = false;

  private constructor(private readonly env: RendezvousEnvironment) {
    this.name = env.name;
    this.rank = env.rank;
    this.size = env.size;
    this.key = env.key;
  }

  static async open(env: RendezvousEnvironment): Promise<RendezvousBootstrap> {
    const boot = new RendezvousBootstrap(env);
    if (env.rank === 0) {
      boot.server = new RendezvousServer(env.size, env.key, (code) => {
        // Rank 0 ended the job: its own connection closing is expected; leave with the code.
        boot.ending = true;
        process.exit(code);
      });
      await boot.server.listen(env.host, env.port);
    }
    await boot.connect();
    return boot;
  }

  async exchange(me: PeerAddress): Promise<PeerAddress[]> {
    const nonce = randomBytes(16).toString('hex');
    this.write({ t: ControlKind.HELLO, rank: this.rank, nonce, address: me, proof: proofOf(this.key, 'rdv-C', nonce, this.rank).toString('hex') });
    const welcome = await this.withinTimeout(this.next(ControlKind.WELCOME));
    if (!proofMatches(proofOf(this.key, 'rdv-S', nonce, this.rank), Buffer.from(welcome.proof, 'hex'))) {
      throw new JobError(`rank 0 at ${this.env.host}:${this.env.port} failed the job key proof: is MPI4TS_KEY the same on every rank?`);
    }
    if (welcome.table.length !== this.size) throw new JobError(`rank 0 sent ${welcome.table.length} addresses for a job of ${this.size} ranks`);
    this.socket!.unref();
    this.server?.unref();
    return welcome.table;
  }

  async finalize(): Promise<void> {
    this.socket!.ref();
    this.write({ t: ControlKind.FINALIZE, rank: this.rank });
    await this.next(ControlKind.FINALIZED);
  }

  async abort(code: number, message: string): Promise<void> {
    if (message !== '') process.stderr.write(`mpi4ts: ${message}\n`);
    this.ending = true;
    if (this.server !== null) {
      this.server.endJob(`rank 0 aborted with code ${code}`, code);
    } else {
      this.write({ t: ControlKind.ABORT, rank: this.rank, code, message });
    }
    process.exit(code);
  }

  close(): void {
    this.ending = true;
    this.socket?.end();
    this.socket?.unref();
    this.server?.close();
  }

  /** Connects to rank 0, retrying while it is not listening yet. */
  private async connect(): Promise<void> {
    const { host, port, timeoutMs } = this.env;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        this.socket = await tryConnect(host, port);
        break;
      } catch (err) {
        if (Date.now() > deadline) {
          throw new JobError(`rank ${this.rank} cannot reach rank 0 at ${host}:${port} (MPI4TS_RENDEZVOUS) within ${timeoutMs / 1000} s: ${(err as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
    const socket = this.socket;
    this.advertiseHost = socket.localAddress ?? '127.0.0.1';
    const decoder = new LineDecoder((m) => this.receive(m));
    socket.on('data', (chunk) => {
      try {
        decoder.push(chunk);
      } catch (err) {
        this.lost(`got a bad message from rank 0: ${(err as Error).message}`);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => this.lost('lost its connection to rank 0 (the job was ended, or rank 0 died)'));
  }

  private write(message: ControlMessage): void {
    this.socket!.write(encodeControl(message));
  }

  /** `onDone` hears of every other rank that finalized (rank 0 tells). */
  watchPeers(onDone: (rank: number, how: PeerEnd) => void): void {
    this.peersDone.watch(onDone);
  }

  private readonly peersDone = new PeerDoneRelay();

  private receive(message: ControlMessage): void {
    if (message.t === ControlKind.PEER_DONE) {
      this.peersDone.deliver(message.rank, message.how);
      return;
    }
    // Once everyone is done, rank 0 may exit at once: its connection closing is no failure then.
    if (message.t === ControlKind.FINALIZED) this.ending = true;
    const waiter = this.waiter;
    if (waiter === null) {
      this.inbox.push(message);
      return;
    }
    this.waiter = null;
    waiter(message);
  }

  /**
   * Rank 0 hears of the whole table only once every rank has joined: a rank
   * that never comes (a wrong MPI4TS_KEY, a wrong size) must not keep it
   * waiting for ever. Other ranks wait for rank 0, which gives up first.
   */
  private withinTimeout<T>(welcome: Promise<T>): Promise<T> {
    const server = this.server;
    if (server === null) return welcome;
    const seconds = this.env.timeoutMs / 1000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new JobError(`rank 0 waited ${seconds} s (MPI4TS_RENDEZVOUS_TIMEOUT) at ` +
        `${this.env.host}:${this.env.port} and ${server.missingRanks().join(', ')} never joined with the job key: ` +
        'are they started, with the same MPI4TS_SIZE, MPI4TS_RENDEZVOUS and MPI4TS_KEY?')), this.env.timeoutMs);
    });
    return Promise.race([welcome, timeout]).finally(() => clearTimeout(timer));
  }

  private next<K extends ControlMessage['t']>(kind: K): Promise<Extract<ControlMessage, { t: K }>> {
    const take = (m: ControlMessage): Extract<ControlMessage, { t: K }> => {
      if (m.t !== kind) throw new JobError(`rank 0 sent "${m.t}" where "${kind}" was expected`);
      return m as Extract<ControlMessage, { t: K }>;
    };
    const queued = this.inbox.shift();
    if (queued !== undefined) return Promise.resolve(take(queued));
    return new Promise((resolve, reject) => {
      this.waiter = (m) => {
        try {
          resolve(take(m!));
        } catch (err) {
          reject(err);
        }
      };
    });
  }

  private lost(why: string): void {
    if (this.ending) return;
    this.ending = true;
    try {
      process.stderr.write(`mpi4ts: rank ${this.rank} ${why}; exiting\n`);
    } catch {
      // stderr may be gone.
    }
    process.exit(1);
  }
}

function tryConnect(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true });
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err) => {
      socket.destroy();
      reject(err);
    });
  });
}

/**
 * Rank 0's side: collects every rank's hello, sends the table, counts
 * finalizes, and ends the job (closes every connection) on an abort or on a
 * connection lost before its rank finalized.
 */
class RendezvousServer {
  private server: Server | null = null;
  private readonly table: (PeerAddress | undefined)[];
  private readonly sockets: (Socket | undefined)[];
  private readonly nonces: string[] = [];
  private readonly seenNonces = new Set<string>();
  private readonly finalized = new Set<number>();
  private readonly unproven: UnprovenConnections;
  private arrived = 0;
  private ended = false;

  /** The ranks that have not joined yet, as "rank N" words. */
  missingRanks(): string[] {
    const missing: string[] = [];
    for (let rank = 0; rank < this.size; rank++) if (this.table[rank] === undefined) missing.push(`rank ${rank}`);
    return missing;
  }

  constructor(private readonly size: number, private readonly key: Buffer, private readonly onEnded: (code: number) => void) {
    this.table = new Array<PeerAddress | undefined>(size);
    this.sockets = new Array<Socket | undefined>(size);
    this.unproven = new UnprovenConnections({ limit: UNPROVEN_LIMIT + size, maxBytes: MAX_HELLO_LINE, timeoutMs: UNPROVEN_TIMEOUT_MS }, () => {});
  }

  listen(host: string, port: number): Promise<void> {
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (err) => reject(new JobError(`rank 0 cannot listen on ${host}:${port} (MPI4TS_RENDEZVOUS): ${err.message}`)));
      server.listen(port, host, () => resolve());
    });
  }

  /** Rank 0's own finalize keeps the loop alive while it waits; idle, these must not. */
  unref(): void {
    this.server?.unref();
    for (const socket of this.sockets) socket?.unref();
  }

  close(): void {
    this.ended = true;
    this.server?.close();
  }

  /** Closes every connection: each rank sees it and exits; then rank 0 exits with `code`. */
  endJob(why: string, code = 1): void {
    if (this.ended) return;
    this.ended = true;
    process.stderr.write(`mpi4ts: ${why}; ending the job\n`);
    this.server?.close();
    for (const socket of this.sockets) socket?.destroy();
    this.onEnded(code);
  }

  private accept(socket: Socket): void {
    socket.on('error', () => {});
    let proven = -1;
    readControlLines(socket, this.unproven, {
      hello: (message) => (proven = this.hello(socket, message)),
      message: (rank, message) => this.fromRank(rank, message),
      reject: () => {},
    });
    socket.on('close', () => {
      if (proven >= 0 && !this.finalized.has(proven) && !this.ended) this.endJob(`rank ${proven} left before finalize`);
    });
  }

  private hello(socket: Socket, message: ControlMessage): number {
    if (message.t !== ControlKind.HELLO) {
      socket.destroy();
      return -1;
    }
    const { rank, nonce } = message;
    const proven = Number.isInteger(rank) && rank >= 0 && rank < this.size && this.sockets[rank] === undefined &&
      typeof nonce === 'string' && /^[0-9a-f]{32}$/.test(nonce) && !this.seenNonces.has(nonce) &&
      proofMatches(proofOf(this.key, 'rdv-C', nonce, rank), Buffer.from(String(message.proof), 'hex'));
    if (!proven) {
      // Unauthenticated, replayed or duplicate: dropped without a word, as the launcher does.
      socket.destroy();
      return -1;
    }
    this.seenNonces.add(nonce);
    this.sockets[rank] = socket;
    this.table[rank] = { ...message.address, rank };
    this.nonces[rank] = message.nonce;
    if (++this.arrived === this.size) this.welcomeAll();
    return rank;
  }

  private welcomeAll(): void {
    const table = this.table as PeerAddress[];
    this.sockets.forEach((socket, rank) => {
      const proof = proofOf(this.key, 'rdv-S', this.nonces[rank] ?? '', rank).toString('hex');
      socket?.write(encodeControl({ t: ControlKind.WELCOME, proof, table }));
    });
  }

  private fromRank(rank: number, message: ControlMessage): void {
    if (message.t === ControlKind.ABORT) {
      // Rank 0 carries the aborting rank's code out of the job.
      this.endJob(`rank ${rank} aborted with code ${message.code}${message.message === '' ? '' : `: ${message.message}`}`, message.code);
    }
    if (message.t !== ControlKind.FINALIZE) return;
    this.finalized.add(rank);
    // The others learn that a receive only this rank could satisfy never completes.
    const done = encodeControl({ t: ControlKind.PEER_DONE, rank, how: 'finalized' });
    this.sockets.forEach((socket, other) => {
      if (other !== rank && !this.finalized.has(other)) socket?.write(done);
    });
    if (this.finalized.size < this.size) return;
    for (const socket of this.sockets) socket?.write(encodeControl({ t: ControlKind.FINALIZED }));
  }
}
