// Two-level collectives against flat ones on a real cluster (issue 19, item 3):
// 4 namespace hosts with their own sshd and network (test/cluster/cluster.sh,
// TCP between hosts), 3 ranks on each, bench/coll-mpi4ts.ts with
// MPI4TS_TWO_LEVEL=1 and =0 in turns, each figure the median of the passes.
// --rate R (tc's units, e.g. 1gbit) shapes each host's link to R with a token
// bucket (tc tbf), as a cluster of Raspberry Pis on Gigabit Ethernet: left
// alone, the namespaces' links are as fast as memory, and all of them share
// this machine's cores. Needs root (network namespaces), like the multi-host tests.
//   npm run bench:two-level [-- --repeat N] [--rate R]
import { buildCluster } from '../test/cluster/cluster.js';
import { join, dirname } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BENCH = join(ROOT, 'bench', 'coll-mpi4ts.ts');
const argv = process.argv.slice(2);
const REPEAT = argv.includes('--repeat') ? Number(argv[argv.indexOf('--repeat') + 1]) : 3;
const RATE = argv.includes('--rate') ? argv[argv.indexOf('--rate') + 1]! : null;
/** 1 MiB arrays (131072 doubles) for the large rows, as the issue asks. */
const MIB_DOUBLES = String((1 << 20) / 8);

const ROWS: [string, string[]][] = [
  ['bcastInto 1 MiB', ['bcastInto', '--doubles', MIB_DOUBLES, '-i', '200', '-x', '50']],
  ['allreduceInto 1 MiB', ['allreduce', '--doubles', MIB_DOUBLES, '-i', '200', '-x', '50']],
  ['bcast small object', ['bcast', '-i', '2000', '-x', '500']],
  ['allreduce 8 B', ['allreduce8', '-i', '2000', '-x', '500']],
  ['barrier', ['barrier', '-i', '2000', '-x', '500']],
];

// Its own prefix: the tests' cluster (m4h) may be up at the same time.
const cluster = await buildCluster(4, 'b2l');
if (typeof cluster === 'string') {
  process.stderr.write(`bench:two-level: no cluster: ${cluster}\n`);
  process.exit(2);
}
try {
  for (const host of RATE === null ? [] : cluster.hosts) {
    execFileSync('ip', ['netns', 'exec', host, 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'tbf', 'rate', RATE!, 'burst', '64kb', 'latency', '50ms']);
  }
  const launcher = ['--host', cluster.hosts.map((h) => `${h}:3`).join(','), '--ssh', cluster.ssh, '-x', 'MPI4TS_TWO_LEVEL'];
  const figures = new Map<string, number[]>();
  for (let pass = 0; pass < REPEAT; pass++) {
    for (const [row, args] of ROWS) {
      for (const twoLevel of ['1', '0']) {
        process.stderr.write(`measuring: ${row}, ${twoLevel === '1' ? 'two levels' : 'flat'}, pass ${pass + 1}\n`);
        const r = await cluster.run(launcher, BENCH, { args, env: { MPI4TS_TWO_LEVEL: twoLevel }, killAfterMs: 600_000 }).result;
        const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
        if (r.code !== 0 || line === undefined) throw new Error(`${row}: exit ${r.code}\n${r.stderr}`);
        const key = `${row}|${twoLevel}`;
        figures.set(key, [...(figures.get(key) ?? []), (JSON.parse(line) as { value: number }).value]);
      }
    }
  }
  const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)]!;
  const show = (us: number): string => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toPrecision(3)} us`);
  console.log(`| 12 ranks, 3 on each of 4 hosts${RATE === null ? '' : `, links of ${RATE}`} | two levels | flat | two levels / flat |`);
  console.log('|---|---|---|---|');
  for (const [row] of ROWS) {
    const two = figures.get(`${row}|1`)!;
    const flat = figures.get(`${row}|0`)!;
    console.log(`| ${row} | ${show(median(two))} (${two.map(show).join(', ')}) | ${show(median(flat))} (${flat.map(show).join(', ')}) | ${(median(two) / median(flat)).toFixed(2)}x |`);
  }
} finally {
  cluster.down();
}
