/**
 * The rank program of `mpi4ts bench`: every rank runs it, with the run's
 * BenchConfig as JSON in argv[2]. Rank 0 prints the OSU header and a row per
 * size as it is measured (or one JSON document with --json), draws the
 * progress line where the CLI said a terminal is (progress.ts), and writes
 * the plot, with the other runs of --compare beside its own curve. A run the
 * ranks cannot do (wrong number of ranks, a collective this build lacks) is
 * refused identically on every rank, so none waits for ever.
 */
import { writeFileSync } from 'node:fs';
import * as MPI from '../index.js';
import type { Comm } from '../comm/index.js';
import type { BenchConfig } from './config.js';
import { runLatency } from './latency.js';
import { runBandwidth } from './bandwidth.js';
import { runCollective, type ReductionOps } from './collectives.js';
import { formatRow, header, jsonReport, type Row, type RunDescription } from './format.js';
import { testInfo, type TestInfo } from './tests.js';
import { chartSvg } from './svg.js';
import { ProgressLine } from './progress.js';

function ranksProblem(info: TestInfo, size: number): string | null {
  if (info.ranks === 'two' && size !== 2) return `${info.name} runs on exactly 2 ranks, got ${size} (use -n 2, or multi-lat for pairs)`;
  if (info.ranks === 'even' && size % 2 !== 0) return `${info.name} runs on an even number of ranks, got ${size}`;
  return null;
}

/** The transports this rank uses to reach the others ("unix", "tcp", ...), for the header. */
function transportName(): string {
  const kinds = new Set(MPI.runtimeInfo().transports.filter((k) => k !== 'self'));
  return kinds.size === 0 ? 'self' : [...kinds].join('+');
}

function reductionOps(): ReductionOps {
  const elementwiseSum = MPI.Op.create((a: number[], b: number[]) => a.map((x, i) => x + b[i]!), true);
  return { sum: MPI.SUM, elementwiseSum };
}

async function measure(comm: Comm, info: TestInfo, config: BenchConfig, emit: (row: Row) => void, progress: ProgressLine): Promise<void> {
  if (info.family === 'latency') return runLatency(comm, config, emit, progress);
  if (info.family === 'bandwidth') return runBandwidth(comm, config, emit, progress);
  return runCollective(comm, config, reductionOps(), emit, progress);
}

/**
 * V8 compiles a hot loop only after it has run a while, so OSU's few warm-up
 * iterations (-x) would time the interpreter at the first sizes. One untimed
 * pass at a small size first, long enough for the JIT, measures mpi4ts as a
 * program that has been running a moment is. Bandwidth tests also run a pass
 * at the largest eager size (64 KiB) when the sizes reach it: frames that
 * wrap around the shared-memory ring take code paths small ones never do, and
 * at -i 20 the first 64 KiB row measured 1-5 GB/s before them, 13-15 GB/s after.
 */
async function warmUpJit(comm: Comm, info: TestInfo, config: BenchConfig, progress: ProgressLine): Promise<void> {
  const first = Math.min(config.sizes[0] ?? 0, JIT_WARMUP.maxSize);
  const largest = config.sizes[config.sizes.length - 1] ?? 0;
  progress.name = `${info.osu} (JIT warm-up, untimed)`;
  await measure(comm, info, { ...config, sizes: [first], iterations: JIT_WARMUP[info.family], warmup: 0 }, () => {}, progress);
  if (info.family === 'bandwidth' && largest >= JIT_WARMUP.eagerSize) {
    await measure(comm, info, { ...config, sizes: [JIT_WARMUP.eagerSize], iterations: JIT_WARMUP.eagerWindows, warmup: 0 }, () => {}, progress);
  }
  progress.name = info.osu;
}

const JIT_WARMUP = { maxSize: 4096, latency: 50_000, bandwidth: 300, collective: 3000, eagerSize: 65536, eagerWindows: 200 } as const;

function plotTitle(run: RunDescription): string {
  if (run.config.overlays.length > 0) return `${run.info.title}: ${run.config.overlays.length + 1} runs`;
  return `${run.info.title}: mpi4ts ${run.version}, ${run.config.typed ? 'typed' : 'object'} path, ${run.ranks} ranks, ${run.transport}`;
}

/** Rank 0's progress line on the stream the CLI chose; on every other rank, and without one, a line that never draws. */
function progressLine(info: TestInfo, config: BenchConfig, lead: boolean): ProgressLine {
  const stream = !lead || config.progress === null ? null : config.progress === 'stdout' ? process.stdout : process.stderr;
  return new ProgressLine(info.osu, stream === null ? null : (text) => { stream.write(text); });
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '') as BenchConfig;
  const info = testInfo(config.test)!;
  const comm = MPI.COMM_WORLD;
  const problem = ranksProblem(info, comm.size);
  if (problem !== null) {
    if (comm.rank === 0) process.stderr.write(`mpi4ts bench: ${problem}\n`);
    process.exitCode = 2;
    return;
  }
  const run: RunDescription = { info, config, version: MPI.VERSION, ranks: comm.size, transport: transportName() };
  const lead = comm.rank === 0;
  const line = progressLine(info, config, lead);
  if (lead && !config.json) process.stdout.write(header(run));
  const rows: Row[] = [];
  try {
    await warmUpJit(comm, info, config, line);
    line.clear();
    await measure(comm, info, config, (row) => {
      rows.push(row);
      line.clear();
      if (lead && !config.json) process.stdout.write(`${formatRow(info, config.full, row)}\n`);
    }, line);
  } finally {
    // A refusal's message then starts on a blank line.
    line.clear();
  }
  if (!lead) return;
  if (config.json) process.stdout.write(`${jsonReport(run, rows)}\n`);
  if (config.plot !== null) {
    const yLabel = info.unit === 'us' ? 'Latency (us)' : 'Bandwidth (MB/s)';
    writeFileSync(config.plot, chartSvg({
      title: plotTitle(run),
      xLabel: 'Message size (bytes)',
      yLabel: info.family === 'collective' ? 'Avg latency (us)' : yLabel,
      series: [{ name: config.label, points: rows.map((r) => ({ x: r.size, y: r.value })) }, ...config.overlays],
    }));
  }
}

try {
  await main();
} catch (err) {
  // Every rank meets the same refusal; rank 0 says why.
  if (MPI.COMM_WORLD.rank === 0) process.stderr.write(`mpi4ts bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
}
