/**
 * Bootstrap under `mpi4ts run`: a control connection to the launcher, the job
 * key proved both ways, this rank's address published and the table of all
 * ranks received. The connection then carries abort and finalize; if it is
 * lost (the launcher died, or an ssh session dropped), the rank ends itself.
 */
import { intVar, JobError, requiredIntVar } from '../base/index.js';
import { bindRequestOf, ControlClient, type BindRequest, type ParentInfo, type PeerAddress, type PeerEnd, type RankReport, type SpawnReply, type SpawnRequest,
  type TracePart } from '../wire/index.js';
import type { Bootstrap } from './bootstrap.js';

export interface LauncherEnvironment {
  control: { host: string; port: number };
  rank: number;
  size: number;
  /** The MPMD block this rank was started from (MPI4TS_APPNUM; 0 from a launcher that does not set it). */
  appnum: number;
  key: Buffer;
  /** --bind-to / --map-by / --report-bindings (MPI4TS_BIND), or null. */
  binding: BindRequest | null;
  /** This process's COMM_WORLD as universe indices (MPI4TS_WORLD_BASE, MPI4TS_WORLD_SIZE; default 0..size-1). */
  worldGroup: number[];
  /** MPI_UNIVERSE_SIZE (MPI4TS_UNIVERSE_SIZE; default: size). */
  universeSize: number;
}

export class LauncherBootstrap implements Bootstrap {
  readonly name = 'mpi4ts';
  readonly rank: number;
  readonly size: number;
  readonly appnum: number;
  readonly key: Buffer;
  readonly advertiseHost: string;
  readonly binding: BindRequest | null;
  readonly worldGroup: readonly number[];
  readonly universeSize: number;

  private constructor(env: LauncherEnvironment, private readonly control: ControlClient) {
    this.rank = env.rank;
    this.size = env.size;
    this.appnum = env.appnum;
    this.key = env.key;
    this.binding = env.binding;
    this.worldGroup = env.worldGroup;
    this.universeSize = env.universeSize;
    // The local address of the control connection is one the launcher's host, and so peers, can reach.
    this.advertiseHost = control.localAddress;
  }

  /** Connects to the launcher's control server (one try: the launcher listens before it starts ranks). */
  static async open(env: LauncherEnvironment): Promise<LauncherBootstrap> {
    const control = await ControlClient.connect({
      ...env.control, rank: env.rank, size: env.size, key: env.key, label: 'ctl',
      server: 'the launcher', addressFrom: '', connectForMs: 0,
      proofHint: 'is MPI4TS_CONTROL pointing at another job?', closeHint: '',
      onLost: (why) => endRank(env.rank, why),
    });
    return new LauncherBootstrap(env, control);
  }

  exchange(me: PeerAddress): Promise<PeerAddress[]> {
    return this.control.exchange(me);
  }

  finalize(): Promise<void> {
    return this.control.finalize();
  }

  async abort(code: number, message: string): Promise<void> {
    this.control.abort(code, message);
    // The launcher stops every rank, this one included; exit anyway if it does not.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    process.exit(code);
  }

  close(): void {
    this.control.close();
  }

  parent(): ParentInfo | null {
    return this.control.parent;
  }

  spawn(request: SpawnRequest): Promise<SpawnReply> {
    return this.control.spawn(request);
  }

  spawnGo(id: number): void {
    this.control.spawnGo(id);
  }

  peerLost(peer: number): void {
    this.control.peerLost(peer);
  }

  sendTrace(host: string, part: TracePart): Promise<void> {
    return this.control.sendTrace(host, part);
  }

  sendTraceNow(host: string, part: TracePart): boolean {
    return this.control.sendTraceNow(host, part);
  }

  /** The launcher asks for hang reports over the control connection; `report` answers. */
  serveReports(report: () => RankReport): void {
    this.control.serveReports(report);
  }

  /** `onDone` hears of every other rank whose program is done (the launcher tells). */
  watchPeers(onDone: (rank: number, how: PeerEnd) => void): void {
    this.control.watchPeers(onDone);
  }

  /** `onDeath` hears of every pool worker that died (mpi4ts run --pool tells). */
  watchDeaths(onDeath: (rank: number, words: string) => void): void {
    this.control.watchDeaths(onDeath);
  }
}

/** Without its server a rank can neither be stopped nor finish cleanly: end it now. */
export function endRank(rank: number, why: string): never {
  try {
    process.stderr.write(`mpi4ts: rank ${rank} ${why}; exiting\n`);
  } catch {
    // stderr may be gone with the launcher.
  }
  process.exit(1);
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
  const appnum = intVar(env, 'MPI4TS_APPNUM', 0, 0, 100_000);
  const keyHex = env.MPI4TS_JOB_KEY ?? '';
  if (!/^[0-9a-f]{64}$/.test(keyHex)) throw new JobError('MPI4TS_JOB_KEY must be 64 hex digits (set by mpi4ts run)');
  // Read once: processes the program starts must not inherit the job's secret.
  if (env === process.env) delete env.MPI4TS_JOB_KEY;
  const binding = bindRequestOf(env);
  // A spawned world is a block of the universe: from its base, as many as it has processes.
  const worldBase = intVar(env, 'MPI4TS_WORLD_BASE', 0, 0, size - 1);
  const worldSize = intVar(env, 'MPI4TS_WORLD_SIZE', size - worldBase, 1, size - worldBase);
  if (rank < worldBase || rank >= worldBase + worldSize) {
    throw new JobError(`MPI4TS_RANK=${rank} is outside its world (MPI4TS_WORLD_BASE=${worldBase}, MPI4TS_WORLD_SIZE=${worldSize})`);
  }
  const worldGroup = Array.from({ length: worldSize }, (_, i) => worldBase + i);
  const universeSize = intVar(env, 'MPI4TS_UNIVERSE_SIZE', size, 1, 10_000_000);
  return { control: { host: match[1]!, port: Number(match[2]) }, rank, size, appnum, key: Buffer.from(keyHex, 'hex'), binding, worldGroup, universeSize };
}

