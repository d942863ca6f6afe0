// The crossovers of the collective algorithms chosen by size (DESIGN.md "The
// collectives at scale"): each case run with each MPI4TS_ALGO_* value in
// turn, pass after pass (A, B, A, B...: a shared machine drifts, and each
// pair then sees the same load), through bench/coll-mpi4ts.ts; prints the
// spread (lowest-highest over the passes) of each, in microseconds.
//   npm run build && node --import tsx bench/algorithms.ts [--passes 2] [--ranks 2,4,8] [--only allreduce,bcastInto,alltoall]
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { passes: { type: 'string' }, ranks: { type: 'string' }, only: { type: 'string' }, sizes: { type: 'string' } } });
const passes = Number(values.passes ?? 2);
const rankCounts = (values.ranks ?? '2,4,8').split(',').map(Number);
const only = values.only?.split(',') ?? ['allreduce', 'bcastInto', 'alltoall'];

interface Case {
  test: string;
  variable: string;
  algorithms: string[];
  /** Bytes of the typed array; null for the value alltoall. */
  bytes: number[] | [null];
}

const customSizes = values.sizes?.split(',').map(Number);
const CASES: Case[] = [
  { test: 'allreduce', variable: 'MPI4TS_ALGO_ALLREDUCE', algorithms: ['doubling', 'rabenseifner', 'ring'], bytes: customSizes ?? [16 << 10, 64 << 10, 256 << 10, 1 << 20, 8 << 20] },
  { test: 'bcastInto', variable: 'MPI4TS_ALGO_BCAST', algorithms: ['binomial', 'scatter-allgather'], bytes: customSizes ?? [64 << 10, 256 << 10, 1 << 20, 8 << 20] },
  { test: 'alltoall', variable: 'MPI4TS_ALGO_ALLTOALL', algorithms: ['pairwise', 'bruck'], bytes: [null] },
];

/** Fewer calls for larger messages, so that a case takes a second or two. */
function iterations(bytes: number | null): string[] {
  if (bytes === null) return ['-i', '1000', '-x', '500'];
  if (bytes <= 64 << 10) return ['-i', '300', '-x', '100'];
  if (bytes <= 1 << 20) return ['-i', '100', '-x', '30'];
  return ['-i', '30', '-x', '10'];
}

function run(np: number, c: Case, bytes: number | null, algorithm: string): number {
  const args = ['dist/cli/main.js', 'run', '-n', String(np), 'bench/coll-mpi4ts.ts', c.test, ...iterations(bytes),
    ...(bytes === null ? [] : ['--doubles', String(bytes / 8)])];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, [c.variable]: algorithm } });
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (r.status !== 0 || line === undefined) throw new Error(`${args.join(' ')} with ${c.variable}=${algorithm}: ${r.stderr.slice(-2000)}`);
  return (JSON.parse(line) as { value: number }).value;
}

const format = (us: number): string => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} us`);
const sizeOf = (bytes: number | null): string => (bytes === null ? 'a number each' : bytes >= 1 << 20 ? `${bytes / (1 << 20)} MiB` : `${bytes / 1024} KiB`);

for (const c of CASES.filter((k) => only.includes(k.test))) {
  console.log(`\n${c.test} (${c.variable}), ${passes} alternating passes, lowest-highest:`);
  console.log(`| ranks | size | ${c.algorithms.join(' | ')} |`);
  console.log(`|---|---|${c.algorithms.map(() => '---').join('|')}|`);
  for (const np of rankCounts) {
    for (const bytes of c.bytes) {
      const times = c.algorithms.map((): number[] => []);
      for (let pass = 0; pass < passes; pass++) c.algorithms.forEach((algorithm, a) => times[a]!.push(run(np, c, bytes, algorithm)));
      const cells = times.map((t) => `${format(Math.min(...t))}-${format(Math.max(...t))}`);
      console.log(`| ${np} | ${sizeOf(bytes)} | ${cells.join(' | ')} |`);
    }
  }
}
