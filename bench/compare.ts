// The comparison harness of issue 5: the same OSU measurements with mpi4py
// (buffer and pickle paths, shared memory and TCP), with mpi4ts (typed and
// object paths, automatic transport and forced TCP) and with a raw Node Unix
// socket floor, in one go, printed as one table with each row's ratio to its
// mpi4py counterpart. It installs nothing: rows it cannot run are listed
// with the reason (for mpi4py: apt-get install python3-mpi4py).
// A second table compares collectives at 2 and 4 ranks: allreduce of 1M
// doubles (buffer / typed path) and bcast of a small object (pickle /
// structured clone), with bench/coll_mpi4py.py and bench/coll-mpi4ts.ts.
//   npm run bench:compare [-- --quick] [--timeout S] [--p2p | --coll] [--repeat N]
// Figures are measured one kind at a time (8 B latency, then 64 KiB, then
// 4 MiB), each mpi4ts row right after its mpi4py counterpart, so that a slow
// spell of the machine falls on both sides of a ratio. --repeat N measures the
// whole set N times over and prints each figure's median: on a VM whose speed
// changes from minute to minute, one pass may catch a row in a slow spell.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const ONLY_P2P = argv.includes('--p2p');
const ONLY_COLL = argv.includes('--coll');
const TIMEOUT_S = argv.includes('--timeout') ? Number(argv[argv.indexOf('--timeout') + 1]) : 900;
const REPEAT = repeatOption();

function repeatOption(): number {
  if (!argv.includes('--repeat')) return 1;
  const text = argv[argv.indexOf('--repeat') + 1];
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 9) {
    process.stderr.write(`bench:compare: --repeat ${String(text)}: give a whole number of passes from 1 to 9\n`);
    process.exit(2);
  }
  return value;
}

/** The middle value (the lower middle of an even count); undefined when there is none. */
function median(values: (number | undefined)[]): number | undefined {
  const known = values.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  return known.length === 0 ? undefined : known[Math.floor((known.length - 1) / 2)];
}

/**
 * -i/-x per measurement, for every row alike: ten times OSU's latency loops,
 * with 50000 warm-up round trips instead of 1000: V8 compiles the path of a
 * message in tiers, and a Node rank reaches its steady state only after some
 * 30000 round trips (before that, a few microseconds each); ten times OSU's large-message bandwidth loops at
 * 64 KiB, whose OSU run (20 windows) lasts about 10 ms here, so one pause of
 * the scheduler or the collector decides it; OSU's loops at 4 MiB (the pickle
 * rows move 0.1 GB/s). --quick: short runs.
 */
const LOOPS: Record<keyof Figures, string[]> = QUICK
  ? { latency8: ['-i', '1000', '-x', '50'], bw64k: ['-i', '5', '-x', '1'], bw4m: ['-i', '5', '-x', '1'] }
  : { latency8: ['-i', '100000', '-x', '50000'], bw64k: ['-i', '200', '-x', '20'], bw4m: ['-i', '20', '-x', '2'] };

interface Figures {
  latency8?: number;
  bw64k?: number;
  bw4m?: number;
}

interface RowSpec {
  name: string;
  /** Row whose figures this one is divided by. */
  reference?: string;
  /** One figure of the row (a run of its own). */
  measure(key: keyof Figures): Promise<number | undefined>;
}

const FIGURE_KEYS = ['latency8', 'bw64k', 'bw4m'] as const;
const FIGURE_TESTS: Record<keyof Figures, { test: 'latency' | 'bw'; size: number }> = {
  latency8: { test: 'latency', size: 8 },
  bw64k: { test: 'bw', size: 65536 },
  bw4m: { test: 'bw', size: 4194304 },
};

interface RowResult {
  spec: RowSpec;
  figures: Figures;
  problems: string[];
}

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGTERM'), TIMEOUT_S * 1000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${[command, ...args].join(' ')} ${signal !== null ? `killed by ${signal} (timeout ${TIMEOUT_S} s?)` : `exited ${code}`}: ${err.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}

/** The single figure of a one-size --json run. */
function figure(output: string): number {
  const line = output.trim().split('\n').filter((l) => l.startsWith('{')).at(-1);
  if (line === undefined) throw new Error(`no JSON in output: ${output.slice(0, 200)}`);
  const doc = JSON.parse(line) as { results: Array<{ value: number }> };
  const value = doc.results[0]?.value;
  if (value === undefined) throw new Error('a JSON report with no result');
  return value;
}


function findPython(): { python: string | null; why: string } {
  for (const python of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(python, ['-c', 'import mpi4py'], { stdio: 'ignore' });
      return { python, why: '' };
    } catch {
      // Try the next: a pyenv python3 may shadow Debian's, which has python3-mpi4py.
    }
  }
  return { python: null, why: 'python3-mpi4py is not installed (apt-get install python3-mpi4py)' };
}

function findMpiexec(): string {
  try {
    execFileSync('mpiexec', ['--version'], { stdio: 'ignore' });
    return '';
  } catch {
    return 'mpiexec not found (apt-get install openmpi-bin, which python3-mpi4py pulls in)';
  }
}

const problemsByRow = new Map<string, string[]>();

function mpi4pyRow(name: string, mode: 'buffer' | 'pickle', tcp: boolean, python: string, reference?: string): RowSpec {
  const mca = tcp ? ['--mca', 'btl', 'tcp,self'] : [];
  const root = process.getuid?.() === 0 ? ['--allow-run-as-root'] : [];
  return {
    name, reference,
    measure: (key) => {
      const { test, size } = FIGURE_TESTS[key];
      return run('mpiexec', ['-n', '2', '--oversubscribe', ...root, ...mca, python,
        join(ROOT, 'bench', 'osu_mpi4py.py'), test, '--mode', mode, '-m', `${size}:${size}`, ...LOOPS[key], '--json']).then(figure);
    },
  };
}

function mpi4tsRow(name: string, typed: boolean, tcp: boolean, reference: string): RowSpec {
  const env: Record<string, string> = tcp ? { MPI4TS_TRANSPORT: 'tcp' } : {};
  return {
    name, reference,
    measure: (key) => {
      const { test, size } = FIGURE_TESTS[key];
      return run(process.execPath, [CLI, 'bench', test, ...(typed ? ['--typed'] : []),
        '-m', `${size}:${size}`, ...LOOPS[key], '--json'], env).then(figure);
    },
  };
}

function rawRow(name: string, reference: string): RowSpec {
  const loops = QUICK ? ['-i', '1000', '-x', '50', '-I', '5', '-X', '1'] : [];
  // One run of the script measures all three figures: it runs when the latency is asked for.
  let last: Figures = {};
  return {
    name, reference,
    measure: async (key) => {
      if (key === 'latency8') {
        const out = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'raw-socket.ts'), ...loops]);
        const doc = JSON.parse(out.trim().split('\n').at(-1)!) as { latency8: number; bandwidth: Record<string, number> };
        last = { latency8: doc.latency8, bw64k: doc.bandwidth['65536'], bw4m: doc.bandwidth['4194304'] };
      }
      return last[key];
    },
  };
}

const PY_BUF = 'mpi4py buffer (Send/Recv), shared memory';
const PY_PICKLE = 'mpi4py pickle (send/recv), shared memory';
const PY_TCP = 'mpi4py buffer over TCP loopback';
const PY_PICKLE_TCP = 'mpi4py pickle over TCP loopback';

function rows(python: string | null): { specs: RowSpec[]; missing: string[] } {
  const missing: string[] = [];
  const specs: RowSpec[] = [];
  const pyProblem = python === null ? findPython().why : findMpiexec();
  if (python !== null && pyProblem === '') {
    specs.push(mpi4pyRow(PY_BUF, 'buffer', false, python), mpi4pyRow(PY_PICKLE, 'pickle', false, python),
      mpi4pyRow(PY_TCP, 'buffer', true, python), mpi4pyRow(PY_PICKLE_TCP, 'pickle', true, python));
  } else {
    missing.push(`mpi4py rows (${[PY_BUF, PY_PICKLE, PY_TCP, PY_PICKLE_TCP].join('; ')}): ${pyProblem}; mpi4ts rows have no ratio`);
  }
  if (existsSync(CLI)) {
    specs.push(mpi4tsRow('mpi4ts typed (send + recvInto)', true, false, PY_BUF),
      mpi4tsRow('mpi4ts object (send/recv)', false, false, PY_PICKLE),
      mpi4tsRow('mpi4ts typed, MPI4TS_TRANSPORT=tcp', true, true, PY_TCP),
      mpi4tsRow('mpi4ts object, MPI4TS_TRANSPORT=tcp', false, true, PY_PICKLE_TCP));
  } else {
    missing.push(`mpi4ts rows: ${CLI} does not exist (run npm run build first)`);
  }
  specs.push(rawRow('raw Node Unix socket ping-pong, busy event loop', PY_BUF));
  for (const spec of specs) problemsByRow.set(spec.name, []);
  return { specs, missing };
}

function cell(value: number | undefined, reference: number | undefined, unit: 'us' | 'GB/s'): string {
  if (value === undefined) return 'failed';
  // Three significant digits: a loaded machine's 0.004 GB/s must not print as 0.00.
  const text = `${value.toPrecision(3)} ${unit}`;
  return reference === undefined ? text : `${text} (${(value / reference).toFixed(2)}x)`;
}

function table(results: RowResult[]): string {
  const byName = new Map(results.map((r) => [r.spec.name, r.figures]));
  const lines = ['| | 8 B latency | 64 KiB bw | 4 MiB bw |', '|---|---|---|---|'];
  for (const { spec, figures } of results) {
    const ref = spec.reference === undefined ? undefined : byName.get(spec.reference);
    lines.push(`| ${spec.name} | ${cell(figures.latency8, ref?.latency8, 'us')} | ` +
      `${cell(figures.bw64k && figures.bw64k / 1000, ref?.bw64k && ref.bw64k / 1000, 'GB/s')} | ` +
      `${cell(figures.bw4m && figures.bw4m / 1000, ref?.bw4m && ref.bw4m / 1000, 'GB/s')} |`);
  }
  return lines.join('\n');
}

const COLL_RANKS = [2, 4];
const COLL_TESTS = [
  { test: 'allreduce', title: 'allreduce 1M doubles' },
  { test: 'bcast', title: 'bcast small object' },
] as const;
/**
 * The scripts' own loop counts, except bcast's warm-up: 50000 calls, for
 * mpi4py and mpi4ts alike, as for 8 B latency (V8 reaches its steady state
 * after some 30000 messages; with the scripts' 2000, 2-rank bcast measured
 * 4.7-5.1 us, with 50000 2.3-2.5 us, mpi4py 2.0-2.1 us either way).
 */
const COLL_LOOPS = QUICK ? { allreduce: ['-i', '10', '-x', '5'], bcast: ['-i', '1000', '-x', '200'] } : { allreduce: [], bcast: ['-x', '50000'] };

/** Average microseconds per call of one collective run (the JSON line rank 0 prints). */
function collFigure(output: string): number {
  const line = output.trim().split('\n').filter((l) => l.startsWith('{')).at(-1);
  if (line === undefined) throw new Error(`no JSON in output: ${output.slice(0, 200)}`);
  return (JSON.parse(line) as { value: number }).value;
}

/** The collective comparison: one row per implementation, a column per test and size. */
async function collectiveTable(python: string | null): Promise<string> {
  const columns = COLL_TESTS.flatMap(({ test, title }) => COLL_RANKS.map((np) => ({ test, np, title: `${title}, ${np} ranks` })));
  const root = process.getuid?.() === 0 ? ['--allow-run-as-root'] : [];
  const measure = async (which: 'mpi4py' | 'mpi4ts', test: 'allreduce' | 'bcast', np: number): Promise<number | string> => {
    process.stderr.write(`measuring: ${which} ${test}, ${np} ranks\n`);
    try {
      if (which === 'mpi4py') {
        if (python === null) return 'no mpi4py';
        return collFigure(await run('mpiexec', ['-n', String(np), '--oversubscribe', ...root, python,
          join(ROOT, 'bench', 'coll_mpi4py.py'), test, ...COLL_LOOPS[test]]));
      }
      return collFigure(await run(process.execPath, [CLI, 'run', '-n', String(np), join(ROOT, 'bench', 'coll-mpi4ts.ts'), test, ...COLL_LOOPS[test]]));
    } catch (err) {
      return `failed: ${(err as Error).message.slice(0, 120)}`;
    }
  };
  const pyRuns: (number | string)[][] = columns.map(() => []);
  const tsRuns: (number | string)[][] = columns.map(() => []);
  for (let pass = 0; pass < REPEAT; pass++) {
    for (const [i, { test, np }] of columns.entries()) {
      pyRuns[i]!.push(await measure('mpi4py', test, np));
      tsRuns[i]!.push(await measure('mpi4ts', test, np));
    }
  }
  // A failure in any pass is shown as such; otherwise the median of the passes.
  const summary = (runs: (number | string)[]): number | string =>
    runs.find((r) => typeof r === 'string') ?? median(runs as number[])!;
  const py = pyRuns.map(summary);
  const ts = tsRuns.map(summary);
  const show = (value: number | string, reference?: number | string): string => {
    if (typeof value === 'string') return value;
    const text = `${value.toPrecision(3)} us`;
    return typeof reference === 'number' ? `${text} (${(value / reference).toFixed(2)}x)` : text;
  };
  return [`| | ${columns.map((c) => c.title).join(' | ')} |`, `|---${'|---'.repeat(columns.length)}|`,
    `| mpi4py (Allreduce of array('d'); bcast, pickled) | ${py.map((v) => show(v)).join(' | ')} |`,
    `| mpi4ts (allreduce of Float64Array; bcast, cloned) | ${ts.map((v, i) => show(v, py[i])).join(' | ')} |`].join('\n');
}

/** Indices of `specs` with every row right after the row it is compared with. */
function measurementOrder(specs: RowSpec[]): number[] {
  const order: number[] = [];
  const add = (i: number): void => {
    if (order.includes(i)) return;
    order.push(i);
    specs.forEach((s, j) => { if (s.reference === specs[i]!.name) add(j); });
  };
  specs.forEach((s, i) => { if (s.reference === undefined || !specs.some((r) => r.name === s.reference)) add(i); });
  return order;
}

async function main(): Promise<void> {
  const loadAtStart = loadavg()[0]!;
  const { python } = findPython();
  const { specs, missing } = rows(python);
  if (ONLY_COLL) specs.length = 0;
  const passes: Figures[][] = specs.map(() => []);
  for (let pass = 0; pass < REPEAT; pass++) {
    for (const [i] of specs.entries()) passes[i]!.push({});
    // Figure by figure, each row right after its counterpart: a slow spell of the machine
    // then falls on both sides of a ratio rather than on one.
    for (const key of FIGURE_KEYS) {
      for (const i of measurementOrder(specs)) {
        const spec = specs[i]!;
        process.stderr.write(`measuring: ${spec.name}, ${key}${REPEAT > 1 ? ` (pass ${pass + 1} of ${REPEAT})` : ''}\n`);
        try {
          passes[i]![pass]![key] = await spec.measure(key);
        } catch (err) {
          problemsByRow.get(spec.name)!.push(`${key}: ${(err as Error).message}`);
        }
      }
    }
  }
  const results: RowResult[] = specs.map((spec, i) => ({
    spec,
    figures: {
      latency8: median(passes[i]!.map((f) => f.latency8)),
      bw64k: median(passes[i]!.map((f) => f.bw64k)),
      bw4m: median(passes[i]!.map((f) => f.bw4m)),
    },
    problems: problemsByRow.get(spec.name)!,
  }));
  process.stdout.write(`\n${cpus().length} cores, load average ${loadAtStart.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end` +
    `${loadAtStart > cpus().length / 2 ? ' (a busy machine: these figures are noise, not a verdict)' : ''}.`);
  process.stdout.write(`\n2 ranks, one host; latency: half round trip; bw: window of 64 (OSU method)${QUICK ? '; --quick: short runs, rough figures' : ''}.\n`);
  if (REPEAT > 1) process.stdout.write(`Each figure is the median of ${REPEAT} passes over every row, mpi4py and mpi4ts alike; each mpi4ts figure is measured right after its mpi4py counterpart.\n`);
  process.stdout.write('(ratio) = this row / its mpi4py counterpart: lower is better for latency, higher for bandwidth.\n');
  process.stdout.write('Counterparts: typed and raw socket -> mpi4py buffer; object -> mpi4py pickle; TCP rows -> the mpi4py TCP row of the same path.\n\n');
  if (!ONLY_COLL) process.stdout.write(`${table(results)}\n`);
  if (!ONLY_P2P) {
    process.stdout.write('\nCollectives, average time per call over the ranks (OSU method); (ratio) = mpi4ts / mpi4py, lower is better.\n\n');
    process.stdout.write(`${await collectiveTable(python)}\n`);
    process.stdout.write(`load average ${loadavg()[0]!.toFixed(1)} after the collectives.\n`);
  }
  const failures = results.filter((r) => r.problems.length > 0);
  if (missing.length > 0 || failures.length > 0) {
    process.stdout.write('\nMissing:\n');
    for (const m of missing) process.stdout.write(`- ${m}\n`);
    for (const r of failures) for (const p of r.problems) process.stdout.write(`- ${r.spec.name}: ${p}\n`);
  }
}

await main();
