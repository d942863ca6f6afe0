/**
 * Every environment variable mpi4ts reads goes through this module: the
 * tunables (`MPI4TS_*`, README "Tuning"), read once into an `Options` object,
 * and the parsers the bootstraps use for what a launcher sets (MPI4TS_RANK,
 * PMI_SIZE, SLURM_PROCID...). So every bad value fails the same way: a
 * JobError naming the variable, the value and what is allowed.
 *
 * Nothing is read at import: `options()` reads process.env on first use
 * (initWorld makes that use, so a bad value stops a rank at start-up, not in
 * the middle of its first send).
 */
import { JobError } from './errors.js';

export interface Options {
  /** Messages up to this many bytes go eagerly; larger ones by rendezvous. */
  eagerLimit: number;
  /** Spin this long after the last activity before sleeping; 0 never spins. */
  pollMicros: number;
  /**
   * The same on a host with more ranks than cores (MPI4TS_OVERSUB_POLL_US),
   * where the spin yields the core every 16 empty polls from the first.
   * Default DEFAULT_OVERSUB_POLL_MICROS: a short window, so the next step of
   * a collective finds its peer awake, and a rank that waits longer sleeps.
   */
  oversubscribedPollMicros: number;
  /** Use TCP even between ranks of one host. */
  forceTcp: boolean;
  /** Shared memory between ranks of one host where available (MPI4TS_TRANSPORT auto). */
  useShm: boolean;
  /** Data bytes of each shared-memory ring. */
  shmRingBytes: number;
  /** Port range for peer listeners, or null for any. */
  portRange: [number, number] | null;
  /** Sockets read large payloads straight into receive buffers (MPI4TS_DIRECT_READ=0: off). */
  directRead: boolean;
  /** The progress engine's spin reads sockets itself (MPI4TS_SOCKET_POLL=0: off, libuv reads them). */
  socketPoll: boolean;
  /**
   * Eager bytes each sender may have in flight to this rank before it sends
   * by rendezvous until the program receives them (MPI4TS_EAGER_CREDIT), or
   * null for the default, defaultEagerCredit().
   */
  eagerCredit: number | null;
  /** Typed arrays of at least this many bytes allreduce by ring (MPI4TS_RING_MIN_BYTES). */
  ringMinBytes: number;
  /**
   * The allreduce's algorithm (MPI4TS_ALGO_ALLREDUCE): "auto" by size and
   * rank count as the cost model says (coll/model.ts allreduceAlgorithm),
   * or one forced, for measurement; a forced bandwidth algorithm still takes
   * only typed arrays under predefined ops (anything else goes by doubling).
   */
  allreduceAlgorithm: 'auto' | AllreduceAlgorithm;
  /** bcastInto's algorithm (MPI4TS_ALGO_BCAST): "auto" by the root's size and the model, or one forced. */
  bcastAlgorithm: 'auto' | BcastAlgorithm;
  /** The value alltoall's algorithm (MPI4TS_ALGO_ALLTOALL): "auto" by rank count and the model, or one forced. */
  alltoallAlgorithm: 'auto' | AlltoallAlgorithm;
  /** Collectives of a communicator that spans hosts run in two levels, host then leaders (MPI4TS_TWO_LEVEL=0: flat, as on one host). */
  twoLevel: boolean;
  /**
   * COMM_WORLD's small collectives (barrier, bcast of a small value,
   * allreduce of up to 1 KiB) meet in shared memory when every rank is on
   * one host (MPI4TS_HOST_COLL=0: by messages, as elsewhere).
   */
  hostCollectives: boolean;
  /** Plain objects and arrays use the plain format (MPI4TS_PLAIN_CODEC=0: everything structured goes by v8.serialize). */
  plainCodec: boolean;
  /** The PMI wire protocol to speak when PMI_FD is set (MPI4TS_PMI), or null to choose by the environment. */
  pmi: 1 | 2 | null;
  /** Path of libpmix to load (MPI4TS_PMIX_LIB), or null to search the usual names. */
  pmixLib: string | null;
  /** The address this host advertises to other hosts (MPI4TS_HOST_ADDRESS), or null to pick one. */
  hostAddress: string | null;
  /** How long ranks try to reach rank 0 at a rendezvous (MPI4TS_RENDEZVOUS_TIMEOUT, seconds). */
  rendezvousTimeoutMs: number;
  /** The ssh command the launcher starts remote ranks with (MPI4TS_SSH; --ssh wins), or null for "ssh". */
  ssh: string | null;
  /**
   * How `mpi4ts run` starts .ts programs (MPI4TS_TYPESCRIPT): "auto" with
   * Node's own type stripping where the program allows it, else tsx;
   * "node" always with Node alone; "tsx" always through tsx.
   */
  typescript: 'auto' | 'node' | 'tsx';
  /** `mpi4ts run` gives its ranks a Node compile cache (MPI4TS_COMPILE_CACHE=0: off). */
  compileCache: boolean;
  /** The compile cache folder the user set (NODE_COMPILE_CACHE), which ranks keep; null when unset. */
  nodeCompileCache: string | null;
  /** `mpi4ts run`'s time-out when --timeout is not given (MPIEXEC_TIMEOUT, seconds, as Hydra and Open MPI read it), or null. */
  mpiexecTimeout: number | null;
  /**
   * Where `mpi4ts bench` draws its progress line (MPI4TS_BENCH_PROGRESS):
   * "auto" on the launcher's stdout when it is a terminal, else on its
   * stderr when that is one, else nowhere; "off" never; "stdout" or
   * "stderr" on that stream whatever it is (what tests use to see it
   * through a pipe).
   */
  benchProgress: 'auto' | 'off' | 'stdout' | 'stderr';
  /**
   * Capture a stack at every MPI call, so hang reports say where each
   * pending operation was called (MPI4TS_DEBUG_CALLS=1, `mpi4ts run
   * --debug-calls`). Off by default: a capture costs about a microsecond per call.
   */
  debugCalls: boolean;
  /**
   * How long a rank whose program has ended with operations still pending
   * (nothing waits for them, nothing else is left to run) waits before it
   * reports them and ends the job with an error (MPI4TS_PENDING_GRACE_MS; 0: never).
   */
  pendingGraceMs: number;
  /** `mpi4ts run` looks for deadlocks after each second of quiet (MPI4TS_DEADLOCK_CHECK=0, --no-deadlock-check: off). */
  deadlockCheck: boolean;
  /** `mpi4ts run` prints a hang report when no rank has made progress for this many seconds (MPI4TS_HANG_REPORT, --hang-report), or null. */
  hangReportSeconds: number | null;
  /** `mpi4ts doctor`'s power check reads this file instead of the Pi firmware's get_throttled (MPI4TS_DOCTOR_THROTTLED_FILE; for tests). */
  doctorThrottledFile: string | null;
  /** `mpi4ts doctor`'s power check runs this instead of vcgencmd (MPI4TS_DOCTOR_VCGENCMD; for tests). */
  doctorVcgencmd: string | null;
  /** Rendezvous payloads between ranks of one host written straight into the receiver's buffer (MPI4TS_CMA, Linux, koffi). */
  cma: boolean;
  /** Smallest rendezvous payload offered a direct write (MPI4TS_CMA_MIN_BYTES): below it the ring's copy costs less than the system call. */
  cmaMinBytes: number;
  /** Largest one copied by the sender alone (MPI4TS_CMA_MAX_BYTES): above it the ring's two copies, pipelined on two cores, are as fast or faster. */
  cmaMaxBytes: number;
  /**
   * Smallest direct payload split between the sender's write and the receiver's read, two cores copying at once, on a host
   * with a core per rank (MPI4TS_CMA_SPLIT_MIN_BYTES; 0: never). Split payloads have no upper bound.
   */
  cmaSplitMinBytes: number;
  /** Record this rank's MPI calls and messages for the launcher's timeline (MPI4TS_TRACE, set by mpi4ts run --trace). */
  trace: boolean;
  /** Keep this rank's totals of MPI calls and messages for the launcher's profile (MPI4TS_PROFILE, set by mpi4ts run --profile). */
  profile: boolean;
  /** Events a traced rank keeps at most (MPI4TS_TRACE_MAX_EVENTS, default DEFAULT_TRACE_MAX_EVENTS). */
  traceMaxEvents: number;
  /** Ranks 1..N-1 serve rank 0's task pool and never run the program's body (MPI4TS_POOL, set by mpi4ts run --pool). */
  pool: boolean;
  /**
   * How long a spawn under Hydra waits for its children to report (MPI4TS_SPAWN_TIMEOUT, seconds): Hydra tells the parents
   * nothing of a child that exits 0 without importing mpi4ts, so only a limit ends that wait.
   */
  spawnTimeoutMs: number;
}

export type AllreduceAlgorithm = 'doubling' | 'rabenseifner' | 'ring';
export type BcastAlgorithm = 'binomial' | 'scatter-allgather';
export type AlltoallAlgorithm = 'pairwise' | 'bruck';

const ALLREDUCE_ALGORITHMS = {
  auto: '"auto" (by size and rank count, the default)',
  doubling: '"doubling"',
  rabenseifner: '"rabenseifner"',
  ring: '"ring"',
} as const;
const BCAST_ALGORITHMS = {
  auto: '"auto" (by size and rank count, the default)',
  binomial: '"binomial"',
  'scatter-allgather': '"scatter-allgather"',
} as const;
const ALLTOALL_ALGORITHMS = {
  auto: '"auto" (by rank count, the default)',
  pairwise: '"pairwise"',
  bruck: '"bruck"',
} as const;

/** What all senders together may have in flight to one rank by default (the memory bound for unexpected eager data). */
export const EAGER_CREDIT_TOTAL = 256 * 1024 * 1024;
/** Most one sender may have in flight by default: a window of 64 eager 64 KiB messages (OSU bw) and room to spare. */
export const EAGER_CREDIT_MAX = 8 * 1024 * 1024;

/**
 * The default eager credit for a job of `size` ranks: an even share of
 * EAGER_CREDIT_TOTAL, at most EAGER_CREDIT_MAX, and room for two messages
 * of the eager limit at least (so that eager messages still flow in a job of
 * thousands of ranks).
 */
export function defaultEagerCredit(size: number, eagerLimit: number): number {
  const share = Math.floor(EAGER_CREDIT_TOTAL / Math.max(1, size - 1));
  return Math.max(2 * (eagerLimit + 32), Math.min(EAGER_CREDIT_MAX, share));
}

/**
 * 64 KiB and 1 KiB of slack: a 64 KiB array with a little object around it
 * (a few bytes in the plain format or structured clone) still goes eagerly.
 * Over rendezvous it ran at 1.0-1.1 GB/s, eagerly at 1.6-2.0 GB/s
 * (`mpi4ts bench bw -m 65536:65536`, object path, shared memory).
 */
export const DEFAULT_EAGER_LIMIT = 65 * 1024;
export const DEFAULT_POLL_MICROS = 10_000;
export const DEFAULT_SHM_RING_KB = 1024;

/** 64 KiB: below it the recursive-doubling allreduce's fewer steps win; above it the ring's halved bytes do. */
export const DEFAULT_RING_MIN_BYTES = 64 * 1024;
export const DEFAULT_RENDEZVOUS_TIMEOUT_MS = 60_000;
/**
 * 8 KiB: rendezvous payloads below it (small ssends) go through the ring.
 * With every message by rendezvous (MPI4TS_EAGER_LIMIT=0) the direct write
 * was level with the ring at 4 KiB (4.0-4.3 us a round trip against
 * 4.4-4.7) and ahead from 8 KiB (4.0-4.6 against 4.7-5.1; 64 KiB 6.4-6.6
 * against 10.0-10.7), `mpi4ts bench latency --typed -m 1024:131072`.
 */
export const DEFAULT_CMA_MIN_BYTES = 8 * 1024;
/**
 * 2 MiB: up to 1 MiB the direct write took half the time of the ring
 * (1 MiB round trip 64 us against 150), at 2 MiB as long, at 4 MiB and
 * 8 MiB longer (394 against 364 us, 846 against 729): one copy that leaves
 * the caches loses to two that stay in them, pipelined on two cores
 * (`mpi4ts bench latency --typed -m 131072:8388608` with MPI4TS_CMA=0 and
 * 1, 2-core VM with 2 MiB of L2 per core).
 */
export const DEFAULT_CMA_MAX_BYTES = 2 * 1024 * 1024;
/**
 * 200 us: 4 ranks on 2 cores, small bcast 17-20 us instead of 44-52 with no
 * window, barrier 19-26 instead of 77-82, allreduce of 8 B 37-41 instead of
 * 110-117 (1000 us was no better); a rank blocked 3 s used 4.7-5.2 ms of CPU.
 */
export const DEFAULT_OVERSUB_POLL_MICROS = 200;
export const DEFAULT_CMA_SPLIT_MIN_BYTES = 1024 * 1024;
/**
 * Events a rank keeps for --trace: the launcher holds every rank's until the
 * end, about 150 bytes each, so 128 ranks at this bound take some 2 GB at
 * most; a longer run keeps its first events and counts the rest as dropped.
 */
export const DEFAULT_TRACE_MAX_EVENTS = 100_000;
/** Long enough for a peer's message already on its way; short enough that an ended program does not seem to hang. */
export const DEFAULT_PENDING_GRACE_MS = 1500;
/** Long enough for children that start on other hosts over ssh and compile TypeScript on a Pi. */
export const DEFAULT_SPAWN_TIMEOUT_MS = 120_000;

export function readOptions(env: NodeJS.ProcessEnv = process.env): Options {
  const transport = choiceVar(env, 'MPI4TS_TRANSPORT', TRANSPORTS, 'auto');
  const pmi = choiceVar(env, 'MPI4TS_PMI', PMI_VERSIONS, null);
  return {
    eagerLimit: intVar(env, 'MPI4TS_EAGER_LIMIT', DEFAULT_EAGER_LIMIT, 0, 64 * 1024 * 1024),
    pollMicros: intVar(env, 'MPI4TS_POLL_US', DEFAULT_POLL_MICROS, 0, 60_000_000),
    oversubscribedPollMicros: intVar(env, 'MPI4TS_OVERSUB_POLL_US', DEFAULT_OVERSUB_POLL_MICROS, 0, 60_000_000),
    forceTcp: transport === 'tcp',
    useShm: transport === 'auto',
    shmRingBytes: powerOfTwoVar(env, 'MPI4TS_SHM_RING_KB', DEFAULT_SHM_RING_KB, 4, 1024 * 1024) * 1024,
    portRange: portRangeVar(env),
    directRead: switchVar(env, 'MPI4TS_DIRECT_READ', true),
    socketPoll: switchVar(env, 'MPI4TS_SOCKET_POLL', true),
    eagerCredit: textVar(env, 'MPI4TS_EAGER_CREDIT') === null ? null : intVar(env, 'MPI4TS_EAGER_CREDIT', 0, 0, 2 ** 31),
    ringMinBytes: intVar(env, 'MPI4TS_RING_MIN_BYTES', DEFAULT_RING_MIN_BYTES, 0, Number.MAX_SAFE_INTEGER),
    allreduceAlgorithm: choiceVar(env, 'MPI4TS_ALGO_ALLREDUCE', ALLREDUCE_ALGORITHMS, 'auto'),
    bcastAlgorithm: choiceVar(env, 'MPI4TS_ALGO_BCAST', BCAST_ALGORITHMS, 'auto'),
    alltoallAlgorithm: choiceVar(env, 'MPI4TS_ALGO_ALLTOALL', ALLTOALL_ALGORITHMS, 'auto'),
    twoLevel: switchVar(env, 'MPI4TS_TWO_LEVEL', true),
    hostCollectives: switchVar(env, 'MPI4TS_HOST_COLL', true),
    plainCodec: switchVar(env, 'MPI4TS_PLAIN_CODEC', true),
    pmi: pmi === null ? null : pmi === '1' ? 1 : 2,
    pmixLib: textVar(env, 'MPI4TS_PMIX_LIB'),
    hostAddress: textVar(env, 'MPI4TS_HOST_ADDRESS'),
    rendezvousTimeoutMs: secondsVar(env, 'MPI4TS_RENDEZVOUS_TIMEOUT', DEFAULT_RENDEZVOUS_TIMEOUT_MS / 1000) * 1000,
    ssh: textVar(env, 'MPI4TS_SSH'),
    typescript: choiceVar(env, 'MPI4TS_TYPESCRIPT', TYPESCRIPT_RUNNERS, 'auto'),
    compileCache: switchVar(env, 'MPI4TS_COMPILE_CACHE', true) && textVar(env, 'NODE_DISABLE_COMPILE_CACHE') === null,
    nodeCompileCache: textVar(env, 'NODE_COMPILE_CACHE'),
    mpiexecTimeout: textVar(env, 'MPIEXEC_TIMEOUT') === null ? null : secondsVar(env, 'MPIEXEC_TIMEOUT', 1),
    benchProgress: choiceVar(env, 'MPI4TS_BENCH_PROGRESS', BENCH_PROGRESS, 'auto'),
    debugCalls: switchVar(env, 'MPI4TS_DEBUG_CALLS', false),
    pendingGraceMs: intVar(env, 'MPI4TS_PENDING_GRACE_MS', DEFAULT_PENDING_GRACE_MS, 0, 3_600_000),
    deadlockCheck: switchVar(env, 'MPI4TS_DEADLOCK_CHECK', true),
    hangReportSeconds: textVar(env, 'MPI4TS_HANG_REPORT') === null ? null : secondsVar(env, 'MPI4TS_HANG_REPORT', 1),
    doctorThrottledFile: textVar(env, 'MPI4TS_DOCTOR_THROTTLED_FILE'),
    doctorVcgencmd: textVar(env, 'MPI4TS_DOCTOR_VCGENCMD'),
    cma: switchVar(env, 'MPI4TS_CMA', true),
    cmaMinBytes: intVar(env, 'MPI4TS_CMA_MIN_BYTES', DEFAULT_CMA_MIN_BYTES, 0, Number.MAX_SAFE_INTEGER),
    cmaMaxBytes: intVar(env, 'MPI4TS_CMA_MAX_BYTES', DEFAULT_CMA_MAX_BYTES, 0, Number.MAX_SAFE_INTEGER),
    cmaSplitMinBytes: intVar(env, 'MPI4TS_CMA_SPLIT_MIN_BYTES', DEFAULT_CMA_SPLIT_MIN_BYTES, 0, Number.MAX_SAFE_INTEGER),
    trace: switchVar(env, 'MPI4TS_TRACE', false),
    profile: switchVar(env, 'MPI4TS_PROFILE', false),
    traceMaxEvents: intVar(env, 'MPI4TS_TRACE_MAX_EVENTS', DEFAULT_TRACE_MAX_EVENTS, 1000, 100_000_000),
    pool: switchVar(env, 'MPI4TS_POOL', false),
    spawnTimeoutMs: secondsVar(env, 'MPI4TS_SPAWN_TIMEOUT', DEFAULT_SPAWN_TIMEOUT_MS / 1000) * 1000,
  };
}

let processOptions: Options | null = null;

/** The tunables of this process, read from process.env on first use and kept. */
export function options(): Options {
  processOptions ??= readOptions(process.env);
  return processOptions;
}

/** The tunables of `env`: this process's, read once, when it is process.env (tests pass their own). */
export function optionsOf(env: NodeJS.ProcessEnv): Options {
  return env === process.env ? options() : readOptions(env);
}

const TYPESCRIPT_RUNNERS = {
  auto: '"auto" (Node alone where it can strip the types, else tsx)',
  node: '"node" (Node\'s own type stripping, Node 22.18+)',
  tsx: '"tsx"',
};

const BENCH_PROGRESS = {
  auto: '"auto" (on a terminal: stdout if it is one, else stderr)',
  off: '"off"',
  stdout: '"stdout"',
  stderr: '"stderr"',
};

const TRANSPORTS = {
  auto: '"auto"',
  unix: '"unix" (sockets, no shared memory)',
  tcp: '"tcp"',
} as const;
const PMI_VERSIONS = {
  1: '1 (PMI-1, MPICH Hydra)',
  2: '2 (PMI-2, srun --mpi=pmi2)',
} as const;

/** The variable's text, or null when it is unset or empty (both mean "the default"). */
export function textVar(env: NodeJS.ProcessEnv, name: string): string | null {
  const text = env[name];
  return text === undefined || text === '' ? null : text;
}

/** An integer tunable from `min` to `max`, `fallback` when unset. */
export function intVar(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const text = textVar(env, name);
  if (text === null) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new JobError(`${name}="${text}" must be an integer from ${min} to ${max}`);
  }
  return value;
}

/**
 * An integer a launcher sets (MPI4TS_RANK, PMI_SIZE, SLURM_PROCID...): it
 * must be there. `setBy` names who should have set it, for the message.
 */
export function requiredIntVar(env: NodeJS.ProcessEnv, name: string, min: number, setBy = ''): number {
  const text = env[name] ?? '';
  const value = Number(text);
  if (text === '' || !Number.isInteger(value) || value < min) {
    throw new JobError(`${name}="${text}" must be an integer >= ${min}${setBy === '' ? '' : ` (set by ${setBy})`}`);
  }
  return value;
}

/** 0 (off) or 1 (on). */
export function switchVar(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const text = textVar(env, name);
  if (text === null) return fallback;
  if (text === '0' || text === '1') return text === '1';
  throw new JobError(`${name}="${text}" must be ${fallback ? '0 (off) or 1 (on, the default)' : '0 (off, the default) or 1 (on)'}`);
}

/** One of the keys of `choices` (whose values say what each means, for the message), `fallback` when unset. */
export function choiceVar<K extends string, F>(env: NodeJS.ProcessEnv, name: string, choices: Record<K, string>, fallback: F): K | F {
  const text = textVar(env, name);
  if (text === null) return fallback;
  if (Object.hasOwn(choices, text)) return text as K;
  const allowed = Object.values<string>(choices);
  throw new JobError(`${name}="${text}" must be ${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1) ?? ''}`);
}

/** A positive number of seconds. */
export function secondsVar(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = textVar(env, name);
  if (text === null) return fallback;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new JobError(`${name}="${text}" must be a positive number of seconds`);
  return seconds;
}

function powerOfTwoVar(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const value = intVar(env, name, fallback, min, max);
  if ((value & (value - 1)) !== 0) throw new JobError(`${name}="${env[name] ?? ''}" must be a power of two from ${min} to ${max}`);
  return value;
}

/** Parses "LO-HI"; shared with the launcher's --port-range. */
export function parsePortRange(text: string, what: string): [number, number] {
  const match = /^(\d+)-(\d+)$/.exec(text);
  const lo = Number(match?.[1]);
  const hi = Number(match?.[2]);
  if (match === null || lo < 1 || hi > 65535 || lo > hi) {
    throw new JobError(`${what} "${text}" must be LO-HI with 1 <= LO <= HI <= 65535`);
  }
  return [lo, hi];
}

function portRangeVar(env: NodeJS.ProcessEnv): [number, number] | null {
  const text = textVar(env, 'MPI4TS_PORT_RANGE');
  return text === null ? null : parsePortRange(text, 'MPI4TS_PORT_RANGE');
}
