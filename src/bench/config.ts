/**
 * What one benchmark run does, as parsed from `mpi4ts bench` options and
 * handed to every rank (as JSON on the command line). OSU's option letters:
 * -m MIN:MAX, -i ITER, -x WARMUP, -W WINDOW, -f (full: min/max columns).
 */
import { UsageError } from '../base/index.js';
import { messageSizes, testInfo, TESTS, type TestName } from './tests.js';

export interface BenchConfig {
  test: TestName;
  /** Send + recvInto of Uint8Array (true) or send/recv of plain values (false). */
  typed: boolean;
  sizes: number[];
  /** null: OSU's default for each size. */
  iterations: number | null;
  warmup: number | null;
  /** Messages in flight per iteration of bw/bibw. */
  window: number;
  /** Print min/max latency and iterations for collectives (OSU -f). */
  full: boolean;
  json: boolean;
  /** Absolute path of the SVG to write, or null. */
  plot: string | null;
}

export const DEFAULT_WINDOW = 64;
/** The largest message a run may ask for: 1 GiB, far beyond OSU's 4 MiB default. */
export const MAX_MESSAGE = 1 << 30;

export interface BenchFlags {
  test: string | undefined;
  sizes?: string;
  iterations?: string;
  warmup?: string;
  window?: string;
  typed?: boolean;
  full?: boolean;
  json?: boolean;
  plot?: string;
}

export function benchConfig(flags: BenchFlags, resolvePath: (p: string) => string): BenchConfig {
  if (flags.test === undefined) throw new UsageError(`which test? one of ${TESTS.map((t) => t.name).join(', ')}`);
  const info = testInfo(flags.test);
  if (info === undefined) throw new UsageError(`unknown test "${flags.test}"; tests are ${TESTS.map((t) => t.name).join(', ')}`);
  if (!info.sized && flags.plot !== undefined) throw new UsageError(`--plot draws latency against message size; ${info.name} has no message size`);
  const [min, max] = flags.sizes === undefined ? [info.minSize, info.maxSize] : sizeRange(flags.sizes);
  // Reductions work on whole floats, as OSU's do: sizes below one element are skipped.
  const sizes = info.sized ? messageSizes(info.elementBytes > 1 ? Math.max(min, info.elementBytes) : min, max) : [0];
  if (sizes.length === 0) {
    throw new UsageError(`-m ${flags.sizes}: no message size of at least ${info.elementBytes} B for ${info.name}`);
  }
  return {
    test: info.name,
    typed: flags.typed === true || info.typedOnly === true,
    sizes,
    iterations: flags.iterations === undefined ? null : count(flags.iterations, '-i', 1),
    warmup: flags.warmup === undefined ? null : count(flags.warmup, '-x', 0),
    window: flags.window === undefined ? DEFAULT_WINDOW : count(flags.window, '-W', 1, 1_000_000),
    full: flags.full === true,
    json: flags.json === true,
    plot: flags.plot === undefined ? null : svgPath(flags.plot, resolvePath),
  };
}

/** "MIN:MAX", "MAX" or "MIN:" as OSU's -m takes them. */
export function sizeRange(text: string): [number, number] {
  const match = /^(\d*)(?::(\d*))?$/.exec(text.trim());
  if (match === null || (match[1] === '' && (match[2] ?? '') === '')) {
    throw new UsageError(`-m must be MIN:MAX, MAX or MIN: in bytes (e.g. -m 1:4194304), got "${text}"`);
  }
  const hasColon = match[2] !== undefined;
  const first = match[1] === '' ? null : Number(match[1]);
  const second = match[2] === undefined || match[2] === '' ? null : Number(match[2]);
  const min = hasColon ? first ?? 0 : 0;
  const max = hasColon ? second ?? 4 * 1024 * 1024 : first!;
  if (max > MAX_MESSAGE) throw new UsageError(`-m "${text}": the largest size allowed is ${MAX_MESSAGE} B`);
  if (min > max) throw new UsageError(`-m "${text}": MIN ${min} is larger than MAX ${max}`);
  return [min, max];
}

function count(text: string, option: string, min: number, max = 100_000_000): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${option} must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return n;
}

function svgPath(text: string, resolvePath: (p: string) => string): string {
  if (!text.toLowerCase().endsWith('.svg')) throw new UsageError(`--plot writes an SVG file; name it *.svg, got "${text}"`);
  return resolvePath(text);
}
