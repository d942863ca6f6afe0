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
import { createHash } from 'node:crypto';
import { JobError, optionsOf, requiredIntVar } from '../base/index.js';
import { ControlClient, ControlRegistry, type PeerAddress, type PeerEnd } from '../wire/index.js';
import { endRank } from './launcher-bootstrap.js';
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


/** Reads MPI4TS_RANK/SIZE/RENDEZVOUS/KEY; null when MPI4TS_RENDEZVOUS is unset. */
export function rendezvousEnvironment(env: NodeJS.ProcessEnv): RendezvousEnvironment | null {
  const where = env.MPI4TS_RENDEZVOUS;
  if (where === undefined || where === '') return null;
  const size = requiredIntVar(env, 'MPI4TS_SIZE', 1);
  const rank = requiredIntVar(env, 'MPI4TS_RANK', 0);
  if (rank >= size) throw new JobError(`MPI4TS_RANK=${rank} is out of range for MPI4TS_SIZE=${size} (0..${size - 1})`);
  return { name: 'rendezvous', rank, size, ...parseHostPort(where, 'MPI4TS_RENDEZVOUS'), key: userKey(env), timeoutMs: optionsOf(env).rendezvousTimeoutMs };
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
  /**
   * Always 0: neither MPI4TS_RENDEZVOUS nor Slurm (not even srun --multi-prog,
   * whose SLURM_* variables name no block) says which program a task is.
   */
  readonly appnum = 0;
  readonly key: Buffer;
  readonly advertiseHost: string;

  private constructor(private readonly env: RendezvousEnvironment, private readonly control: ControlClient,
    private readonly server: RendezvousServer | null) {
    this.name = env.name;
    this.rank = env.rank;
    this.size = env.size;
    this.key = env.key;
    this.advertiseHost = control.localAddress;
  }

  static async open(env: RendezvousEnvironment): Promise<RendezvousBootstrap> {
    const server = env.rank === 0 ? await RendezvousServer.open(env) : null;
    const control = await ControlClient.connect({
      host: env.host, port: env.port, rank: env.rank, size: env.size, key: env.key, label: 'rdv',
      server: 'rank 0', addressFrom: 'MPI4TS_RENDEZVOUS', connectForMs: env.timeoutMs,
      proofHint: 'is MPI4TS_KEY the same on every rank?', closeHint: '(the job was ended, or rank 0 died)',
      onLost: (why) => endRank(env.rank, why),
    });
    return new RendezvousBootstrap(env, control, server);
  }

  async exchange(me: PeerAddress): Promise<PeerAddress[]> {
    const table = await this.withinTimeout(this.control.exchange(me));
    this.server?.unref();
    return table;
  }

  finalize(): Promise<void> {
    return this.control.finalize();
  }

  async abort(code: number, message: string): Promise<void> {
    if (message !== '') process.stderr.write(`mpi4ts: ${message}\n`);
    this.control.expectEnd();
    if (this.server !== null) this.server.endJob(`rank 0 aborted with code ${code}`, code);
    else this.control.abort(code, message);
    process.exit(code);
  }

  close(): void {
    this.control.close();
    this.server?.stopListening();
  }

  /** `onDone` hears of every other rank whose program is done (rank 0 tells). */
  watchPeers(onDone: (rank: number, how: PeerEnd) => void): void {
    this.control.watchPeers(onDone);
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
}

/**
 * Rank 0's side: a ControlRegistry (wire/control-registry.ts) under the "rdv"
 * proof label, which ends the job (closes every connection, so each rank
 * exits) on an abort or on a connection lost before its rank was let go.
 */
class RendezvousServer {
  private ended = false;

  private constructor(private readonly registry: ControlRegistry) {}

  static async open(env: RendezvousEnvironment): Promise<RendezvousServer> {
    let server: RendezvousServer | null = null;
    const registry = new ControlRegistry(env.size, env.key, 'rdv', {
      // Rank 0 carries the aborting rank's code out of the job.
      onAbort: (rank, code, message) => server?.endJob(`rank ${rank} aborted with code ${code}${message === '' ? '' : `: ${message}`}`, code),
      // A rank that said finalize needs nothing more (its program is done): only one gone before ends the job.
      onLost: (rank) => {
        if (!registry.hasFinalized(rank)) server?.endJob(`rank ${rank} left before finalize`);
      },
      // Strangers on an open port are expected: dropped without a word, as the launcher does.
      onRejected: () => {},
    });
    server = new RendezvousServer(registry);
    try {
      await registry.listen(env.host, env.port);
    } catch (err) {
      throw new JobError(`rank 0 cannot listen on ${env.host}:${env.port} (MPI4TS_RENDEZVOUS): ${(err as Error).message}`);
    }
    return server;
  }

  missingRanks(): string[] {
    return this.registry.missingRanks();
  }

  /** Rank 0's own finalize keeps the loop alive while it waits; idle, the server must not. */
  unref(): void {
    this.registry.unref();
  }

  stopListening(): void {
    this.ended = true;
    this.registry.stopListening();
  }

  /** Closes every connection: each rank sees it and exits; then rank 0 exits with `code`. */
  endJob(why: string, code = 1): void {
    if (this.ended) return;
    this.ended = true;
    process.stderr.write(`mpi4ts: ${why}; ending the job\n`);
    this.registry.close();
    process.exit(code);
  }
}
