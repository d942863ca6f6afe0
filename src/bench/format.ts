/**
 * Output in the OSU Micro-Benchmarks layout, so a run can be pasted beside
 * C OSU results: a "# <title>" line, a column header, then one row per size
 * with the size left-aligned in 10 columns and each figure right-aligned in
 * 20 with 2 decimals (osu_util.h FIELD_WIDTH and FLOAT_PRECISION).
 */
import type { BenchConfig } from './config.js';
import type { TestInfo } from './tests.js';

export const SIZE_WIDTH = 10;
export const FIELD_WIDTH = 20;
export const ITERATIONS_WIDTH = 12;
export const FLOAT_PRECISION = 2;

export interface Row {
  /** Message size in bytes (0 for barrier). */
  size: number;
  /** Latency in us or bandwidth in MB/s (10^6 bytes per second, as OSU). */
  value: number;
  /** Collectives: the extremes of the per-rank averages. */
  min?: number;
  max?: number;
  iterations: number;
}

export interface RunDescription {
  info: TestInfo;
  config: BenchConfig;
  version: string;
  ranks: number;
  transport: string;
}

export function pathName(typed: boolean, collective = false): string {
  if (collective) return typed ? 'typed path, Uint8Array values (Float32Array for reductions)' : 'object path, plain object values';
  return typed ? 'typed path, send + recvInto of Uint8Array' : 'object path, send/recv of values';
}

/** The two header lines. */
export function header(run: RunDescription): string {
  const title = `# ${run.info.title}: mpi4ts ${run.version} (${pathName(run.config.typed, run.info.family === 'collective')}, ${run.ranks} ranks, ${run.transport})`;
  const window = run.info.family === 'bandwidth' ? `\n# Window size: ${run.config.window}` : '';
  return `${title}${window}\n${columnHeader(run.info, run.config.full)}\n`;
}

export function columnHeader(info: TestInfo, full: boolean): string {
  if (info.family === 'collective') {
    const extra = full ? `${'Min Latency(us)'.padStart(FIELD_WIDTH)}${'Max Latency(us)'.padStart(FIELD_WIDTH)}${'Iterations'.padStart(ITERATIONS_WIDTH)}` : '';
    if (!info.sized) return `# Avg Latency(us)${extra}`;
    return `${'# Size'.padEnd(SIZE_WIDTH)}${'Avg Latency(us)'.padStart(FIELD_WIDTH)}${extra}`;
  }
  const name = info.unit === 'us' ? 'Latency (us)' : 'Bandwidth (MB/s)';
  return `${'# Size'.padEnd(SIZE_WIDTH)}${name.padStart(FIELD_WIDTH)}`;
}

export function formatRow(info: TestInfo, full: boolean, row: Row): string {
  const figure = (x: number): string => x.toFixed(FLOAT_PRECISION).padStart(FIELD_WIDTH);
  const extra = info.family === 'collective' && full
    ? `${figure(row.min ?? row.value)}${figure(row.max ?? row.value)}${String(row.iterations).padStart(ITERATIONS_WIDTH)}`
    : '';
  if (!info.sized) return `${row.value.toFixed(FLOAT_PRECISION).padStart('# Avg Latency(us)'.length)}${extra}`;
  return `${String(row.size).padEnd(SIZE_WIDTH)}${figure(row.value)}${extra}`;
}

/** The machine-readable result of a whole run (--json). */
export function jsonReport(run: RunDescription, rows: Row[]): string {
  return JSON.stringify({
    benchmark: run.info.title,
    test: run.info.name,
    osu: run.info.osu,
    label: run.config.label,
    implementation: 'mpi4ts',
    version: run.version,
    path: run.config.typed ? 'typed' : 'object',
    ranks: run.ranks,
    transport: run.transport,
    window: run.info.family === 'bandwidth' ? run.config.window : undefined,
    unit: run.info.unit,
    results: rows,
  });
}
