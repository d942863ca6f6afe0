// MPMD jobs through `mpi4ts run`: the colon form and --app/-configfile, one
// COMM_WORLD over every block, ranks in block order, MPI.APPNUM per block,
// each block's own arguments and environment, and the server/clients
// pattern of the tutorial (test/programs/mpmd-server.ts, mpmd-client.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mpi4ts, program, strays, type JobResult } from '../helpers.js';

const server = program('mpmd-server.ts');
const client = program('mpmd-client.ts');

interface Seen {
  rank: number;
  appnum: number;
  role: string;
  args: string[];
  mode: string;
}

/** What the server gathered, in rank order, and the sum of squares its clients sent back. */
function report(r: JobResult): { size: number; ranks: Seen[]; sum: number } {
  assert.equal(r.code, 0, r.stderr);
  const size = Number(/^world (\d+)$/m.exec(r.stdout)?.[1]);
  const ranks = r.stdout.split('\n').filter((l) => l.startsWith('rank ')).map((l) => JSON.parse(l.slice(5)) as Seen);
  const sum = Number(/^sum of squares (\d+)$/m.exec(r.stdout)?.[1]);
  return { size, ranks, sum };
}

/** Sum of r*r over the client ranks. */
function squares(clients: number[]): number {
  return clients.reduce((s, r) => s + r * r, 0);
}

function withAppFile<T>(text: string, use: (path: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'mpi4ts-app-'));
  const path = join(dir, 'apps.txt');
  writeFileSync(path, text);
  return use(path).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('-n 1 server : -n 3 client: one world of 4, server rank 0 with APPNUM 0, clients 1..3 with APPNUM 1, argv and env per block', async () => {
  const marker = `mpi4ts-test-${randomUUID()}`;
  const r = await mpi4ts(['run', '--env', 'MODE=job', '-n', '1', server, 's-arg', marker, ':',
    '-n', '3', '--env', 'MODE=clients', client, 'c-arg', '-v', marker]);
  const { size, ranks, sum } = report(r);
  assert.equal(size, 4);
  assert.deepEqual(ranks, [
    { rank: 0, appnum: 0, role: 'server', args: ['s-arg', marker], mode: 'job' },
    ...[1, 2, 3].map((rank) => ({ rank, appnum: 1, role: 'client', args: ['c-arg', '-v', marker], mode: 'clients' })),
  ]);
  assert.equal(sum, squares([1, 2, 3]), 'the server and its clients talk');
  assert.deepEqual(await strays(marker), []);
});

test('three blocks, --app FILE and -configfile FILE: ranks in block order, APPNUM 0, 1, 2', async () => {
  const text = '# a server, then two kinds of client\n-n 1 mpmd-server.ts\n\n-n 2 mpmd-client.ts "first kind" # two\n-n 1 --env MODE=other mpmd-client.ts second\n';
  for (const option of ['--app', '-configfile']) {
    const r = await withAppFile(text.replaceAll('mpmd-server.ts', server).replaceAll('mpmd-client.ts', client), (path) => mpi4ts(['run', option, path]));
    const { size, ranks, sum } = report(r);
    assert.equal(size, 4, option);
    assert.deepEqual(ranks.map((s) => [s.rank, s.appnum, s.role, s.args.join('|'), s.mode]), [
      [0, 0, 'server', '', 'unset'],
      [1, 1, 'client', 'first kind', 'unset'],
      [2, 1, 'client', 'first kind', 'unset'],
      [3, 2, 'client', 'second', 'other'],
    ], option);
    assert.equal(sum, squares([1, 2, 3]), option);
  }
});

test('MPMD on a host list: the blocks fill the slots in order (two servers, then three clients, --map-by node)', async () => {
  const r = await mpi4ts(['run', '--host', 'localhost:2,127.0.0.1:3', '--map-by', 'node', '-n', '2', server, ':', '-n', '3', client]);
  const { size, ranks, sum } = report(r);
  assert.equal(size, 5);
  assert.deepEqual(ranks.map((s) => [s.rank, s.appnum]), [[0, 0], [1, 0], [2, 1], [3, 1], [4, 1]]);
  assert.equal(sum, squares([2, 3, 4]));
});

test('one program: APPNUM is 0, and ":" is no longer passed to the program', async () => {
  const { size, ranks } = report(await mpi4ts(['run', '-n', '1', server, 'x']));
  assert.equal(size, 1);
  assert.deepEqual(ranks, [{ rank: 0, appnum: 0, role: 'server', args: ['x'], mode: 'unset' }]);
});

const badRuns: [string[], RegExp][] = [
  [['-n', '1', server, ':', client], /^mpi4ts: block 2 \(.*mpmd-client\.ts\) has no -n: with several programs each needs its own/m],
  [['-n', '1', server, ':', '-n', '2', '--timeout', '5', client],
    /^mpi4ts: block 2 \(.*mpmd-client\.ts\): unknown option "--timeout"; a block takes only -n, -env\/--env, -envlist, -x, -wdir and --host \(give the job's options before the first program\)$/m],
  [['--app', 'no/such/apps.txt'], /^mpi4ts: cannot read app file "no\/such\/apps\.txt": ENOENT$/m],
  [['--app', 'x.txt', server], /^mpi4ts: --app x\.txt names the programs; give none on the command line \(got ".*mpmd-server\.ts"\)$/m],
  [['-n', '2', '--app', 'x.txt'], /^mpi4ts: --app x\.txt: give -n on each line of the file, not before --app$/m],
];

for (const [argv, message] of badRuns) {
  test(`mpi4ts run ${argv.map((a) => a.replace(/.*\//, '')).join(' ')}: a clear error, exit code 2`, async () => {
    const r = await mpi4ts(['run', ...argv]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace for a usage error');
  });
}

test('run --help shows the MPMD form, --app and -configfile', async () => {
  const r = await mpi4ts(['run', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /-n N1 prog1\.ts \[args\.\.\.\] : -n N2 prog2\.ts/);
  for (const text of ['--app', '-configfile', 'MPI.APPNUM', 'lone ":"']) assert.ok(r.stdout.includes(text), `--help lacks ${text}`);
});
