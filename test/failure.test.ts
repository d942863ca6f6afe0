import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mpirun, program, strays } from './helpers.js';

const cases = [
  { mode: 'throw', np: 3, culprit: 1, code: 1, stderr: /Error: boom from rank 1\n\s+at .*fail\.ts[\s\S]*rank 1 \(localhost, pid \d+\) exited with code 1; stopping the job/ },
  { mode: 'reject', np: 2, culprit: 0, code: 1, stderr: /rejected on rank 0[\s\S]*rank 0 \(localhost, pid \d+\) exited with code 1/ },
  { mode: 'exit', np: 4, culprit: 3, code: 3, stderr: /rank 3 \(localhost, pid \d+\) exited with code 3; stopping the job/ },
  { mode: 'signal', np: 2, culprit: 1, code: 137, stderr: /rank 1 \(localhost, pid \d+\) was killed by signal SIGKILL; stopping the job/ },
  { mode: 'abort', np: 4, culprit: 2, code: 5, stderr: /rank 2 called abort\(5\); stopping the job/ },
];

for (const c of cases) {
  test(`a rank that fails by ${c.mode} ends the job with code ${c.code} and leaves nothing behind`, async () => {
    const r = await mpirun(c.np, program('fail.ts'), { args: [c.mode, String(c.culprit)], killAfterMs: 60_000 });
    assert.equal(r.signal, null, 'the launcher ended by itself, not by the test harness');
    assert.equal(r.code, c.code, r.stderr);
    assert.match(r.stderr, c.stderr);
    assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('ready')).length, c.np);
    assert.deepEqual(await strays(r.marker), []);
  });
}

test('Ctrl-C (SIGINT to the launcher) stops every rank, exit code 130', async () => {
  let launcher = 0;
  const running = mpirun(3, program('fail.ts'), { args: ['hang', '0'], onStart: (pid) => { launcher = pid; } });
  await waitForReady(running, () => launcher, 3);
  process.kill(launcher, 'SIGINT');
  const r = await running;
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /interrupted by SIGINT; stopping 3 rank\(s\)/);
  assert.deepEqual(await strays(r.marker), []);
});

test('--timeout stops a job that hangs, exit code 124', async () => {
  const r = await mpirun(2, program('fail.ts'), { args: ['hang', '0'], launcher: ['--timeout', '3'] });
  assert.equal(r.code, 124, r.stderr);
  assert.match(r.stderr, /did not finish within 3 s \(--timeout\); stopping 2 rank\(s\)/);
  assert.deepEqual(await strays(r.marker), []);
});

test('ranks end by themselves when the launcher is killed outright', async () => {
  let launcher = 0;
  const running = mpirun(3, program('fail.ts'), { args: ['hang', '0'], onStart: (pid) => { launcher = pid; } });
  await waitForReady(running, () => launcher, 3);
  process.kill(launcher, 'SIGKILL');
  const r = await running;
  assert.equal(r.signal, 'SIGKILL');
  // The ranks notice the lost control connection; give them a moment.
  let left: string[] = [];
  for (let i = 0; i < 20; i++) {
    left = await strays(r.marker, 250);
    if (left.length === 0) break;
  }
  assert.deepEqual(left, []);
});

test('ranks in the middle of a computation are gone within 5 s of the launcher being killed outright', async () => {
  let launcher = 0;
  let computing = 0;
  const running = mpirun(3, program('block.ts'), {
    args: ['120', 'busy'],
    onStart: (pid) => { launcher = pid; },
    onStdout: (text) => { computing += text.split('\n').filter((l) => l.startsWith('computing')).length; },
  });
  for (let i = 0; i < 300 && computing < 3; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(computing, 3, 'every rank is computing');
  process.kill(launcher, 'SIGKILL');
  const r = await running;
  assert.equal(r.signal, 'SIGKILL');
  // Their event loops are busy: only something outside them (the launcher's watchdog) can end them.
  assert.deepEqual(await strays(r.marker, 5000), []);
});

/** Waits until the job's ranks all printed "ready" (polling ps for the marker is not enough: they must be connected). */
async function waitForReady(_running: Promise<unknown>, pid: () => number, np: number): Promise<void> {
  const { execFileSync } = await import('node:child_process');
  for (let i = 0; i < 200; i++) {
    await new Promise((r) => setTimeout(r, 100));
    if (pid() === 0) continue;
    const ps = execFileSync('ps', ['-eo', 'ppid,args'], { encoding: 'utf8' });
    const children = ps.split('\n').filter((l) => l.trim().startsWith(`${pid()} `) && l.includes('fail.ts'));
    if (children.length === np) {
      await new Promise((r) => setTimeout(r, 1500));
      return;
    }
  }
  throw new Error('the job did not start');
}
