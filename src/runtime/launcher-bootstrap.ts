/**
 * Bootstrap under `mpi4ts run`: a control connection to the launcher, the job
 * key proved both ways, this rank's address published and the table of all
 * ranks received. The connection then carries abort and finalize; if it is
 * lost (the launcher died, or an ssh session dropped), the rank ends itself.
 */
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { JobError, requiredIntVar } from '../base/index.js';
import { ControlKind, encodeControl, LineDecoder, PeerDoneRelay, proofMatches, proofOf, type ControlMessage, type PeerAddress, type PeerEnd } from '../wire/index.js';
import type { Bootstrap } from './bootstrap.js';

/** Same bound as the launcher's side (control-server.ts): a lost launcher is noticed within about 15 s. */
const CONTROL_KEEPALIVE_IDLE_MS = 5000;

export interface LauncherEnvironment {
  control: { host: string; port: number };
  rank: number;
  size: number;
  key: Buffer;
}

export class LauncherBootstrap implements Bootstrap {
  readonly name = 'mpi4ts';
  readonly rank: number;
  readonly size: number;
  readonly key: Buffer;
  advertiseHost = '127.0.0.1';
  private socket: Socket | null = null;
  private readonly inbox: ControlMessage[] = [];
  private waiter: ((m: ControlMessage) => void) | null = null;
  private closedOnPurpose = false;

  constructor(private readonly env: LauncherEnvironment) {
    this.rank = env.rank;
    this.size = env.size;
    this.key = env.key;
  }

  /** Connects to the control server; the local address it used is what peers can reach. */
  async connect(): Promise<void> {
    const { host, port } = this.env.control;
    const socket = connect({ host, port, noDelay: true });
    this.socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', (err) => reject(new JobError(`rank ${this.rank} cannot reach the launcher at ${host}:${port}: ${err.message}`)));
    });
    this.advertiseHost = socket.localAddress ?? '127.0.0.1';
    // An idle connection notices a dead link or launcher host only by keep-alive probes.
    socket.setKeepAlive(true, CONTROL_KEEPALIVE_IDLE_MS);
    const decoder = new LineDecoder((message) => this.receive(message));
    socket.on('data', (chunk) => {
      try {
        decoder.push(chunk);
      } catch (err) {
        this.lost(`bad control message: ${(err as Error).message}`);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => this.lost('lost its connection to the launcher'));
  }

  async exchange(me: PeerAddress): Promise<PeerAddress[]> {
    const nonce = randomBytes(16).toString('hex');
    this.write({
      t: ControlKind.HELLO, rank: this.rank, nonce, address: me,
      proof: proofOf(this.key, 'ctl-C', nonce, this.rank).toString('hex'),
    });
    const welcome = await this.next(ControlKind.WELCOME);
    if (!proofMatches(proofOf(this.key, 'ctl-S', nonce, this.rank), Buffer.from(welcome.proof, 'hex'))) {
      throw new JobError('the launcher failed the job key proof; is MPI4TS_CONTROL pointing at another job?');
    }
    if (welcome.table.length !== this.size) {
      throw new JobError(`the launcher sent ${welcome.table.length} addresses for a job of ${this.size} ranks`);
    }
    // From here the control connection must not keep the process alive by itself.
    this.socket!.unref();
    return welcome.table;
  }

  async finalize(): Promise<void> {
    this.socket!.ref();
    this.write({ t: ControlKind.FINALIZE, rank: this.rank });
    await this.next(ControlKind.FINALIZED);
  }

  async abort(code: number, message: string): Promise<void> {
    this.write({ t: ControlKind.ABORT, rank: this.rank, code, message });
    // The launcher stops every rank, this one included; exit anyway if it does not.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    process.exit(code);
  }

  close(): void {
    this.closedOnPurpose = true;
    this.socket?.end();
    this.socket?.unref();
  }

  private write(message: ControlMessage): void {
    this.socket!.write(encodeControl(message));
  }

  /** `onDone` hears of every other rank whose program is done (the launcher tells). */
  watchPeers(onDone: (rank: number, how: PeerEnd) => void): void {
    this.peersDone.watch(onDone);
  }

  private readonly peersDone = new PeerDoneRelay();

  private receive(message: ControlMessage): void {
    if (message.t === ControlKind.PEER_DONE) {
      this.peersDone.deliver(message.rank, message.how);
      return;
    }
    const waiter = this.waiter;
    if (waiter !== null) {
      this.waiter = null;
      waiter(message);
    } else {
      this.inbox.push(message);
    }
  }

  private next<K extends ControlMessage['t']>(kind: K): Promise<Extract<ControlMessage, { t: K }>> {
    const take = (m: ControlMessage): Extract<ControlMessage, { t: K }> => {
      if (m.t !== kind) throw new JobError(`the launcher sent "${m.t}" where "${kind}" was expected`);
      return m as Extract<ControlMessage, { t: K }>;
    };
    const queued = this.inbox.shift();
    if (queued !== undefined) return Promise.resolve(take(queued));
    return new Promise((resolve, reject) => {
      this.waiter = (m) => {
        try {
          resolve(take(m));
        } catch (err) {
          reject(err);
        }
      };
    });
  }

  /** Without the launcher this rank cannot be stopped or finish cleanly: end it now. */
  private lost(why: string): void {
    if (this.closedOnPurpose) return;
    this.closedOnPurpose = true;
    try {
      process.stderr.write(`mpi4ts: rank ${this.rank} ${why}; exiting\n`);
    } catch {
      // stderr may be gone with the launcher.
    }
    process.exit(1);
  }
}

/** Reads `MPI4TS_*` from the environment; throws naming the variable when one is malformed. */
export function launcherEnvironment(env: NodeJS.ProcessEnv): LauncherEnvironment | null {
  const control = env.MPI4TS_CONTROL;
  if (control === undefined || control === '') return null;
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(control);
  if (match === null) throw new JobError(`MPI4TS_CONTROL="${control}" is not host:port`);
  const size = requiredIntVar(env, 'MPI4TS_SIZE', 1, 'mpi4ts run');
  const rank = requiredIntVar(env, 'MPI4TS_RANK', 0, 'mpi4ts run');
  if (rank >= size) throw new JobError(`MPI4TS_RANK=${rank} is out of range for MPI4TS_SIZE=${size} (0..${size - 1})`);
  const keyHex = env.MPI4TS_JOB_KEY ?? '';
  if (!/^[0-9a-f]{64}$/.test(keyHex)) throw new JobError('MPI4TS_JOB_KEY must be 64 hex digits (set by mpi4ts run)');
  // Read once: processes the program starts must not inherit the job's secret.
  if (env === process.env) delete env.MPI4TS_JOB_KEY;
  return { control: { host: match[1]!, port: Number(match[2]) }, rank, size, key: Buffer.from(keyHex, 'hex') };
}

