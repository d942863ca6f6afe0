// Dynamic processes (comm.spawn, spawnMultiple, MPI.getParent, MPI.UNIVERSE_SIZE)
// through the real launcher: test/programs/spawn.ts is both parent and child.
import { test, countedTest, counts } from './counts.js';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { example, mpirun, okLines, passes, program, strays } from './helpers.js';
import { checkWellFormed, readTimeline } from './launcher/timeline-check.js';

const SPAWN = program('spawn.ts');

/** Strays for a while after a kill: children notice a lost launcher within seconds. */
async function noneLeft(marker: string): Promise<void> {
  let left: string[] = [];
  for (let i = 0; i < 40; i++) {
    left = await strays(marker, 250);
    if (left.length === 0) break;
  }
  assert.deepEqual(left, []);
}

for (const np of counts([1, 2, 4, 7])) {
  countedTest(`rank 0 of ${np} spawns ${np + 1} children: intercomm p2p and collectives both ways`, async () => {
    const r = await mpirun(np, SPAWN, { args: ['basic', '0'] });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(okLines(r.stdout), [`spawn ${np + 1} from root 0`]);
    assert.deepEqual(await strays(r.marker), []);
  });
}

test('--trace and --profile cover the job\'s ranks while they spawn (the children are not traced)', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'mpi4ts-spawn-')), 'trace.json');
  const r = await mpirun(2, SPAWN, { args: ['basic', '0'], launcher: ['--trace', file, '--profile'] });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /mpi4ts profile \(--profile\): 2 of 2 rank\(s\)\n/);
  const doc = readTimeline(file);
  checkWellFormed(doc);
});

test('--tag-output labels the children\'s lines [world:rank]', async () => {
  const r = await mpirun(2, SPAWN, { args: ['hello'], launcher: ['--tag-output'] });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => l !== '').sort();
  assert.deepEqual(lines, ['[0] ok hello', '[1:0] child 0', '[1:1] child 1']);
});

test('a non-zero root spawns (root 2 of 3)', async () => {
  await passes(3, SPAWN, ['spawn 4 from root 2'], { args: ['basic', '2'] });
});

test('two spawns in one job, from the last rank and from rank 0 of a dup', async () => {
  const r = await passes(3, SPAWN, ['two spawns'], { args: ['twice'] });
  assert.deepEqual(await strays(r.marker), []);
});

test('two communicators spawn at once; each merges with its children', async () => {
  const r = await passes(4, SPAWN, ['concurrent spawns, merged'], { args: ['concurrent'] });
  assert.deepEqual(await strays(r.marker), []);
});

test('spawnMultiple: one COMM_WORLD for all the commands, APPNUM per command, env per command', async () => {
  await passes(2, SPAWN, ['spawnMultiple'], { args: ['multiple'] });
});

test('nested spawn: each child spawns a grandchild from COMM_SELF', async () => {
  const r = await passes(2, SPAWN, ['nested spawn'], { args: ['nested'] });
  assert.deepEqual(await strays(r.marker), []);
});

test('getParent() is null in a plain job; UNIVERSE_SIZE is -n locally and the hosts\' slots with --host', async () => {
  const local = await mpirun(3, SPAWN, { args: ['universe'] });
  assert.equal(local.code, 0, local.stderr);
  assert.deepEqual(okLines(local.stdout), ['universe 3 parent null']);
  const hosts = await mpirun(2, SPAWN, { args: ['universe'], launcher: ['--host', 'localhost:5'] });
  assert.equal(hosts.code, 0, hosts.stderr);
  assert.deepEqual(okLines(hosts.stdout), ['universe 5 parent null']);
});

test('a child that throws ends the whole job with its error and leaves nothing behind', async () => {
  const r = await mpirun(2, SPAWN, { args: ['throw'], killAfterMs: 60_000 });
  assert.equal(r.signal, null);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /Error: child 1 fails on purpose/);
  assert.match(r.stderr, /rank 1 of spawned world 1 \(localhost, pid \d+\) exited with code 1; stopping the job/);
  assert.deepEqual(await strays(r.marker), []);
});

test('a child SIGKILLed ends the whole job (only a PoolExecutor\'s spawned workers may die without ending it); nothing left', async () => {
  const r = await mpirun(2, SPAWN, { args: ['killed'], killAfterMs: 60_000 });
  assert.equal(r.code, 137, r.stderr);
  assert.match(r.stderr, /rank 1 of spawned world 1 \(localhost, pid \d+\) was killed by signal SIGKILL; stopping the job/);
  assert.doesNotMatch(r.stderr, /goes on without it/);
  assert.deepEqual(await strays(r.marker), []);
});

test('a child that exits 0 without joining (no mpi4ts in it) ends the job instead of a spawn that waits for ever', async () => {
  const r = await mpirun(2, SPAWN, { args: ['nompi'], killAfterMs: 60_000 });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /rank [01] of spawned world 1 \(localhost, pid \d+\) exited before it joined the job \(does its program import mpi4ts\?\); stopping the job/);
  assert.deepEqual(okLines(r.stdout), []);
  assert.deepEqual(await strays(r.marker), []);
});

test('the launcher SIGKILLed while children run leaves no parent or child behind', async () => {
  let launcher = 0;
  let up = false;
  const running = mpirun(2, SPAWN, {
    args: ['sleep'],
    onStart: (pid) => { launcher = pid; },
    onStdout: (text) => { up ||= text.includes('ok children up'); },
  });
  for (let i = 0; i < 240 && !up; i++) await new Promise((r) => setTimeout(r, 250));
  assert.ok(up, 'the children came up');
  // The children's command lines carry the marker too: 2 parents and 2 children.
  const marker = (await strays('programs/spawn.ts sleep')).filter((l) => l.includes('mpi4ts-test-'));
  assert.ok(marker.length >= 4, marker.join('\n'));
  process.kill(launcher, 'SIGKILL');
  const r = await running;
  assert.equal(r.signal, 'SIGKILL');
  await noneLeft(r.marker);
});

test('Ctrl-C stops parents and children, exit code 130', async () => {
  let launcher = 0;
  let up = false;
  const running = mpirun(2, SPAWN, {
    args: ['sleep'],
    onStart: (pid) => { launcher = pid; },
    onStdout: (text) => { up ||= text.includes('ok children up'); },
  });
  for (let i = 0; i < 240 && !up; i++) await new Promise((r) => setTimeout(r, 250));
  assert.ok(up, 'the children came up');
  process.kill(launcher, 'SIGINT');
  const r = await running;
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /interrupted by SIGINT; stopping 4 rank\(s\)/);
  await noneLeft(r.marker);
});

test('parents waiting for children that sleep on a timer are not a deadlock', async () => {
  await passes(2, SPAWN, ['waited for the children'], { args: ['wait'] });
});

test('parents and children that wait for each other are a deadlock, children named', async () => {
  const r = await mpirun(2, SPAWN, { args: ['deadlock'], killAfterMs: 60_000 });
  assert.equal(r.code, 125, r.stderr);
  assert.match(r.stderr, /mpi4ts: deadlock: every rank waits/);
  assert.match(r.stderr, /rank 0 of spawned world 1 \(/);
  assert.deepEqual(await strays(r.marker), []);
});

test('bad input: the exact messages, on every parent', async () => {
  const r = await mpirun(2, SPAWN, { args: ['bad'] });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => /^\w+: ERR_/.test(l));
  assert.deepEqual(lines, [
    `missing: ERR_ARG: spawn: command "no-such-program.ts" does not exist (looked for ${process.cwd()}/no-such-program.ts)`,
    'zero: ERR_ARG: spawn: maxprocs must be an integer from 1 to 100000, got 0',
    'negative: ERR_ARG: spawn: maxprocs must be an integer from 1 to 100000, got -1',
    'fraction: ERR_ARG: spawn: maxprocs must be an integer from 1 to 100000, got 1.5',
    'root: ERR_ROOT: spawn: root 2 is out of range for a communicator of size 2 (0..1)',
    'args: ERR_ARG: spawn: args must be an array of strings, got [1]',
  ]);
  assert.deepEqual(okLines(r.stdout), ['bad input']);
});

test('spawn without mpi4ts run (a singleton under plain node) says it is not available', () => {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', `
    const MPI = await import('mpi4ts');
    try { await MPI.COMM_WORLD.spawn(${JSON.stringify(SPAWN)}, ['universe'], 1); console.log('spawned?'); }
    catch (err) { console.log(err.code + ': ' + err.message); }
  `], { encoding: 'utf8', env: { ...process.env, MPI4TS_CONTROL: '' }, input: '' });
  assert.equal(out.trim(), 'MPI4TS_ERR_SPAWN: spawn: not available under a singleton (a program run without a launcher); ' +
    'start the job with mpi4ts run to spawn processes');
});

for (const np of counts([1, 3])) {
  countedTest(`examples/cpi-spawn.ts at ${np} rank(s)`, async () => {
    const r = await mpirun(np, example('cpi-spawn.ts'), { args: ['4', '1000000'] });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /pi is approximately 3\.14159\d+, error [\d.e-]+/);
  });
}

test('examples/mandelbrot-master.ts spawns its workers and checks the image', async () => {
  const r = await mpirun(1, example('mandelbrot-master.ts'), { args: ['3'] });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /mandelbrot: \d+ x \d+ image from \d+ workers matches the serial one \(checksum \d+\)/);
});

