/**
 * Tunables, each read from an `MPI4TS_*` environment variable (documented in
 * README "Tuning"). Bad values are errors that name the variable.
 */
import { JobError } from '../base/index.js';

export interface RuntimeOptions {
  /** Messages up to this many bytes go eagerly; larger ones by rendezvous. */
  eagerLimit: number;
  /** Spin this long after the last activity before sleeping; 0 never spins. */
  pollMicros: number;
  /**
   * The same on a host with more ranks than cores (MPI4TS_OVERSUB_POLL_US),
   * where the spin yields the core every 16 empty polls from the first.
   * Default 0: such a host never spins, so no rank takes a core another needs.
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
}

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

export function readOptions(env: NodeJS.ProcessEnv = process.env): RuntimeOptions {
  return {
    eagerLimit: intOption(env, 'MPI4TS_EAGER_LIMIT', DEFAULT_EAGER_LIMIT, 0, 64 * 1024 * 1024),
    pollMicros: intOption(env, 'MPI4TS_POLL_US', DEFAULT_POLL_MICROS, 0, 60_000_000),
    oversubscribedPollMicros: intOption(env, 'MPI4TS_OVERSUB_POLL_US', 0, 0, 60_000_000),
    forceTcp: transportOption(env) === 'tcp',
    useShm: transportOption(env) === 'auto',
    shmRingBytes: powerOfTwoOption(env, 'MPI4TS_SHM_RING_KB', DEFAULT_SHM_RING_KB, 4, 1024 * 1024) * 1024,
    portRange: portRangeOption(env),
    directRead: intOption(env, 'MPI4TS_DIRECT_READ', 1, 0, 1) === 1,
    socketPoll: intOption(env, 'MPI4TS_SOCKET_POLL', 1, 0, 1) === 1,
    eagerCredit: env.MPI4TS_EAGER_CREDIT === undefined || env.MPI4TS_EAGER_CREDIT === ''
      ? null : intOption(env, 'MPI4TS_EAGER_CREDIT', 0, 0, 2 ** 31),
  };
}

function intOption(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new JobError(`${name}="${text}" must be an integer from ${min} to ${max}`);
  }
  return value;
}

/** auto: shared memory, else Unix sockets, on one host; unix: sockets only; tcp: TCP only. */
function transportOption(env: NodeJS.ProcessEnv): 'auto' | 'unix' | 'tcp' {
  const text = env.MPI4TS_TRANSPORT ?? 'auto';
  if (text === 'auto' || text === '') return 'auto';
  if (text === 'unix' || text === 'tcp') return text;
  throw new JobError(`MPI4TS_TRANSPORT="${text}" must be "auto", "unix" (sockets, no shared memory) or "tcp"`);
}

function powerOfTwoOption(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const value = intOption(env, name, fallback, min, max);
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

function portRangeOption(env: NodeJS.ProcessEnv): [number, number] | null {
  const text = env.MPI4TS_PORT_RANGE;
  return text === undefined || text === '' ? null : parsePortRange(text, 'MPI4TS_PORT_RANGE');
}
