// Task pools (issue 20): tasks per second of an empty task on 4 workers,
// one host: mpi4ts's MPI.PoolExecutor under `mpi4ts run -n 5 --pool`,
// piscina with 4 worker threads, and mpi4py's MPIPoolExecutor under
// `mpiexec -n 5 python3 -m mpi4py.futures`. Each row runs `runs` times,
// the rows interleaved run by run (a slow spell of the machine falls on all
// alike); the table gives the median and the range. Used by
// bench/compare.ts (--pool); a row that cannot run says why.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');

export interface PoolRow {
  name: string;
  command: string[] | null;
  /** Why the row cannot run (command null). */
  why?: string;
}

/** Whether piscina resolves from bench/ (a devDependency: npm install). */
function piscinaMissing(): string | null {
  try {
    createRequire(join(ROOT, 'bench', 'pool-piscina.mjs')).resolve('piscina');
    return null;
  } catch {
    return 'piscina is not installed (it is a devDependency: npm install)';
  }
}

export function poolRows(python: string | null, tasks: number): PoolRow[] {
  const root = process.getuid?.() === 0 ? ['--allow-run-as-root'] : [];
  const noPiscina = piscinaMissing();
  // mpi4py's pool is some 20-40 times slower a task: fewer tasks keep its run under a minute.
  const pyTasks = Math.max(1000, Math.floor(tasks / 10));
  return [
    { name: 'mpi4ts PoolExecutor (run -n 5 --pool)', command: [process.execPath, CLI, 'run', '-n', '5', '--pool', join(ROOT, 'bench', 'pool-mpi4ts.ts'), String(tasks)] },
    noPiscina === null
      ? { name: 'piscina, 4 threads', command: [process.execPath, join(ROOT, 'bench', 'pool-piscina.mjs'), String(tasks)] }
      : { name: 'piscina, 4 threads', command: null, why: noPiscina },
    python === null
      ? { name: 'mpi4py MPIPoolExecutor (-m mpi4py.futures)', command: null, why: 'python3-mpi4py is not installed (apt-get install python3-mpi4py)' }
      : { name: 'mpi4py MPIPoolExecutor (-m mpi4py.futures)', command: ['mpiexec', ...root, '--oversubscribe', '-n', '5', python, '-m', 'mpi4py.futures', join(ROOT, 'bench', 'pool_mpi4py.py'), String(pyTasks)] },
  ];
}

function tasksPerSecond(command: string[], timeoutS: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutS * 1000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').filter((l) => l.startsWith('{')).at(-1);
      if (code !== 0 || line === undefined) {
        reject(new Error(`exited ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`));
        return;
      }
      resolve((JSON.parse(line) as { tasksPerSecond: number }).tasksPerSecond);
    });
  });
}

function rate(value: number): string {
  return value >= 10000 ? `${Math.round(value / 1000)}k` : `${(value / 1000).toFixed(1)}k`;
}

/** Measures every row `runs` times and prints the table (median, range, ratio to piscina); lines it could not run go to `missing`. */
export async function poolTable(rows: PoolRow[], runs: number, timeoutS: number, say: (text: string) => void, missing: string[]): Promise<string> {
  const figures: number[][] = rows.map(() => []);
  const problems = new Map<number, string>();
  for (let run = 0; run < runs; run++) {
    for (const [i, row] of rows.entries()) {
      if (row.command === null || problems.has(i)) continue;
      say(`measuring: ${row.name} (run ${run + 1} of ${runs})`);
      try {
        figures[i]!.push(await tasksPerSecond(row.command, timeoutS));
      } catch (err) {
        problems.set(i, (err as Error).message);
      }
    }
  }
  const medianOf = (values: number[]): number | undefined => values.slice().sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];
  const piscina = medianOf(figures[1] ?? []);
  const lines = ['Task pool, empty task, 4 workers, one host: tasks per second (higher is better), median of the runs [range]', ''];
  for (const [i, row] of rows.entries()) {
    const values = figures[i]!;
    const median = medianOf(values);
    if (median === undefined) {
      lines.push(`  ${row.name.padEnd(46)} -  (${row.why ?? problems.get(i) ?? 'no figure'})`);
      missing.push(`${row.name}: ${row.why ?? problems.get(i) ?? 'no figure'}`);
      continue;
    }
    const range = `[${rate(Math.min(...values))}-${rate(Math.max(...values))}]`;
    const ratio = piscina === undefined ? '' : `  ${(median / piscina).toFixed(2)}x piscina`;
    lines.push(`  ${row.name.padEnd(46)} ${rate(median).padStart(6)} ${range.padEnd(16)}${ratio}`);
  }
  lines.push('', 'mpi4ts sends the tasks submitted in one turn of the event loop to each worker in batches (DESIGN.md "Task pools"); piscina posts one message a task;',
    'mpi4py sends one pickled task a message. mpi4py runs a tenth as many tasks (its rate is the same at any count).');
  return lines.join('\n');
}
