/**
 * `mpi4ts bench TEST [options]`: the OSU micro-benchmarks on mpi4ts. It
 * starts its own job through `mpi4ts run` (2 ranks unless -n says
 * otherwise), so every placement option of run (-n, --hostfile, ...) works
 * here too; OSU's letters win where they clash (-x is the warm-up count
 * here, so environment goes with --env). Tests go by our names or OSU's
 * program names (osu_latency). The launcher runs in this process, so this is
 * where its stdout and stderr can be seen to be a terminal: the ranks' are
 * pipes to it. That answer goes to the ranks in the BenchConfig (progress).
 */
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { options as processOptions, UsageError } from '../base/index.js';
import { benchConfig, DEFAULT_WINDOW, progressStream, TESTS, type BenchConfig, type ProgressSetting, type Terminal } from '../bench/index.js';
import { helpText, parseOptions, type OptionSpec, type Parsed } from './args.js';
import { RUN_OPTIONS, runCommand } from './run.js';

export const BENCH_OPTIONS: OptionSpec[] = [
  { names: ['-m', '--message-size'], key: 'sizes', value: 'one', meta: 'MIN:MAX', help: 'message sizes in bytes, doubling from MIN to MAX (OSU -m)' },
  { names: ['-i', '--iterations'], key: 'iterations', value: 'one', meta: 'ITER', help: 'timed iterations per size (default: OSU\'s, fewer above 8 KiB)' },
  { names: ['-x', '--warmup'], key: 'warmup', value: 'one', meta: 'WARMUP', help: 'untimed iterations before timing (default: OSU\'s)' },
  { names: ['-W', '--window-size'], key: 'window', value: 'one', meta: 'WINDOW', help: `messages in flight per iteration of bw/bibw (default ${DEFAULT_WINDOW})` },
  { names: ['--typed', '-t'], key: 'typed', value: 'none', help: 'typed-array path: send + recvInto of Uint8Array (default: send/recv of values)' },
  { names: ['-f', '--full'], key: 'full', value: 'none', help: 'collectives: also print min/max latency over ranks and iterations' },
  { names: ['--json'], key: 'json', value: 'none', help: 'print one JSON document instead of the OSU table' },
  { names: ['--plot'], key: 'plot', value: 'one', meta: 'FILE.svg', help: 'also draw the curve (log-log) into FILE.svg' },
  { names: ['--compare'], key: 'compare', value: 'many', meta: 'RUN.json', help: 'with --plot: draw the run that --json wrote to RUN.json beside this one (repeatable)' },
  { names: ['--label'], key: 'label', value: 'one', meta: 'NAME', help: 'this run\'s name in the plot\'s legend and in --json (default "mpi4ts typed" or "mpi4ts object")' },
  { names: ['-h', '--help'], key: 'help', value: 'none', help: 'show this help' },
];

/** run's options that keep their meaning under bench: all but those whose spelling OSU's letters take. */
export function passThroughOptions(): OptionSpec[] {
  const taken = new Set(BENCH_OPTIONS.flatMap((s) => s.names));
  return RUN_OPTIONS
    .map((spec) => ({ ...spec, names: spec.names.filter((n) => !taken.has(n)) }))
    .filter((spec) => spec.names.length > 0 && spec.key !== 'help');
}

const USAGE = `Usage: mpi4ts bench TEST [options]
Tests: ${TESTS.map((t) => t.name).join(', ')}
  or by OSU's program names: ${TESTS.map((t) => t.osu).join(', ')}
Starts 2 ranks unless -n says otherwise; run's options (-n, --timeout, --env, ...) apply.
On a terminal a progress line shows the size running (MPI4TS_BENCH_PROGRESS=off: none);
piped output, --json and --tag-output never have it.`;

export interface BenchInvocation {
  config: BenchConfig;
  /** Arguments for `mpi4ts run`, before the rank program. */
  runArgs: string[];
}

/** What the progress line needs to know of this process: whether its streams are terminals, and MPI4TS_BENCH_PROGRESS. */
export interface ProgressContext {
  terminal: Terminal;
  setting: ProgressSetting;
}

/** No terminal: what tests that parse arguments see. */
const NO_TERMINAL: ProgressContext = { terminal: { stdout: false, stderr: false }, setting: 'auto' };

/** Splits the command line into the benchmark's settings and run's options. */
export function parseBenchArgs(argv: string[], cwd: string, progress: ProgressContext = NO_TERMINAL): BenchInvocation | 'help' {
  const runSpecs = passThroughOptions();
  const specs = [...BENCH_OPTIONS, ...runSpecs];
  // Options may come before and after the test name, as OSU users type them.
  const before = parseOptions(argv, specs, 'bench');
  const after = parseOptions(before.rest.slice(1), specs, 'bench');
  const options = mergeOptions(before.options, after.options);
  const rest = before.rest.slice(0, 1);
  if (options.has('help')) return 'help';
  if (after.rest.length > 0) throw new UsageError(`bench runs one test; unexpected "${after.rest.join(' ')}" after "${rest[0]}"`);
  const text = (key: string): string | undefined => options.get(key) as string | undefined;
  const config = benchConfig({
    test: rest[0],
    sizes: text('sizes'),
    iterations: text('iterations'),
    warmup: text('warmup'),
    window: text('window'),
    typed: options.has('typed'),
    full: options.has('full'),
    json: options.has('json'),
    plot: text('plot'),
    label: text('label'),
    compare: options.get('compare') as string[] | undefined,
    // --tag-output forwards whole lines only, each with its prefix, which a line drawn in place would draw over.
    progress: options.has('tagOutput') ? null : progressStream(progress.setting, progress.terminal, options.has('json')),
  }, (p) => resolve(cwd, p));
  const runArgs: string[] = [];
  // Several specs may share a key (--env and -genv): pass each key's values once, under its first spelling.
  const passed = new Set<string>();
  for (const spec of runSpecs) {
    const value = options.get(spec.key);
    if (value === undefined || passed.has(spec.key)) continue;
    passed.add(spec.key);
    const name = spec.names[0]!;
    if (value === true) runArgs.push(name);
    else for (const item of Array.isArray(value) ? value : [value]) runArgs.push(name, item);
  }
  if (!options.has('np')) runArgs.unshift('-n', '2');
  return { config, runArgs };
}

/** The rank program, next to this file in dist/. */
function workerPath(): string {
  return fileURLToPath(new URL('../bench/worker.js', import.meta.url));
}

export async function benchCommand(argv: string[]): Promise<number> {
  const parsed = parseBenchArgs(argv, process.cwd(), {
    terminal: { stdout: process.stdout.isTTY === true, stderr: process.stderr.isTTY === true },
    setting: processOptions().benchProgress,
  });
  if (parsed === 'help') {
    process.stdout.write(helpText(USAGE, [...BENCH_OPTIONS, ...passThroughOptions()]));
    return 0;
  }
  return runCommand([...parsed.runArgs, '--', workerPath(), JSON.stringify(parsed.config)]);
}

function mergeOptions(first: Parsed['options'], second: Parsed['options']): Parsed['options'] {
  const merged = new Map(first);
  for (const [key, value] of second) {
    const earlier = merged.get(key);
    merged.set(key, Array.isArray(earlier) && Array.isArray(value) ? [...earlier, ...value] : value);
  }
  return merged;
}
