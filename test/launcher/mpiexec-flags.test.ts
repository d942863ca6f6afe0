// mpiexec's flags in `mpi4ts run`, as Hydra and Open MPI users paste them:
// environment (-genv NAME VALUE, -env, -genvlist, -genvall), -wdir, output
// (--output-filename, -outfile-pattern, --timestamp-output), binding
// (--bind-to, --map-by, --report-bindings, read back from /proc in the
// ranks), -N, --display-map, -print-all-exitcodes, MPIEXEC_TIMEOUT and Open
// MPI's single-dash spellings. Real jobs through the real launcher.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { mpi4ts, program, ROOT } from '../helpers.js';

const where = program('where.ts');
const FAKE_SSH = `sh ${join(ROOT, 'test', 'launcher', 'fake-ssh.sh')}`;

interface Where {
  rank: number;
  appnum: number;
  cwd: string;
  env: Record<string, string | null>;
  cpus: string;
  threadCpus: string[];
}

/** The ranks' JSON lines, in rank order. */
function ranksOf(stdout: string): Where[] {
  return stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Where).sort((a, b) => a.rank - b.rank);
}

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'mpi4ts-flags-'));
}

/** The CPUs this process may use, as the ranks will see them before binding. */
const here = /^Cpus_allowed_list:\s*(.*)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]!;
const cpusHere = here.split(',').flatMap((part) => {
  const [lo, hi] = part.split('-').map(Number);
  return Array.from({ length: (hi ?? lo!) - lo! + 1 }, (_, i) => lo! + i);
});
const twoCpus = cpusHere.length >= 2 && availableParallelism() >= 2;

test('Hydra\'s environment flags: -genv NAME VALUE and NAME=VALUE, -genvlist, -x and --env; a bad -genv is named', async () => {
  const r = await mpi4ts(['run', '-n', '2', '-genv', 'A', 'x y', '-genv', 'C=3', '-genvlist', 'B,D', '-x', 'E=5', '--env', 'F=6',
    where, 'A', 'B', 'C', 'D', 'E', 'F'], { env: { B: 'from-shell', D: 'd' } });
  assert.equal(r.code, 0, r.stderr);
  const ranks = ranksOf(r.stdout);
  assert.equal(ranks.length, 2);
  for (const rank of ranks) assert.deepEqual(rank.env, { A: 'x y', B: 'from-shell', C: '3', D: 'd', E: '5', F: '6' });
  const bad = await mpi4ts(['run', '-n', '1', '-genv', 'A']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /option -genv needs a name and a value \(VAR VAL\), got only "A"/);
  const badList = await mpi4ts(['run', '-n', '1', '-genvlist', 'A,,B', where]);
  assert.equal(badList.code, 2);
  assert.match(badList.stderr, /-genvlist "A,,B" has an empty name/);
});

test('MPMD: -env and -envlist before the first program are its block\'s, -genv everyone\'s; a block takes its own -env and -wdir', async () => {
  const dir = scratch();
  try {
    mkdirSync(join(dir, 'sub'));
    const r = await mpi4ts(['run', '-genv', 'G', 'all', '-env', 'L', 'first', '-n', '1', where, 'G', 'L', ':',
      '-n', '2', '-env', 'L', 'second', '-wdir', join(dir, 'sub'), where, 'G', 'L'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const ranks = ranksOf(r.stdout);
    assert.deepEqual(ranks.map((w) => [w.appnum, w.env.G, w.env.L, w.cwd]), [
      [0, 'all', 'first', dir], [1, 'all', 'second', join(dir, 'sub')], [1, 'all', 'second', join(dir, 'sub')]]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('-wdir (and --wdir, -wd): the ranks run there; a relative program is looked for there first, then here; a missing one is named', async () => {
  const dir = scratch();
  try {
    mkdirSync(join(dir, 'data'));
    for (const spelling of ['-wdir', '--wdir', '-wd']) {
      const r = await mpi4ts(['run', '-n', '2', spelling, 'data', where], { cwd: dir });
      assert.equal(r.code, 0, `${spelling}: ${r.stderr}`);
      assert.deepEqual(ranksOf(r.stdout).map((w) => w.cwd), [join(dir, 'data'), join(dir, 'data')]);
    }
    // A relative program: the one in -wdir wins, as mpiexec's ranks find it there; else the launcher's.
    writeFileSync(join(dir, 'p.mjs'), 'console.log(`here ${process.cwd()}`);\n');
    writeFileSync(join(dir, 'q.mjs'), 'console.log(`here ${process.cwd()}`);\n');
    writeFileSync(join(dir, 'data', 'p.mjs'), 'console.log(`in data ${process.cwd()}`);\n');
    const inWdir = await mpi4ts(['run', '-n', '1', '-wdir', 'data', 'p.mjs'], { cwd: dir });
    assert.equal(inWdir.stdout, `in data ${join(dir, 'data')}\n`, inWdir.stderr);
    const inCwd = await mpi4ts(['run', '-n', '1', '-wdir', 'data', 'q.mjs'], { cwd: dir });
    assert.equal(inCwd.stdout, `here ${join(dir, 'data')}\n`, inCwd.stderr);
    const missing = await mpi4ts(['run', '-n', '1', '-wdir', 'nope', where], { cwd: dir });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, new RegExp(`--wdir "nope": ${join(dir, 'nope')} is not a directory`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--output-filename DIR: the terminal and DIR/1/rank.N/stdout|stderr, stamped and tagged; :nocopy keeps the terminal clear', async () => {
  const dir = scratch();
  try {
    const r = await mpi4ts(['run', '-n', '2', '--output-filename', join(dir, 'out'), '--timestamp-output', '--tag-output', where]);
    assert.equal(r.code, 0, r.stderr);
    const stamp = String.raw`\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] `;
    assert.match(r.stdout, new RegExp(`^${stamp}\\[1\\] \\{"rank":1`, 'm'));
    for (const rank of [0, 1]) {
      const stdout = readFileSync(join(dir, 'out', '1', `rank.${rank}`, 'stdout'), 'utf8');
      const stderr = readFileSync(join(dir, 'out', '1', `rank.${rank}`, 'stderr'), 'utf8');
      assert.match(stdout, new RegExp(`^${stamp}\\[${rank}\\] \\{"rank":${rank},`));
      assert.match(stderr, new RegExp(`^${stamp}\\[${rank}\\] stderr of rank ${rank}\\n$`));
    }
    const quiet = await mpi4ts(['run', '-n', '2', '-output-filename', `${join(dir, 'quiet')}:nocopy`, where]);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stdout, '');
    assert.doesNotMatch(quiet.stderr, /stderr of rank/);
    assert.match(readFileSync(join(dir, 'quiet', '1', 'rank.1', 'stdout'), 'utf8'), /^\{"rank":1,/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('-outfile-pattern / -errfile-pattern: each rank\'s stream to its own file instead of the terminal (%r, %h); a bad pattern is named', async () => {
  const dir = scratch();
  try {
    const r = await mpi4ts(['run', '-n', '2', '-outfile-pattern', join(dir, 'out.%r.%h'), '-errfile-pattern', join(dir, 'err.%r'), where]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.doesNotMatch(r.stderr, /stderr of rank/);
    for (const rank of [0, 1]) {
      assert.match(readFileSync(join(dir, `out.${rank}.${hostname()}`), 'utf8'), new RegExp(`^\\{"rank":${rank},`));
      assert.equal(readFileSync(join(dir, `err.${rank}`), 'utf8'), `stderr of rank ${rank}\n`);
    }
    const bad = await mpi4ts(['run', '-n', '1', '-outfile-pattern', join(dir, '%x'), where]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /-outfile-pattern ".*%x": "%x" is not one of %r \(rank\), %h \(host\)/);
    assert.ok(!existsSync(join(dir, '%x')));
    const both = await mpi4ts(['run', '-n', '1', '--output-filename', dir, '-errfile-pattern', 'e.%r', where]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /give --output-filename or -outfile-pattern\/-errfile-pattern, not both/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--bind-to core --report-bindings: each rank and every one of its threads on one core of its own, as /proc says', { skip: !twoCpus && 'needs 2 CPUs' }, async () => {
  const r = await mpi4ts(['run', '-n', '2', '--bind-to', 'core', '--report-bindings', where]);
  assert.equal(r.code, 0, r.stderr);
  const ranks = ranksOf(r.stdout);
  assert.equal(ranks.length, 2);
  for (const rank of ranks) {
    assert.match(rank.cpus, /^\d+$/, `rank ${rank.rank} bound to one CPU`);
    assert.deepEqual(rank.threadCpus, [rank.cpus], `every thread of rank ${rank.rank} has its mask`);
    assert.match(r.stderr, new RegExp(`^\\[${hostname()}:\\d+\\] rank ${rank.rank} bound to core \\d+: CPUs ${rank.cpus} \\[[B./]+\\]`, 'm'));
  }
  assert.notEqual(ranks[0]!.cpus, ranks[1]!.cpus);
});

test('binding: more ranks than cores is refused before any rank starts, unless --oversubscribe; --map-by core binds to core; --bind-to socket and none', { skip: !twoCpus && 'needs 2 CPUs' }, async () => {
  // Enough ranks to overflow this machine's cores whatever it has.
  const tooMany = String(cpusHere.length + 1);
  const refused = await mpi4ts(['run', '-n', tooMany, '--bind-to', 'core', where]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, new RegExp(`--bind-to core --map-by core: ${tooMany} ranks on this host but only \\d+ cores .*--oversubscribe`));
  assert.equal(refused.stdout, '');
  const shared = await mpi4ts(['run', '-n', '3', '-oversubscribe', '-map-by', 'core', where]);
  assert.equal(shared.code, 0, shared.stderr);
  const ranks = ranksOf(shared.stdout);
  for (const rank of ranks) assert.match(rank.cpus, /^\d+$/, `--map-by core binds rank ${rank.rank} to a core`);
  assert.equal(ranks[0]!.cpus === ranks[1]!.cpus, false);
  const socket = await mpi4ts(['run', '-n', '2', '--bind-to', 'socket', '--report-bindings', where]);
  assert.equal(socket.code, 0, socket.stderr);
  for (const rank of ranksOf(socket.stdout)) assert.notEqual(rank.cpus, '?');
  assert.match(socket.stderr, /rank 0 bound to socket 0: CPUs /);
  const none = await mpi4ts(['run', '-n', '1', '--bind-to', 'none', '--report-bindings', where]);
  assert.equal(none.code, 0, none.stderr);
  assert.equal(ranksOf(none.stdout)[0]!.cpus, here);
  assert.match(none.stderr, /rank 0 is not bound \(--bind-to none\)/);
  const bad = await mpi4ts(['run', '-n', '1', '--bind-to', 'core:2', where]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--bind-to must be one of none, hwthread, core, numa, socket, optionally with :overload-allowed, got "core:2"/);
});

test('remote ranks bind themselves on their own host, and run in -wdir there', { skip: !twoCpus && 'needs 2 CPUs' }, async () => {
  const dir = scratch();
  try {
    const r = await mpi4ts(['run', '--host', 'fakehost1:2', '--ssh', FAKE_SSH, '--bind-to', 'core', '-wdir', dir, where]);
    assert.equal(r.code, 0, r.stderr);
    const ranks = ranksOf(r.stdout);
    assert.equal(ranks.length, 2);
    for (const rank of ranks) {
      assert.match(rank.cpus, /^\d+$/);
      assert.equal(rank.cwd, dir);
    }
    assert.notEqual(ranks[0]!.cpus, ranks[1]!.cpus);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('-print-all-exitcodes: how every rank ended, the failing one and those the launcher stopped', async () => {
  const r = await mpi4ts(['run', '-n', '3', '-print-all-exitcodes', program('fail.ts'), 'exit', '1']);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /mpi4ts: exit codes:\n {2}rank 0 \(localhost\): (killed by signal SIGTERM|exit code \d+) \(stopped by the launcher\)\n {2}rank 1 \(localhost\): exit code 3\n {2}rank 2 \(localhost\): /);
  const clean = await mpi4ts(['run', '-n', '2', '--print-all-exitcodes', where]);
  assert.equal(clean.code, 0, clean.stderr);
  assert.match(clean.stderr, /mpi4ts: exit codes:\n {2}rank 0 \(localhost\): exit code 0\n {2}rank 1 \(localhost\): exit code 0\n/);
});

test('--display-map, -N and Open MPI\'s single-dash spellings (-oversubscribe, -tag-output, -timeout, -npernode)', async () => {
  const r = await mpi4ts(['run', '-display-map', '-N', '3', '--host', 'localhost', '-tag-output', '-timeout', '60', where]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^mpi4ts: job map: 3 rank\(s\) on 1 host\(s\), not bound\n {2}localhost: 3 rank\(s\)\n {4}rank 0: .*where\.ts\n/);
  assert.match(r.stdout, /^\[2\] \{"rank":2,/m);
  const ompi = await mpi4ts(['run', '-np', '3', '-oversubscribe', '-npernode', '3', '--host', 'localhost:1', where]);
  assert.equal(ompi.code, 0, ompi.stderr);
  assert.equal(ranksOf(ompi.stdout).length, 3);
});

test('MPIEXEC_TIMEOUT stops a job that overruns it (exit 124, named); --timeout wins over it; a bad value is named', async () => {
  const r = await mpi4ts(['run', '-n', '2', where, '--sleep', '30'], { env: { MPIEXEC_TIMEOUT: '1' } });
  assert.equal(r.code, 124, r.stderr);
  assert.match(r.stderr, /the job did not finish within 1 s \(MPIEXEC_TIMEOUT\); stopping 2 rank\(s\)/);
  const wins = await mpi4ts(['run', '-n', '1', '--timeout', '30', where, '--sleep', '2'], { env: { MPIEXEC_TIMEOUT: '1' } });
  assert.equal(wins.code, 0, wins.stderr);
  const bad = await mpi4ts(['run', '-n', '1', where], { env: { MPIEXEC_TIMEOUT: 'soon' } });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /MPIEXEC_TIMEOUT="soon" must be a positive number of seconds/);
});

test('run --help lists mpiexec\'s flags in both spellings', async () => {
  const r = await mpi4ts(['run', '--help']);
  for (const flag of ['-genv', '-genvlist', '-genvall', '-env', '-envlist', '-wdir', '--wdir', '-wd', '--output-filename', '-outfile-pattern',
    '-errfile-pattern', '--timestamp-output', '--bind-to', '-bind-to', '--map-by', '--report-bindings', '-N', '--display-map',
    '-print-all-exitcodes', '-oversubscribe', '-tag-output', '-timeout', '-npernode', 'MPIEXEC_TIMEOUT']) {
    assert.ok(r.stdout.includes(flag), `run --help lacks ${flag}`);
  }
});

test('MPMD: a block with its own --host runs on those hosts, the others share the job\'s; too few slots for it is named', async () => {
  const r = await mpi4ts(['run', '--ssh', FAKE_SSH, '--display-map', '--host', 'localhost:3', '-n', '1', where, ':',
    '-n', '2', '--host', 'fakehost1:2', where, ':', '-n', '2', where]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /job map: 5 rank\(s\) on 2 host\(s\)[^\n]*\n {2}localhost: 3 rank\(s\)\n {4}rank 0: \S*where\.ts \(app 0\)\n {4}rank 3: \S*where\.ts \(app 2\)\n {4}rank 4: \S*where\.ts \(app 2\)\n {2}fakehost1: 2 rank\(s\)\n {4}rank 1: \S*where\.ts \(app 1\)\n {4}rank 2: \S*where\.ts \(app 1\)\n/);
  assert.deepEqual(ranksOf(r.stdout).map((w) => w.appnum), [0, 1, 1, 2, 2]);
  const short = await mpi4ts(['run', '--ssh', FAKE_SSH, '-n', '1', where, ':', '-n', '3', '--host', 'fakehost1:2', where]);
  assert.equal(short.code, 2);
  assert.match(short.stderr, /-n 3 needs 3 slots but the hosts offer 2 \(fakehost1:2\)/);
});

test('output options with nothing to write to are named, and nothing starts', async () => {
  for (const [args, message] of [
    [['--output-filename', ':nocopy'], /--output-filename needs a directory, got ":nocopy"/],
    [['--output-filename', ''], /--output-filename needs a directory, got ""/],
    [['-errfile-pattern', ''], /-errfile-pattern "": it is empty/],
  ] as const) {
    const r = await mpi4ts(['run', '-n', '1', ...args, where]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, '');
  }
});
