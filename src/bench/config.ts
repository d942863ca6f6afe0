/**
 * What one benchmark run does, as parsed from `mpi4ts bench` options and
 * handed to every rank (as JSON on the command line). OSU's option letters:
 * -m MIN:MAX, -i ITER, -x WARMUP, -W WINDOW, -f (full: min/max columns).
 */
import { UsageError } from '../base/index.js';
import { readOverlays, runLabel, type RunFile } from './overlay.js';
import type { ProgressStream } from './progress.js';
import type { Series } from './svg.js';
import { messageSizes, testInfo, testNames, type TestInfo, type TestName } from './tests.js';

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
  /** This run's name in the plot's legend and in --json (--label, else "mpi4ts typed" or "mpi4ts object"). */
  label: string;
  /** Other runs' curves to draw beside this one (--compare), read and checked by the CLI. */
  overlays: Series[];
  /** Where rank 0 draws its progress line, decided by the CLI, which sees the terminal; null: nowhere. */
  progress: ProgressStream | null;
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
  label?: string;
  /** --compare files, as given. */
  compare?: string[];
  progress?: ProgressStream | null;
}

/** Reads the --compare files (as given, and resolved) into curves: readOverlays, or a test's stand-in. */
export type RunReader = (files: readonly RunFile[], info: TestInfo, thisRun: string) => Series[];

export function benchConfig(flags: BenchFlags, resolvePath: (p: string) => string, readRuns: RunReader = readOverlays): BenchConfig {
  if (flags.test === undefined) throw new UsageError(`which test? one of ${testNames()}`);
  const info = testInfo(flags.test);
  if (info === undefined) throw new UsageError(`${unknownTest(flags.test)}; tests are ${testNames()}`);
  if (!info.sized && flags.plot !== undefined) throw new UsageError(`--plot draws latency against message size; ${info.name} has no message size`);
  const compare = flags.compare ?? [];
  if (compare.length > 0 && flags.plot === undefined) {
    throw new UsageError(`--compare draws other runs beside this one in --plot's SVG; add --plot FILE.svg`);
  }
  if (flags.label?.trim() === '') throw new UsageError('--label needs a name for the legend, got ""');
  const [min, max] = flags.sizes === undefined ? [info.minSize, info.maxSize] : sizeRange(flags.sizes);
  const typed = flags.typed === true || info.typedOnly === true;
  const label = flags.label ?? runLabel('mpi4ts', typed ? 'typed' : 'object');
  // Reductions work on whole floats, as OSU's do: sizes below one element are skipped.
  const sizes = info.sized ? messageSizes(info.elementBytes > 1 ? Math.max(min, info.elementBytes) : min, max) : [0];
  if (sizes.length === 0) {
    throw new UsageError(`-m ${flags.sizes}: no message size of at least ${info.elementBytes} B for ${info.name}`);
  }
  return {
    test: info.name,
    typed,
    sizes,
    iterations: flags.iterations === undefined ? null : count(flags.iterations, '-i', 1),
    warmup: flags.warmup === undefined ? null : count(flags.warmup, '-x', 0),
    window: flags.window === undefined ? DEFAULT_WINDOW : count(flags.window, '-W', 1, 1_000_000),
    full: flags.full === true,
    json: flags.json === true,
    plot: flags.plot === undefined ? null : svgPath(flags.plot, resolvePath),
    label,
    overlays: compare.length === 0 ? [] : readRuns(compare.map((name) => ({ name, path: resolvePath(name) })), info, label),
    progress: flags.progress ?? null,
  };
}

/** "unknown test", or for a program of OSU's that mpi4ts bench lacks, says so. */
function unknownTest(name: string): string {
  return name.startsWith('osu_') ? `${name} is not one of OSU's tests that mpi4ts bench has` : `unknown test "${name}"`;
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
