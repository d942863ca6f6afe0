/**
 * One run of `mpi4ts run`: starts every rank, forwards their output, serves
 * the control connection, and ends the job as mpiexec does: 0 when every
 * rank exits 0; otherwise the first failing rank's code, after every other
 * rank has been stopped, with a line saying which rank failed and how.
 */
import { randomBytes } from 'node:crypto';
import { constants as osConstants } from 'node:os';
import type { Writable } from 'node:stream';
import { debug, publish } from '../base/index.js';
import { ControlServer } from './control-server.js';
import { HangMonitor } from './hang-monitor.js';
import { forwardLines, openOutputFile, timestampPrefix, type OutputRoute } from './output.js';
import type { RankExit, RankProcess, Starter } from './starter.js';
import { Watchdog } from './watchdog.js';
import { TraceCollector } from './trace.js';
import { matrixSvg, profileReport } from './profile.js';
import { writeFileSync } from 'node:fs';
import type { PeerAddress, SpawnCommand, SpawnRequest, TracePart } from '../wire/index.js';

export interface Placement {
  rank: number;
  host: string;
  /** The MPMD block (`a.ts : b.ts`) the rank belongs to, its MPI_APPNUM; 0 when absent. */
  appnum?: number;
}

export interface JobOptions {
  /** Where each rank runs, in rank order. */
  placements: Placement[];
  command: string[];
  cwd: string;
  /** Extra environment for every rank (-x, --env). */
  env: Record<string, string>;
  tagOutput: boolean;
  /** Prefix every output line with the time it arrived (--timestamp-output). */
  timestamps?: boolean;
  /** Where a rank's stdout or stderr goes (--output-filename, -outfile-pattern); the terminal alone when absent. */
  routeFor?(placement: Placement, stream: 'stdout' | 'stderr'): OutputRoute;
  /** The working directory of a rank, when it differs from `cwd` (an MPMD block's -wdir). */
  cwdFor?(placement: Placement): string;
  /** At the end, a line per rank saying how it ended (Hydra's -print-all-exitcodes). */
  printExitCodes?: boolean;
  timeoutSeconds: number | null;
  /** What set the time-out, for its message (default "--timeout"). */
  timeoutName?: string;
  /** The starter for a host. */
  starterFor(host: string): Starter;
  /** The command of a rank, when it differs from `command` (an MPMD block's program, --node for remote hosts). */
  commandFor?(placement: Placement): string[];
  /** The tsx form of a rank's command, for hosts whose Node cannot strip types (RankSpec.fallback). */
  fallbackFor?(placement: Placement): string[] | null;
  /** Environment of a rank on top of `env` (an MPMD block's own --env). */
  envFor?(placement: Placement): Record<string, string>;
  /** Address the control server listens on, and the one ranks dial. */
  controlBind: string;
  controlAdvertise: string;
  /** Ports the control server may listen on (--port-range), or any. */
  controlPortRange?: [number, number] | null;
  /** Seconds between the polite stop signal and SIGKILL. */
  killGraceSeconds?: number;
  /** --trace FILE: where the job's timeline goes (launcher/trace.ts), or null. */
  tracePath?: string | null;
  /** --profile[=FILE.svg]: print the report at the end (launcher/profile.ts), and draw the matrix into svgPath; or null. */
  profile?: { svgPath: string | null } | null;
  /** Look for deadlocks after each second of quiet (default true; MPI4TS_DEADLOCK_CHECK). */
  deadlockCheck?: boolean;
  /** Print a hang report when no rank has made progress for this many seconds (--hang-report), or null. */
  hangReportSeconds?: number | null;
  /**
   * Dynamic processes (comm.spawn): the hosts and their slots, which
   * MPI_UNIVERSE_SIZE counts and children fill first; absent: one slot per
   * rank on the ranks' hosts.
   */
  slots?: { host: string; slots: number }[];
  /**
   * How a spawned process of `command` runs on `host`: its command (and the
   * tsx form for remote hosts), or throws with the reason in words.
   */
  spawnCommand?(command: SpawnCommand, host: string, cwd: string): { command: string[]; fallback: string[] | null };
  /**
   * --pool: ranks 1..N-1 are rank 0's pool workers (pool/worker.ts). One of
   * them that dies does not end the job: rank 0 is told (RANK_DIED) and its
   * pool fails the task that worker ran (DESIGN.md "Task pools").
   */
  pool?: boolean;
}

/**
 * A process of the job, by universe index (DESIGN.md "Dynamic processes"):
 * world 0 is the job's own ranks, world k the k-th spawn's children.
 */
interface Process {
  host: string;
  world: number;
  /** Its rank in its own COMM_WORLD. */
  rank: number;
  /** Spawned by a PoolExecutor (SpawnRequest.pool): its death fails a task, not the job. */
  poolWorker?: boolean;
  /** The universe indices of the ranks that spawned it (a spawned process), told of its death. */
  parents?: readonly number[];
}

/** A spawn whose children are starting: who asked, under which id. */
interface PendingSpawn {
  root: number;
  id: number;
  base: number;
}

/** The most processes one spawn may start (as many as a job may have ranks). */
const MAX_SPAWNED_AT_ONCE = 100_000;

/** The exit status of a job ended because its ranks deadlocked (124 is --timeout's). */
export const DEADLOCK_EXIT_CODE = 125;

/** How long a lost control connection waits for the rank's own exit, which explains more. */
const CONTROL_LOST_GRACE_MS = 5000;
/**
 * How long a failure waits while another rank's control connection has
 * closed and its exit report is on its way (over ssh, after the close): that
 * rank's death is the likelier first cause (the others' receives from it fail).
 */
const ROOT_CAUSE_GRACE_MS = 1000;

interface Failure {
  code: number;
  message: string;
}

interface HeldFailure extends Failure {
  culprit: number;
  /** Running ranks whose control connection closed before the culprit's: their exit would be the first cause. */
  waitFor: Set<number>;
}

/** A rank that exited with code 0 without finalizing while others ran: the likely first cause of what follows. */
interface EarlyExit {
  rank: number;
  where: string;
}

export class Job {
  private readonly ranks: RankProcess[] = [];
  private readonly alive = new Set<number>();
  private failure: Failure | null = null;
  private stopping = false;
  private control: ControlServer | null = null;
  private watchdog: Watchdog | null = null;
  private monitor: HangMonitor | null = null;
  private earlyExit: EarlyExit | null = null;
  /**
   * Ranks whose control connection closed, with the order it closed in: a
   * running one's exit report is on its way, and of two failures the rank
   * whose connection closed first is the likelier first cause.
   */
  private readonly lostOrder = new Map<number, number>();
  /** A failure held back for ROOT_CAUSE_GRACE_MS while the reports of the ranks in `waitFor` come. */
  private heldFailure: HeldFailure | null = null;
  /** How each rank ended, and whether the launcher had begun to stop the job then (-print-all-exitcodes). */
  private readonly endings = new Map<number, { exit: RankExit; stopped: boolean }>();

  /** Every process so far, by universe index: the job's ranks, then each spawn's children. */
  private readonly processes: Process[] = [];
  private readonly pendingSpawns: PendingSpawn[] = [];
  private spawnedWorlds = 0;
  private readonly exits: Promise<void>[] = [];
  private readonly forwarding: Promise<void>[] = [];
  private readonly files: Writable[] = [];
  private key: Buffer = Buffer.alloc(0);
  private port = 0;

  constructor(private readonly opts: JobOptions) {
    for (const p of opts.placements) this.processes[p.rank] = { host: p.host, world: 0, rank: p.rank };
  }

  /** MPI_UNIVERSE_SIZE: the hosts' slots (API.md "Dynamic processes"). */
  private get universeSize(): number {
    return (this.opts.slots ?? []).reduce((sum, h) => sum + h.slots, 0) || this.opts.placements.length;
  }

  /** A process in words: "rank 2", or "rank 0 of spawned world 1". */
  private nameOf(universe: number): string {
    const p = this.processes[universe];
    return p === undefined || p.world === 0 ? `rank ${universe}` : `rank ${p.rank} of spawned world ${p.world}`;
  }

  /** Runs the job to the end; resolves with the launcher's exit code. */
  async run(): Promise<number> {
    const size = this.opts.placements.length;
    const key = randomBytes(32);
    const tracePath = this.opts.tracePath ?? null;
    const profile = this.opts.profile ?? null;
    const trace = tracePath === null && profile === null ? null : new TraceCollector(size);
    const control = new ControlServer(size, key, {
      // Clock rounds only for a timeline: a profile's totals need no common clock.
      ...(trace === null || tracePath === null ? {} : { onClock: (rank: number, offset: number, error: number) => trace.clock(rank, offset, error) }),
      ...(trace === null ? {} : { onTrace: (rank: number, host: string, part: TracePart) => trace.add(rank, host, part) }),
      onAbort: (rank, code, message) => this.fail(code, `mpi4ts: ${message || `rank ${rank} called abort(${code})`}; stopping the job`, rank),
      onLost: (rank) => this.controlLost(rank),
      // Said before the reporter's own failure: the peer went first, even if its connection to us closes later.
      onPeerLost: (_reporter, peer) => this.noteLost(peer),
      onRejected: (reason) => {
        debug('control: %s', reason);
      },
      onReport: (rank, id, report) => this.monitor?.onReport(rank, id, report),
      onSpawn: (rank, request) => this.spawn(rank, request),
      onBlockArrived: (base, addresses) => this.spawnArrived(base, addresses),
      onSpawnGo: (rank, id) => {
        const at = this.pendingSpawns.findIndex((s) => s.root === rank && s.id === id);
        if (at < 0) return;
        const [started] = this.pendingSpawns.splice(at, 1);
        control.welcomeBlock(started!.base);
      },
    });
    this.control = control;
    this.monitor = new HangMonitor({
      ask: (id, ranks) => control.requestReports(id, ranks),
      running: () => [...this.alive].sort((a, b) => a - b),
      hostOf: (rank) => this.processes[rank]?.host ?? '?',
      nameOf: (rank) => this.nameOf(rank),
      deadlockCheck: this.opts.deadlockCheck ?? true,
      hangReportSeconds: this.opts.hangReportSeconds ?? null,
      onDeadlock: (message) => this.fail(DEADLOCK_EXIT_CODE, message),
      write: (text) => process.stderr.write(text),
    });
    const port = await control.listen(this.opts.controlBind, this.opts.controlPortRange ?? null);
    this.watchdog = Watchdog.start();
    const endOfSignals = this.trapSignals();
    const timer = this.armTimeout();
    this.monitor.start();
    this.key = key;
    this.port = port;
    const files = this.files;
    for (const placement of this.opts.placements) {
      const child = this.startRank(placement, size);
      this.follow(child, this.targetsOf(placement, 'stdout', files), this.targetsOf(placement, 'stderr', files));
    }
    // Spawned processes add their exits while the job runs: wait until no more come.
    for (let awaited = -1; awaited !== this.exits.length;) {
      awaited = this.exits.length;
      await Promise.all(this.exits);
    }
    // Output may trail the exit a little; do not wait for ever on a stream a stray grandchild holds.
    await Promise.race([Promise.all(this.forwarding), new Promise((r) => setTimeout(r, 2000).unref())]);
    await Promise.all(files.map((file) => new Promise((resolve) => file.end(resolve))));
    if (trace !== null && tracePath !== null) this.writeTrace(trace, tracePath);
    if (trace !== null && profile !== null) this.printProfile(trace, size, profile.svgPath);
    if (timer !== null) clearTimeout(timer);
    endOfSignals();
    this.monitor.stop();
    control.close();
    this.watchdog?.stop();
    if (this.opts.printExitCodes === true) this.printEndings();
    return this.failure?.code ?? 0;
  }

  /** --trace: the timeline goes out whatever the job's end, a failed job's too. */
  private writeTrace(trace: TraceCollector, path: string): void {
    try {
      process.stderr.write(`${trace.write(path)}\n`);
    } catch (err) {
      process.stderr.write(`mpi4ts: cannot write the timeline to ${path} (--trace): ${(err as Error).message}\n`);
      this.failure ??= { code: 1, message: '' };
    }
  }

  /** --profile: the report on stderr (the ranks' stdout stays theirs), the heat map into its file. */
  private printProfile(trace: TraceCollector, size: number, svgPath: string | null): void {
    const ranks = trace.profiles();
    const missing = [...Array(size).keys()].filter((rank) => !ranks.some((r) => r.rank === rank));
    process.stderr.write(profileReport(ranks, size, missing));
    if (svgPath === null) return;
    try {
      writeFileSync(svgPath, matrixSvg(ranks, size));
      process.stderr.write(`mpi4ts: communication matrix drawn in ${svgPath}\n`);
    } catch (err) {
      process.stderr.write(`mpi4ts: cannot write the heat map to ${svgPath} (--profile): ${(err as Error).message}\n`);
      this.failure ??= { code: 1, message: '' };
    }
  }

  /** The terminal stream and/or the file a rank's `stream` goes to. */
  private targetsOf(placement: Placement, stream: 'stdout' | 'stderr', files: Writable[]): Writable[] {
    const terminal = stream === 'stdout' ? process.stdout : process.stderr;
    const route = this.opts.routeFor?.(placement, stream) ?? { file: null, terminal: true };
    const targets: Writable[] = route.terminal ? [terminal] : [];
    if (route.file !== null) {
      const path = route.file;
      const file = openOutputFile(path, (err) => {
        this.fail(1, `mpi4ts: cannot write rank ${placement.rank}'s ${stream} to ${path}: ${err.message}; stopping the job`);
      });
      files.push(file);
      targets.push(file);
    }
    return targets;
  }

  /** -print-all-exitcodes: how every rank ended, in rank order. */
  private printEndings(): void {
    // Called once every rank's exit was awaited: each has its ending.
    const lines = this.ranks.slice().sort((a, b) => a.rank - b.rank).map((child) => {
      const { exit, stopped } = this.endings.get(child.rank)!;
      const where = `rank ${child.rank} (${child.host})`;
      const how = exit.signal !== null ? `killed by signal ${exit.signal}` : `exit code ${exit.code ?? '?'}`;
      return `${where}: ${how}${stopped && exit.code !== 0 ? ' (stopped by the launcher)' : ''}`;
    });
    process.stderr.write(`mpi4ts: exit codes:\n${lines.map((l) => `  ${l}\n`).join('')}`);
  }

  /** Forwards a process's output and handles its end. */
  private follow(child: RankProcess, stdout: Writable[], stderr: Writable[]): void {
    this.forwarding.push(forwardLines(child.stdout, stdout, this.prefixOf(child.rank)));
    this.forwarding.push(forwardLines(child.stderr, stderr, this.prefixOf(child.rank)));
    this.exits.push(child.exited.then((exit) => this.onExit(child, exit)));
  }

  private controlEnv(): Record<string, string> {
    return {
      MPI4TS_CONTROL: `${this.opts.controlAdvertise.includes(':') ? `[${this.opts.controlAdvertise}]` : this.opts.controlAdvertise}:${this.port}`,
      MPI4TS_JOB_KEY: this.key.toString('hex'),
      MPI4TS_UNIVERSE_SIZE: String(this.universeSize),
    };
  }

  private startRank(placement: Placement, size: number): RankProcess {
    const env: Record<string, string> = {
      ...this.opts.env,
      ...this.opts.envFor?.(placement),
      MPI4TS_RANK: String(placement.rank),
      MPI4TS_SIZE: String(size),
      ...this.controlEnv(),
      MPI4TS_APPNUM: String(placement.appnum ?? 0),
      ...((this.opts.tracePath ?? null) === null ? {} : { MPI4TS_TRACE: '1' }),
      ...((this.opts.profile ?? null) === null ? {} : { MPI4TS_PROFILE: '1' }),
      ...(this.opts.pool === true ? { MPI4TS_POOL: '1' } : {}),
    };
    return this.startProcess({
      rank: placement.rank, host: placement.host, command: this.opts.commandFor?.(placement) ?? this.opts.command,
      fallback: this.opts.fallbackFor?.(placement) ?? undefined,
      env, cwd: this.opts.cwdFor?.(placement) ?? this.opts.cwd,
    }, placement.rank === 0);
  }

  /**
   * comm.spawn's root asks for processes: place them (hosts given, else free
   * slots, else over the job's hosts in turn, as mpiexec oversubscribes),
   * start them as a new block of the universe, and answer once all said
   * hello (spawnArrived). A problem is the answer instead.
   */
  private spawn(root: number, request: SpawnRequest): void {
    const answer = (error: string): void => this.control?.replySpawn(root, { id: request.id, error });
    if (this.stopping) return answer('the job is ending');
    if (!Array.isArray(request.commands) || !Array.isArray(request.parentGroup) || !Number.isInteger(request.context)) {
      return answer('a malformed spawn request');
    }
    // From a proven rank, but checked all the same: a count or a path that is not one would start nonsense.
    const wellFormed = request.commands.length > 0 && request.commands.every((c) => typeof c === 'object' && c !== null &&
      typeof c.path === 'string' && Array.isArray(c.args) && Array.isArray(c.hosts) && typeof c.env === 'object' && c.env !== null &&
      Number.isInteger(c.maxprocs) && c.maxprocs >= 1);
    if (!wellFormed) return answer('a malformed spawn request');
    const count = request.commands.reduce((sum, c) => sum + c.maxprocs, 0);
    if (count > MAX_SPAWNED_AT_ONCE) return answer(`${count} processes asked for at once; at most ${MAX_SPAWNED_AT_ONCE} are allowed`);
    const hosts = this.childHosts(request.commands);
    const cwd = typeof request.cwd === 'string' ? request.cwd : this.opts.cwd;
    let commands: { command: string[]; fallback: string[] | null }[];
    try {
      commands = hosts.map((h) => {
        const spawnCommand = this.opts.spawnCommand;
        if (spawnCommand === undefined) throw new Error('this launcher cannot start processes');
        return spawnCommand(request.commands[h.appnum]!, h.host, cwd);
      });
    } catch (err) {
      return answer((err as Error).message);
    }
    const base = this.control!.addBlock(count, { group: request.parentGroup, context: request.context });
    const world = ++this.spawnedWorlds;
    this.pendingSpawns.push({ root, id: request.id, base });
    debug('spawn: world %d, %d process(es) from universe index %d, asked by %s', world, count, base, this.nameOf(root));
    const poolWorker = request.pool === true;
    const parents = [...request.parentGroup];
    hosts.forEach(({ host, appnum }, i) => {
      const universe = base + i;
      this.processes[universe] = { host, world, rank: i, ...(poolWorker ? { poolWorker, parents } : {}) };
      const env: Record<string, string> = {
        ...this.opts.env,
        ...request.commands[appnum]!.env,
        MPI4TS_RANK: String(universe),
        MPI4TS_SIZE: String(base + count),
        MPI4TS_WORLD_BASE: String(base),
        MPI4TS_WORLD_SIZE: String(count),
        ...this.controlEnv(),
        MPI4TS_APPNUM: String(appnum),
      };
      const child = this.startProcess({ rank: universe, host, command: commands[i]!.command, fallback: commands[i]!.fallback ?? undefined, env, cwd }, false);
      this.follow(child, [process.stdout], [process.stderr]);
    });
  }

  /** Where each child of a spawn runs, in its COMM_WORLD's order, with the index of its command. */
  private childHosts(commands: SpawnCommand[]): { host: string; appnum: number }[] {
    const slots = this.opts.slots ?? [...new Set(this.opts.placements.map((p) => p.host))]
      .map((host) => ({ host, slots: this.opts.placements.filter((p) => p.host === host).length }));
    const used = new Map<string, number>();
    for (const rank of this.alive) {
      const host = this.processes[rank]?.host;
      if (host !== undefined) used.set(host, (used.get(host) ?? 0) + 1);
    }
    let turn = 0;
    const next = (): string => {
      const free = slots.find((h) => (used.get(h.host) ?? 0) < h.slots);
      const host = free?.host ?? slots[turn++ % slots.length]!.host;
      used.set(host, (used.get(host) ?? 0) + 1);
      return host;
    };
    const out: { host: string; appnum: number }[] = [];
    commands.forEach((command, appnum) => {
      for (let i = 0; i < command.maxprocs; i++) {
        out.push({ host: command.hosts.length > 0 ? command.hosts[i % command.hosts.length]! : next(), appnum });
      }
    });
    return out;
  }

  /** Every child of a spawn said hello: its root learns their addresses (and tells its group). */
  private spawnArrived(base: number, addresses: PeerAddress[]): void {
    const pending = this.pendingSpawns.find((s) => s.base === base);
    if (pending !== undefined) this.control?.replySpawn(pending.root, { id: pending.id, base, table: addresses });
  }

  private startProcess(spec: Parameters<Starter['start']>[0], withStdin: boolean): RankProcess {
    const starter = this.opts.starterFor(spec.host);
    const child = starter.start(spec, withStdin);
    this.ranks.push(child);
    this.alive.add(child.rank);
    void child.localGroup.then((pgid) => {
      if (pgid !== undefined) this.watchdog?.watch(pgid);
    });
    if (child.stdin !== null) {
      child.stdin.on('error', () => {});
      process.stdin.pipe(child.stdin);
    }
    return child;
  }

  private onExit(child: RankProcess, exit: RankExit): void {
    this.alive.delete(child.rank);
    this.endings.set(child.rank, { exit, stopped: this.stopping });
    publish('mpi4ts:launcher:rank-exit', () => ({ rank: child.rank, host: child.host, code: exit.code, signal: exit.signal }));
    void child.localGroup.then((pgid) => {
      if (pgid !== undefined) this.watchdog?.forgetIfEmpty(pgid);
    });
    const where = `${this.nameOf(child.rank)} (${child.host}, pid ${child.pid ?? '?'})`;
    const joining = this.pendingSpawns.find((s) => child.rank >= s.base && !this.control!.hasJoined(child.rank));
    if (exit.code === 0 && joining !== undefined && !this.stopping) {
      // Its spawn would wait for its hello for ever: a child that fails to start ends the job (no errcodes).
      this.fail(1, `mpi4ts: ${where} exited before it joined the job (does its program import mpi4ts?); stopping the job`, child.rank);
      return;
    }
    // A pool worker that exits 0 before its finalize (process.exit() in a task) is lost to the pool as much as a killed one.
    if (exit.code === 0 && this.isPoolWorker(child.rank) && !this.stopping && this.control?.hasFinalized(child.rank) === false) {
      this.workerDied(child, { ...exit, message: `pool worker ${where} exited with code 0 before its pool was done (process.exit() in a task?)` }, where);
      return;
    }
    if (exit.code === 0) {
      if (this.earlyExit === null && this.alive.size > 0 && this.control?.hasFinalized(child.rank) === false) {
        this.earlyExit = { rank: child.rank, where };
      }
      this.control?.rankExitedCleanly(child.rank);
      this.releaseHeldIfAnswered();
      return;
    }
    if (this.stopping) return;
    // A spawned pool worker that dies before its hello is a spawn that failed (its spawn would wait for ever): that ends the job.
    if (this.isPoolWorker(child.rank) && joining === undefined) {
      this.workerDied(child, exit, where);
      return;
    }
    if (exit.message !== undefined) {
      this.fail(exit.code ?? 1, `mpi4ts: ${exit.message}; stopping the job`, child.rank);
    } else if (exit.signal !== null) {
      const number = osConstants.signals[exit.signal] ?? 0;
      this.fail(128 + number, `mpi4ts: ${where} was killed by signal ${exit.signal}; stopping the job`, child.rank);
    } else {
      this.fail(exit.code ?? 1, `mpi4ts: ${where} exited with code ${exit.code}; stopping the job`, child.rank);
    }
  }

  /**
   * A pool worker: one of ranks 1..N-1 of a --pool job, or a process a
   * PoolExecutor spawned (SpawnRequest.pool). Its death ends no job.
   */
  private isPoolWorker(rank: number): boolean {
    return (this.opts.pool === true && rank !== 0 && rank < this.opts.placements.length) || this.processes[rank]?.poolWorker === true;
  }

  /**
   * A pool worker died. The job goes on; the submitter hears of it over
   * its control connection (a --pool job's ranks all do, a spawned
   * worker's parents alone), and the user reads it here too, as it is a
   * fault.
   */
  private workerDied(child: RankProcess, exit: RankExit, where: string): void {
    const how = exit.message ?? (exit.signal !== null ? `was killed by signal ${exit.signal}` : `exited with code ${exit.code}`);
    const words = exit.message ?? `pool worker ${where} ${how}`;
    const spawned = this.processes[child.rank];
    const why = spawned?.poolWorker === true ? "a PoolExecutor's spawned worker" : '--pool';
    process.stderr.write(`mpi4ts: ${words}; the job goes on without it (${why})\n`);
    this.control?.rankDied(child.rank, words, spawned?.poolWorker === true ? spawned.parents : undefined);
  }

  /**
   * A running rank's control connection died. Its process exit usually follows
   * at once and says more; if it does not, the host or the link is gone.
   */
  private controlLost(rank: number): void {
    this.noteLost(rank);
    setTimeout(() => {
      if (!this.alive.has(rank) || this.stopping) return;
      const child = this.ranks.find((r) => r.rank === rank);
      this.fail(1, `mpi4ts: lost the control connection to ${this.nameOf(rank)} on host "${child?.host ?? '?'}" ` +
        '(host down or network cut?); stopping the job');
    }, CONTROL_LOST_GRACE_MS).unref();
  }

  private noteLost(rank: number): void {
    if (!this.lostOrder.has(rank)) this.lostOrder.set(rank, this.lostOrder.size);
  }

  /**
   * Records the first failure and stops every rank still running. A rank
   * that left early without finalizing is named first: the others' failure
   * (a receive from it that can never complete) follows from it.
   */
  private fail(code: number, message: string, culprit = -1, mayHold = true): void {
    if (this.heldFailure !== null && mayHold) {
      // A rank the held failure waited for failed: it is the likelier cause (and may itself wait for an earlier one).
      if (this.heldFailure.waitFor.has(culprit)) {
        this.heldFailure = null;
        this.fail(code, message, culprit);
      } else {
        this.releaseHeld();
      }
      return;
    }
    if (mayHold && this.failure === null && this.holdForRootCause(code, message, culprit)) return;
    if (this.failure === null) {
      const early = this.earlyExit;
      const text = early === null || early.rank === culprit ? message
        : `mpi4ts: ${early.where} exited with code 0 without finalizing while other ranks still ran ` +
          `(process.exit() before the program's end?); then ${message.replace(/^mpi4ts: /, '')}`;
      this.failure = { code: code === 0 ? 1 : code, message: text };
      process.stderr.write(`${text}\n`);
    }
    this.stopAll();
  }

  /**
   * A rank failed while another, still running, had lost its control
   * connection before this one did (a rank killed, its host gone): that one's
   * exit is the likelier first cause, and its report (over ssh) may trail
   * the close. Hold this failure until that report comes, at most
   * ROOT_CAUSE_GRACE_MS; true if held. Stopping the job now would drop it.
   */
  private holdForRootCause(code: number, message: string, culprit: number): boolean {
    const mine = this.lostOrder.get(culprit) ?? Infinity;
    const waitFor = new Set([...this.lostOrder].filter(([rank, order]) => rank !== culprit && order < mine && this.alive.has(rank))
      .map(([rank]) => rank));
    if (waitFor.size === 0) return false;
    const held: HeldFailure = { code, message, culprit, waitFor };
    this.heldFailure = held;
    setTimeout(() => {
      if (this.heldFailure === held) this.releaseHeld();
    }, ROOT_CAUSE_GRACE_MS).unref();
    return true;
  }

  /** Every rank a held failure waited for ended cleanly: nothing earlier explains it, report it now. */
  private releaseHeldIfAnswered(): void {
    const held = this.heldFailure;
    if (held !== null && ![...held.waitFor].some((rank) => this.alive.has(rank))) this.releaseHeld();
  }

  /** Reports the held failure as the job's. */
  private releaseHeld(): void {
    const held = this.heldFailure!;
    this.heldFailure = null;
    this.fail(held.code, held.message, held.culprit, false);
  }

  private stopAll(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.monitor?.stop();
    for (const child of this.ranks) if (this.alive.has(child.rank)) child.kill('SIGTERM');
    const grace = (this.opts.killGraceSeconds ?? 3) * 1000;
    setTimeout(() => {
      // SIGKILL the groups even of ranks that exited: something they started may linger.
      for (const child of this.ranks) child.kill('SIGKILL');
    }, grace).unref();
  }

  private armTimeout(): NodeJS.Timeout | null {
    const seconds = this.opts.timeoutSeconds;
    if (seconds === null) return null;
    const name = this.opts.timeoutName ?? '--timeout';
    const timer = setTimeout(() => {
      this.reportThenFail(`the job did not finish within ${seconds} s (${name})`,
        () => this.fail(124, `mpi4ts: the job did not finish within ${seconds} s (${name}); stopping ${this.alive.size} rank(s)`));
    }, seconds * 1000);
    timer.unref();
    return timer;
  }

  /**
   * Prints the hang report (what each rank waits for, at most ANSWER_MS of
   * waiting for the answers), then `then()`; at once if the job is already
   * stopping or a report is being gathered for this (a second Ctrl-C).
   */
  private reportThenFail(why: string, then: () => void): void {
    if (this.stopping || this.reportingBeforeStop || this.monitor === null) {
      then();
      return;
    }
    this.reportingBeforeStop = true;
    void this.monitor.printReport(why).then(then, then);
  }

  private reportingBeforeStop = false;

  private trapSignals(): () => void {
    const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGQUIT'] as const).map((signal) => {
      const handler = (): void => {
        if (signal === 'SIGUSR1' || signal === 'SIGQUIT') {
          // Asked for a report: the job goes on.
          void this.monitor?.printReport(signal);
          return;
        }
        const number = osConstants.signals[signal];
        const stop = (): void => this.fail(128 + number, `mpi4ts: interrupted by ${signal}; stopping ${this.alive.size} rank(s)`);
        // Ctrl-C shows what the job was waiting for before it stops (a second one stops at once).
        if (signal === 'SIGINT') this.reportThenFail(`interrupted by ${signal}`, stop);
        else stop();
      };
      process.on(signal, handler);
      return [signal, handler] as const;
    });
    return () => {
      for (const [signal, handler] of handlers) process.off(signal, handler);
    };
  }

  /** The prefix of a rank's lines: the time they arrived (--timestamp-output), then `[rank] ` (--tag-output). */
  private prefixOf(rank: number): string | (() => string) {
    const p = this.processes[rank];
    const tag = !this.opts.tagOutput ? '' : p === undefined || p.world === 0 ? `[${rank}] ` : `[${p.world}:${p.rank}] `;
    return this.opts.timestamps === true ? () => `${timestampPrefix()}${tag}` : tag;
  }
}
