// The comparison harness of issue 5: the same OSU measurements with mpi4py
// (buffer and pickle paths, shared memory and TCP), with mpi4ts (typed and
// object paths, automatic transport and forced TCP) and with a raw Node Unix
// socket floor, in one go, printed as one table with each row's ratio to its
// mpi4py counterpart. It installs nothing: rows it cannot run are listed
// with the reason (for mpi4py: apt-get install python3-mpi4py).
// A second table compares collectives at 2 and 4 ranks: allreduce of 1M
// doubles (buffer / typed path) and bcast of a small object (pickle /
// structured clone); and on 2 ranks the buffer collectives of issue 16:
// bcastInto and reduceInto of 1M doubles and alltoallv of 1 MiB per rank,
// against mpi4py's Bcast, Reduce and Alltoallv, with mpi4ts's heap growth
// over 1000 calls; mpi4py on Open MPI (Debian's python3-mpi4py) and, where
// one is found, on MPICH; with bench/coll_mpi4py.py and bench/coll-mpi4ts.ts.
// A third table times the start-up of a 4-rank hello world beside mpiexec +
// mpi4py (bench/startup.ts); --startup runs only that one.
// A fourth gives the tasks per second of an empty task on 4 workers: mpi4ts's
// PoolExecutor under --pool, piscina with 4 threads, mpi4py's MPIPoolExecutor
// (bench/pool.ts); --pool runs only that one.
// --plot FILE.svg then measures the latency and bandwidth curves (1 B to
// 4 MiB, OSU's loops) of every mpi4py and mpi4ts row of the first table and
// draws them overlaid, a chart for each, in FILE.svg.
//   npm run bench:compare [-- --quick] [--timeout S] [--p2p | --coll | --startup | --pool] [--repeat N] [--plot FILE.svg]
// Figures are measured one kind at a time (8 B latency, then 64 KiB, then
// 4 MiB), each mpi4ts row right after its mpi4py counterpart, so that a slow
// spell of the machine falls on both sides of a ratio. --repeat N measures the
// whole set N times over and prints each figure's median: on a VM whose speed
// changes from minute to minute, one pass may catch a row in a slow spell.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { overlayOf } from '../src/bench/overlay.js';
import { chartsSvg, type Series } from '../src/bench/svg.js';
import { testInfo } from '../src/bench/tests.js';
import { findPython } from './python.js';
import { startupRows, startupTable } from './startup.js';
import { poolRows, poolTable } from './pool.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const ONLY_P2P = argv.includes('--p2p');
const ONLY_COLL = argv.includes('--coll');
const ONLY_STARTUP = argv.includes('--startup');
const ONLY_POOL = argv.includes('--pool');
const TIMEOUT_S = argv.includes('--timeout') ? Number(argv[argv.indexOf('--timeout') + 1]) : 900;
const REPEAT = repeatOption();
const PLOT = plotOption();

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

/** --plot FILE.svg, resolved against the directory npm was started in (npm runs the script in the package's), or null. */
function plotOption(): string | null {
  if (!argv.includes('--plot')) return null;
  const text = argv[argv.indexOf('--plot') + 1];
  const refuse = (why: string): never => {
    process.stderr.write(`bench:compare: --plot${text === undefined ? '' : ` ${text}`}: ${why}\n`);
    process.exit(2);
  };
  if (text === undefined || !text.toLowerCase().endsWith('.svg')) refuse('give the SVG file to write, FILE.svg');
  if (argv.includes('--coll') || argv.includes('--startup')) refuse('it draws the point-to-point rows, which --coll and --startup leave out');
  return resolvePath(process.env.INIT_CWD ?? process.cwd(), text!);
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
  ? { latency8: ['-i', '1000', '-x', '50'], bw64k: ['-i', '5', '-x', '1'], bw1m: ['-i', '5', '-x', '1'], bw4m: ['-i', '5', '-x', '1'] }
  : { latency8: ['-i', '100000', '-x', '50000'], bw64k: ['-i', '200', '-x', '20'], bw1m: ['-i', '50', '-x', '5'], bw4m: ['-i', '20', '-x', '2'] };

interface Figures {
  latency8?: number;
  bw64k?: number;
  /** 1 MiB: inside cross-memory attach's window (8 KiB to 2 MiB), where 64 KiB (eager) and 4 MiB are not. */
  bw1m?: number;
  bw4m?: number;
}

interface RowSpec {
  name: string;
  /** Row whose figures this one is divided by. */
  reference?: string;
  /** One figure of the row (a run of its own). */
  measure(key: keyof Figures): Promise<number | undefined>;
  /** The --json output of a run over every size, for --plot; rows that cannot (the raw socket) have none. */
  curve?(test: CurveTest): Promise<string>;
}

type CurveTest = 'latency' | 'bw';
/** -m and loops of --plot's curves: OSU's sizes and loops; --quick: fewer loops. */
const CURVE_ARGS: Record<CurveTest, string[]> = {
  latency: ['-m', '1:4194304', ...(QUICK ? ['-i', '100', '-x', '10'] : [])],
  bw: ['-m', '1:4194304', ...(QUICK ? ['-i', '5', '-x', '1'] : [])],
};

const FIGURE_KEYS = ['latency8', 'bw64k', 'bw1m', 'bw4m'] as const;
const FIGURE_TESTS: Record<keyof Figures, { test: 'latency' | 'bw'; size: number }> = {
  latency8: { test: 'latency', size: 8 },
  bw64k: { test: 'bw', size: 65536 },
  bw1m: { test: 'bw', size: 1048576 },
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
    curve: (test) => run('mpiexec', ['-n', '2', '--oversubscribe', ...root, ...mca, python,
      join(ROOT, 'bench', 'osu_mpi4py.py'), test, '--mode', mode, ...CURVE_ARGS[test], '--json']),
  };
}

function mpi4tsRow(name: string, typed: boolean, env: Record<string, string>, reference: string): RowSpec {
  return {
    name, reference,
    measure: (key) => {
      const { test, size } = FIGURE_TESTS[key];
      return run(process.execPath, [CLI, 'bench', test, ...(typed ? ['--typed'] : []),
        '-m', `${size}:${size}`, ...LOOPS[key], '--json'], env).then(figure);
    },
    curve: (test) => run(process.execPath, [CLI, 'bench', test, ...(typed ? ['--typed'] : []), ...CURVE_ARGS[test], '--json'], env),
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
        last = { latency8: doc.latency8, bw64k: doc.bandwidth['65536'], bw1m: doc.bandwidth['1048576'], bw4m: doc.bandwidth['4194304'] };
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
    specs.push(mpi4tsRow('mpi4ts typed (send + recvInto)', true, {}, PY_BUF),
      // The same without cross-memory attach: what the direct writes (8 KiB to 2 MiB by default) change.
      mpi4tsRow('mpi4ts typed, MPI4TS_CMA=0 (through the ring)', true, { MPI4TS_CMA: '0' }, PY_BUF),
      mpi4tsRow('mpi4ts object (send/recv)', false, {}, PY_PICKLE),
      mpi4tsRow('mpi4ts typed, MPI4TS_TRANSPORT=tcp', true, { MPI4TS_TRANSPORT: 'tcp' }, PY_TCP),
      mpi4tsRow('mpi4ts object, MPI4TS_TRANSPORT=tcp', false, { MPI4TS_TRANSPORT: 'tcp' }, PY_PICKLE_TCP));
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
  const lines = ['| | 8 B latency | 64 KiB bw | 1 MiB bw | 4 MiB bw |', '|---|---|---|---|---|'];
  for (const { spec, figures } of results) {
    const ref = spec.reference === undefined ? undefined : byName.get(spec.reference);
    lines.push(`| ${spec.name} | ${cell(figures.latency8, ref?.latency8, 'us')} | ` +
      `${cell(figures.bw64k && figures.bw64k / 1000, ref?.bw64k && ref.bw64k / 1000, 'GB/s')} | ` +
      `${cell(figures.bw1m && figures.bw1m / 1000, ref?.bw1m && ref.bw1m / 1000, 'GB/s')} | ` +
      `${cell(figures.bw4m && figures.bw4m / 1000, ref?.bw4m && ref.bw4m / 1000, 'GB/s')} |`);
  }
  return lines.join('\n');
}

/**
 * The collective columns: mpi4ts's test (bench/coll-mpi4ts.ts) and mpi4py's
 * counterpart (bench/coll_mpi4py.py), on each number of ranks. The buffer
 * collectives of issue 16 run on 2 ranks, the target of its performance bar,
 * and also measure mpi4ts's heap over 1000 calls (--heap).
 */
const COLL_TESTS = [
  { ts: 'allreduce', py: 'allreduce', ranks: [2, 4], title: 'allreduce 1M doubles', heap: false },
  { ts: 'bcast', py: 'bcast', ranks: [2, 4], title: 'bcast small object', heap: false },
  { ts: 'barrier', py: 'Barrier', ranks: [2, 4], title: 'barrier', heap: false },
  { ts: 'allreduce8', py: 'Allreduce8', ranks: [2, 4], title: 'allreduce 8 B (one double)', heap: false },
  { ts: 'bcastInto', py: 'Bcast', ranks: [2], title: 'bcastInto 1M doubles', heap: true },
  { ts: 'reduceInto', py: 'Reduce', ranks: [2], title: 'reduceInto 1M doubles', heap: true },
  { ts: 'alltoallv', py: 'Alltoallv', ranks: [2], title: 'alltoallv 1 MiB per rank', heap: true },
] as const;
type CollTest = (typeof COLL_TESTS)[number];
const HEAP_CALLS = 1000;
/**
 * The scripts' own loop counts, except the warm-ups, the same for mpi4py and mpi4ts:
 * - bcast, barrier and allreduce8: 50000 calls, as for 8 B latency (V8 reaches its steady
 *   state after some 30000 messages; with the scripts' 2000, 2-rank bcast measured 4.7-5.1 us,
 *   with 50000 2.3-2.5 us, mpi4py 2.0-2.1 us either way);
 * - the 1M-double calls: 300 (the reduction loops and the engine's large-message path are
 *   compiled by then; reduceInto on 2 ranks measured 1.24-1.34 ms after the script's 20,
 *   1.13-1.18 ms after 300);
 * - alltoallv: 5000 (about a second of calls: the first second after start-up has a tail,
 *   p99 of 400-800 us against 270 us after it, that the script's 1000 left in the mean;
 *   the median was 170-180 us throughout).
 */
function collLoops(test: CollTest['ts']): string[] {
  if (test === 'bcast' || test === 'barrier' || test === 'allreduce8') return QUICK ? ['-i', '1000', '-x', '200'] : ['-x', '50000'];
  if (test === 'allreduce' || test === 'bcastInto' || test === 'reduceInto') return QUICK ? ['-i', '10', '-x', '5'] : ['-x', '300'];
  if (test === 'alltoallv') return QUICK ? ['-i', '10', '-x', '5'] : ['-x', '5000'];
  return QUICK ? ['-i', '10', '-x', '5'] : [];
}

/** The JSON line rank 0 of a collective run prints: average microseconds per call, and mpi4ts's heap growth. */
interface CollResult {
  value: number;
  heap?: { heapUsedKiB: number; arrayBuffersKiB: number; calls: number };
}

function collResult(output: string): CollResult {
  const line = output.trim().split('\n').filter((l) => l.startsWith('{')).at(-1);
  if (line === undefined) throw new Error(`no JSON in output: ${output.slice(0, 200)}`);
  return JSON.parse(line) as CollResult;
}

/**
 * mpi4py built against MPICH, beside Debian's python3-mpi4py (built against
 * Open MPI): a directory holding that mpi4py package, put on PYTHONPATH
 * (MPI4PY_MPICH_PATH, default /opt/mpi4py-mpich), run by mpiexec.mpich.
 */
function findMpichMpi4py(python: string | null): { env: Record<string, string> | null; why: string } {
  const path = process.env.MPI4PY_MPICH_PATH ?? '/opt/mpi4py-mpich';
  const how = `Debian's python3-mpi4py is built against Open MPI; build mpi4py against MPICH (apt-get install mpich libmpich-dev python3-dev cython3; ` +
    `python3 setup.py build --mpicc=mpicc.mpich in mpi4py's source) and put its mpi4py package in ${path} (or set MPI4PY_MPICH_PATH)`;
  if (python === null) return { env: null, why: 'no mpi4py' };
  try {
    execFileSync('mpiexec.mpich', ['--version'], { stdio: 'ignore' });
  } catch {
    return { env: null, why: 'mpiexec.mpich not found (apt-get install mpich)' };
  }
  const env = { PYTHONPATH: path };
  try {
    const library = execFileSync(python, ['-c', 'from mpi4py import MPI; print(MPI.Get_library_version())'],
      { env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    if (!library.includes('MPICH')) return { env: null, why: `the mpi4py found with PYTHONPATH=${path} is not built against MPICH; ${how}` };
  } catch {
    return { env: null, why: `no mpi4py in ${path}; ${how}` };
  }
  return { env, why: '' };
}

/** Microseconds as people read them: 3 significant digits, in ms from 1000 us. */
function duration(us: number): string {
  return us >= 1000 ? `${(us / 1000).toPrecision(3)} ms` : `${us.toPrecision(3)} us`;
}

/** The collective comparison: one row per implementation, a column per test and size; then mpi4ts's heap lines. */
async function collectiveTable(python: string | null): Promise<string> {
  const columns = COLL_TESTS.flatMap((t) => t.ranks.map((np) => ({ ...t, np, title: `${t.title}, ${np} ranks` })));
  const root = process.getuid?.() === 0 ? ['--allow-run-as-root'] : [];
  const mpich = findMpichMpi4py(python);
  type Which = 'openmpi' | 'mpich' | 'mpi4ts';
  const measure = async (which: Which, column: (typeof columns)[number]): Promise<CollResult | string> => {
    process.stderr.write(`measuring: ${which} ${which === 'mpi4ts' ? column.ts : column.py}, ${column.np} ranks\n`);
    const np = String(column.np);
    const script = join(ROOT, 'bench', 'coll_mpi4py.py');
    try {
      switch (which) {
        case 'openmpi':
          if (python === null) return 'no mpi4py';
          return collResult(await run('mpiexec', ['-n', np, '--oversubscribe', ...root, python, script, column.py, ...collLoops(column.ts)]));
        case 'mpich':
          if (mpich.env === null) return 'no mpi4py on MPICH';
          // MPICH's ranks poll without giving the core away: with more ranks than
          // cores each step waits for a time slice (a 4-rank bcast run on 2
          // cores had not finished its 60000 calls after 7 minutes).
          if (column.np > cpus().length) return `skipped: ${column.np} ranks on ${cpus().length} cores`;
          return collResult(await run('mpiexec.mpich', ['-n', np, python!, script, column.py, ...collLoops(column.ts)], mpich.env));
        case 'mpi4ts':
          return collResult(await run(process.execPath, [CLI, 'run', '-n', np, ...(column.heap ? ['--env', 'NODE_OPTIONS=--expose-gc'] : []),
            join(ROOT, 'bench', 'coll-mpi4ts.ts'), column.ts,
            ...collLoops(column.ts), ...(column.heap ? ['--heap', String(HEAP_CALLS)] : [])]));
      }
    } catch (err) {
      return `failed: ${(err as Error).message.slice(0, 120)}`;
    }
  };
  const order: Which[] = ['openmpi', 'mpich', 'mpi4ts'];
  const runs = new Map(order.map((w) => [w, columns.map((): (CollResult | string)[] => [])]));
  for (let pass = 0; pass < REPEAT; pass++) {
    // Column by column, mpi4ts right after its counterparts: a slow spell falls on both sides of a ratio.
    for (const [i, column] of columns.entries()) {
      for (const which of order) runs.get(which)![i]!.push(await measure(which, column));
    }
  }
  // A failure in any pass is shown as such; otherwise the median of the passes.
  const summary = (results: (CollResult | string)[]): number | string => {
    const failed = results.find((r): r is string => typeof r === 'string');
    return failed ?? median(results.map((r) => (r as CollResult).value))!;
  };
  const [openmpi, onMpich, ts] = order.map((w) => runs.get(w)!.map(summary)) as [(number | string)[], (number | string)[], (number | string)[]];
  const ratio = (value: number, reference: number | string | undefined): string =>
    typeof reference === 'number' ? `${(value / reference).toFixed(2)}x` : '-';
  const show = (value: number | string, i?: number): string => {
    if (typeof value === 'string') return value;
    if (i === undefined) return duration(value);
    return `${duration(value)} (${ratio(value, openmpi[i])} / ${ratio(value, onMpich[i])})`;
  };
  const lines = [`| | ${columns.map((c) => c.title).join(' | ')} |`, `|---${'|---'.repeat(columns.length)}|`,
    `| mpi4py on Open MPI (Allreduce, Bcast, Reduce, Alltoallv of array('d'); bcast, pickled) | ${openmpi.map((v) => show(v)).join(' | ')} |`,
    `| mpi4py on MPICH (the same) | ${onMpich.map((v) => show(v)).join(' | ')} |`,
    `| mpi4ts (allreduceInto, bcastInto, reduceInto, alltoallv of Float64Array; bcast, cloned) | ${ts.map((v, i) => show(v, i)).join(' | ')} |`];
  lines.push('', '(ratio) = mpi4ts / mpi4py on Open MPI, then mpi4ts / mpi4py on MPICH; lower is better for mpi4ts.');
  if (mpich.why !== '' && python !== null) lines.push(`mpi4py on MPICH: ${mpich.why}.`);
  // The heap lines: mpi4ts's last pass of each buffer collective.
  lines.push('', `mpi4ts heap growth over ${HEAP_CALLS} more calls, a full gc before and after (largest over the ranks: what the calls kept):`);
  for (const [i, column] of columns.entries()) {
    if (!column.heap) continue;
    const last = runs.get('mpi4ts')![i]!.at(-1);
    const heap = typeof last === 'object' ? last.heap : undefined;
    lines.push(heap === undefined
      ? `- ${column.title}: ${typeof last === 'string' ? last : 'no heap figure'}`
      : `- ${column.title}: heapUsed ${signed(heap.heapUsedKiB)} KiB (${signed((heap.heapUsedKiB * 1024) / heap.calls)} B per call), ` +
        `arrayBuffers ${signed(heap.arrayBuffersKiB)} KiB`);
  }
  return lines.join('\n');
}

function signed(value: number): string {
  return `${value >= 0 ? '+' : ''}${value.toFixed(1)}`;
}

/**
 * --plot: each row's latency and bandwidth curves, in the table's order (each
 * mpi4ts row right after its mpi4py counterpart), read through the check
 * `mpi4ts bench --compare` makes of a run's JSON, drawn a chart per test.
 */
async function plotCurves(specs: RowSpec[], file: string): Promise<string[]> {
  const problems: string[] = [];
  const charts = (['latency', 'bw'] as const).map((test) => ({ test, series: [] as Series[] }));
  for (const chart of charts) {
    const info = testInfo(chart.test)!;
    for (const i of measurementOrder(specs)) {
      const spec = specs[i]!;
      if (spec.curve === undefined) continue;
      process.stderr.write(`measuring: ${spec.name}, ${info.osu} curve for --plot\n`);
      try {
        const output = await spec.curve(chart.test);
        const line = output.trim().split('\n').filter((l) => l.startsWith('{')).at(-1) ?? output;
        chart.series.push({ ...overlayOf(line, `${spec.name}'s output`, info), name: spec.name });
      } catch (err) {
        problems.push(`${spec.name}: ${info.osu} curve: ${(err as Error).message}`);
      }
    }
  }
  writeFileSync(file, chartsSvg(charts.map(({ test, series }) => ({
    title: `${testInfo(test)!.title}: mpi4py and mpi4ts, 2 ranks, one host${QUICK ? ' (--quick)' : ''}`,
    xLabel: 'Message size (bytes)',
    yLabel: test === 'latency' ? 'Latency (us)' : 'Bandwidth (MB/s)',
    series,
  }))));
  return problems;
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
  if (ONLY_COLL || ONLY_STARTUP || ONLY_POOL) specs.length = 0;
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
      bw1m: median(passes[i]!.map((f) => f.bw1m)),
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
  if (!ONLY_COLL && !ONLY_STARTUP && !ONLY_POOL) process.stdout.write(`${table(results)}\n`);
  if (PLOT !== null) {
    missing.push(...await plotCurves(specs, PLOT));
    process.stdout.write(`\nPlot: ${PLOT}, the latency and bandwidth curves of ${specs.filter((s) => s.curve !== undefined).length} rows (not the raw socket's: it measures three sizes).\n`);
  }
  if (!ONLY_P2P && !ONLY_STARTUP && !ONLY_POOL) {
    process.stdout.write('\nCollectives, average time per call over the ranks (OSU method); lower is better.\n\n');
    process.stdout.write(`${await collectiveTable(python)}\n`);
    process.stdout.write(`load average ${loadavg()[0]!.toFixed(1)} after the collectives.\n`);
  }
  if (!ONLY_P2P && !ONLY_COLL && !ONLY_POOL) {
    const startup = startupRows([process.execPath], python, findMpichMpi4py(python).env);
    process.stdout.write(`\n${await startupTable(startup.rows, QUICK ? 3 : 5 * REPEAT, (t) => process.stderr.write(`${t}\n`))}\n`);
    missing.push(...startup.missing);
  }
  if (!ONLY_P2P && !ONLY_COLL && !ONLY_STARTUP) {
    const rows = poolRows(python, QUICK ? 50000 : 200000);
    process.stdout.write(`\n${await poolTable(rows, QUICK ? 1 : 3 * REPEAT, TIMEOUT_S, (t) => process.stderr.write(`${t}\n`), missing)}\n`);
  }
  const failures = results.filter((r) => r.problems.length > 0);
  if (missing.length > 0 || failures.length > 0) {
    process.stdout.write('\nMissing:\n');
    for (const m of missing) process.stdout.write(`- ${m}\n`);
    for (const r of failures) for (const p of r.problems) process.stdout.write(`- ${r.spec.name}: ${p}\n`);
  }
}

await main();
