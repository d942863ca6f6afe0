// Start-up of a 4-rank hello world (issue 17): `mpi4ts run -n 4
// examples/helloworld.ts` as it runs now (Node alone where it strips the
// types, with the compile cache) and as it ran before (tsx in every rank, no
// cache), beside `mpiexec -n 4 python3 bench/hello_mpi4py.py` on Open MPI and,
// where one is found, on MPICH. Wall time and the CPU of the whole job (the
// children's user + system time, from the shell's `times`), each the median
// of its runs, the rows interleaved run by run so that a slow spell of the
// machine falls on every row alike. Used by bench/compare.ts (--startup);
// on its own:
//   node --import tsx bench/startup.ts [--runs N] [--node PATH]...
// Each --node adds the mpi4ts rows for that Node binary (default: this one).
import { execFileSync, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPython } from './python.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const HELLO_TS = join(ROOT, 'examples', 'helloworld.ts');
const HELLO_PY = join(ROOT, 'bench', 'hello_mpi4py.py');

export interface StartupRow {
  name: string;
  command: string[];
  env: Record<string, string>;
}

interface Timing {
  wall: number;
  cpu: number;
}

/** The rows: mpi4ts now and before on each Node, then mpiexec + mpi4py where they are found. */
export function startupRows(nodes: string[], python: string | null, mpichEnv: Record<string, string> | null): { rows: StartupRow[]; missing: string[] } {
  const rows: StartupRow[] = [];
  const missing: string[] = [];
  for (const node of nodes) {
    const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
    rows.push({ name: `mpi4ts run -n 4 helloworld.ts, Node ${version}`, command: [node, CLI, 'run', '-n', '4', HELLO_TS], env: {} });
    rows.push({
      name: `  the same as before (tsx in every rank, no compile cache)`,
      command: [node, CLI, 'run', '-n', '4', HELLO_TS], env: { MPI4TS_TYPESCRIPT: 'tsx', MPI4TS_COMPILE_CACHE: '0' },
    });
  }
  if (python === null) missing.push('mpiexec + mpi4py: python3-mpi4py is not installed (apt-get install python3-mpi4py)');
  else {
    const root = process.getuid?.() === 0 ? ['--allow-run-as-root'] : [];
    rows.push({ name: 'mpiexec -n 4 python3 hello.py (Open MPI)', command: ['mpiexec', ...root, '--oversubscribe', '-n', '4', python, HELLO_PY], env: {} });
    if (mpichEnv === null) missing.push('mpiexec.mpich + mpi4py: no mpi4py built against MPICH (see the collectives table)');
    else rows.push({ name: 'mpiexec.mpich -n 4 python3 hello.py (MPICH)', command: ['mpiexec.mpich', '-n', '4', python, HELLO_PY], env: mpichEnv });
  }
  return { rows, missing };
}

/** One run of `command` under sh, timed: wall by the clock, CPU by the shell's `times` for its children. */
function timed(row: StartupRow): Promise<Timing> {
  const quoted = row.command.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    const started = performance.now();
    // The job's stderr comes through the pipe (for the error below); `times` writes to stdout.
    const child = spawn('sh', ['-c', `${quoted} >/dev/null || exit 1; times`],
      { cwd: ROOT, env: { ...process.env, ...row.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      const wall = (performance.now() - started) / 1000;
      if (code !== 0) {
        reject(new Error(`${row.name}: exited ${code}: ${err.trim().split('\n').slice(-2).join(' | ')}`));
        return;
      }
      // `times` prints the shell's user and system time, then its children's: "0m1.234s 0m0.210s".
      const children = out.trim().split('\n').at(-1) ?? '';
      const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
      if (seconds.length !== 2) {
        reject(new Error(`${row.name}: cannot read the CPU time from "times": ${children}`));
        return;
      }
      resolve({ wall, cpu: seconds[0]! + seconds[1]! });
    });
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** Runs every row `runs` times, interleaved, after one warm-up run each (which fills the compile cache); returns the table. */
export async function startupTable(rows: StartupRow[], runs: number, progress: (text: string) => void = () => {}): Promise<string> {
  const timings: Timing[][] = rows.map(() => []);
  const problems: string[] = [];
  for (const row of rows) await timed(row).catch(() => undefined);
  for (let run = 0; run < runs; run++) {
    for (const [i, row] of rows.entries()) {
      progress(`measuring start-up: ${row.name.trim()} (run ${run + 1} of ${runs})`);
      try {
        timings[i]!.push(await timed(row));
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
  }
  const width = Math.max(...rows.map((r) => r.name.length));
  const lines = [`${'Start-up, 4 ranks on one host'.padEnd(width)}  ${'wall'.padStart(7)}  ${'CPU'.padStart(7)}`];
  for (const [i, row] of rows.entries()) {
    const t = timings[i]!;
    lines.push(t.length === 0 ? `${row.name.padEnd(width)}  ${'-'.padStart(7)}  ${'-'.padStart(7)}`
      : `${row.name.padEnd(width)}  ${`${median(t.map((x) => x.wall)).toFixed(2)} s`.padStart(7)}  ${`${median(t.map((x) => x.cpu)).toFixed(2)} s`.padStart(7)}`);
  }
  lines.push(`(medians of ${runs} runs each, after a warm-up run; CPU: user + system of the whole job)`);
  for (const p of [...new Set(problems)]) lines.push(`- ${p}`);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2);
  const nodes = argv.flatMap((a, i) => (argv[i - 1] === '--node' ? [a] : []));
  const runsText = argv.includes('--runs') ? argv[argv.indexOf('--runs') + 1] : '5';
  const runs = Number(runsText);
  if (!Number.isInteger(runs) || runs < 1 || runs > 50) {
    process.stderr.write(`bench/startup.ts: --runs ${String(runsText)}: give a whole number of runs from 1 to 50\n`);
    process.exit(2);
  }
  const { rows, missing } = startupRows(nodes.length > 0 ? nodes : [process.execPath], findPython().python, null);
  process.stdout.write(`${await startupTable(rows, runs, (t) => process.stderr.write(`${t}\n`))}\n`);
  for (const m of missing) process.stdout.write(`- ${m}\n`);
}
