// Hang reports of `mpi4ts run` (DESIGN.md "Hang reports and deadlocks"): on
// SIGUSR1, before --timeout stops the job, and after --hang-report seconds
// without progress; never for a job that computes or makes progress.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mpi4ts, mpirun, program, strays, type JobResult } from '../helpers.js';

const DEADLOCK = program('deadlock.ts');

/**
 * Starts `np` ranks of `script` and resolves once each has printed a line
 * starting with `word` (the ranks are where the test wants them), with the
 * launcher's pid for signals and the job's result to come.
 */
async function startedJob(np: number, script: string, args: string[], word: string): Promise<{ launcher: number; running: Promise<JobResult> }> {
  let launcher = 0;
  let seen = 0;
  const running = mpirun(np, script, {
    args, killAfterMs: 30_000,
    onStart: (pid) => { launcher = pid; },
    onStdout: (text) => { seen += text.split('\n').filter((l) => l.startsWith(word)).length; },
  });
  for (let i = 0; i < 200 && seen < np; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(seen, np, `${np} lines starting with "${word}"`);
  return { launcher, running };
}

test('SIGUSR1 to the launcher prints what each rank waits for, and the job goes on', async () => {
  const { launcher, running } = await startedJob(2, DEADLOCK, ['sleepy'], 'ready');
  await new Promise((r) => setTimeout(r, 500));
  process.kill(launcher, 'SIGUSR1');
  const r = await running;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /got late/);
  assert.match(r.stderr, /mpi4ts: hang report \(SIGUSR1\): what each rank waits for/);
  assert.match(r.stderr, /rank 1 \(\S+, pid \d+\): waits in 1 operation\(s\):\n\s+recv\(source=0, tag=5\) for [\d.]+ s/);
  assert.match(r.stderr, /rank 0 \(\S+, pid \d+\): not in an MPI call \(nothing of mpi4ts pending\)\n\s+the program has its own work pending \(Timeout\)/);
});

test('--timeout prints the report before it stops the job', async () => {
  const r = await mpirun(2, program('fail.ts'), { args: ['hang', '0'], launcher: ['--timeout', '2'], killAfterMs: 30_000 });
  assert.equal(r.code, 124, r.stderr);
  assert.match(r.stderr, /hang report \(the job did not finish within 2 s \(--timeout\)\)[\s\S]*recv\(source=ANY_SOURCE, tag=99\)[\s\S]*did not finish within 2 s \(--timeout\); stopping 2 rank\(s\)/);
  assert.deepEqual(await strays(r.marker), []);
});

test('--hang-report 1: a stalled job is reported once, with the unanswered wait (deadlock check off)', async () => {
  const r = await mpirun(2, DEADLOCK, { args: ['pairs'], launcher: ['--hang-report', '1', '--no-deadlock-check', '--timeout', '4'], killAfterMs: 30_000 });
  assert.equal(r.code, 124, r.stderr);
  const reports = r.stderr.match(/hang report \(no rank has made progress for 1 s \(--hang-report\)\)/g) ?? [];
  assert.equal(reports.length, 1, r.stderr);
  assert.match(r.stderr, /recv\(source=1, tag=2\)/);
});

test('--hang-report 1: a correct program is never reported', async () => {
  const r = await mpirun(3, DEADLOCK, { args: ['correct'], launcher: ['--hang-report', '1'], killAfterMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /correct done/);
  assert.doesNotMatch(r.stderr, /hang report|deadlock/);
});

test('--hang-report 1: a rank computing for 5 s is not reported as hung, nor the rank waiting for it', async () => {
  const r = await mpirun(2, DEADLOCK, { args: ['busy'], launcher: ['--hang-report', '1'], killAfterMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /got done/);
  assert.doesNotMatch(r.stderr, /hang report|deadlock/);
});

test('a bad --hang-report value names the flag, the value and what is allowed', async () => {
  const r = await mpi4ts(['run', '-n', '1', '--hang-report', 'abc', DEADLOCK, 'correct']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--hang-report must be a positive number of seconds, got "abc"/);
  const e = await mpi4ts(['run', '-n', '1', DEADLOCK, 'correct'], { env: { MPI4TS_HANG_REPORT: '-1' } });
  assert.equal(e.code, 2, e.stderr);
  assert.match(e.stderr, /MPI4TS_HANG_REPORT="-1" must be a positive number of seconds/);
});

test('a program that ends with a receive nobody waits for is reported after the grace period, and the job fails', async () => {
  const r = await mpirun(2, DEADLOCK, { args: ['ended'], killAfterMs: 30_000 });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /rank 1's program ended with 1 operation\(s\) still pending, which nothing waits for[^\n]*:\n\s+rank 1 \(\S+, pid \d+\): waits in 1 operation\(s\):\n\s+irecv\(source=0, tag=9\) for [\d.]+ s/);
  assert.ok(r.ms < 4000, `reported within the grace period, before rank 0 ends (${r.ms} ms)`);
  // A request that is waited for is no ended program; MPI4TS_PENDING_GRACE_MS=0 turns the check off.
  const waited = await mpirun(2, DEADLOCK, { args: ['waited'], killAfterMs: 30_000 });
  assert.equal(waited.code, 0, waited.stderr);
  assert.match(waited.stdout, /got late/);
  // A freed request is the library's to finish (MPI allows ending with one): it outlives the grace period.
  const freed = await mpirun(2, DEADLOCK, { args: ['freed'], killAfterMs: 30_000 });
  assert.equal(freed.code, 0, freed.stderr);
  assert.doesNotMatch(freed.stderr, /still pending/);
  const off = await mpirun(2, DEADLOCK, { args: ['ended'], env: { MPI4TS_PENDING_GRACE_MS: '0' }, killAfterMs: 30_000 });
  assert.equal(off.code, 0, off.stderr);
  assert.doesNotMatch(off.stderr, /still pending/);
});

test('SIGUSR1 while ranks compute: they are said not to answer (busy, not in an MPI call), and the job ends normally', async () => {
  const { launcher, running } = await startedJob(2, program('block.ts'), ['4', 'busy'], 'computing');
  process.kill(launcher, 'SIGUSR1');
  const r = await running;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /rank 0 \(\S+\) did not answer within 2 s[^\n]*\(busy computing, not in an MPI call\)/);
  assert.match(r.stderr, /rank 1 \(\S+\) did not answer within 2 s[^\n]*\(busy computing, not in an MPI call\)/);
});

test('a receive posted right after a computation: its wait is given as a range, not with the computation counted in', async () => {
  const { launcher, running } = await startedJob(2, DEADLOCK, ['computed'], 'ready');
  // Rank 1 computes 2 s after its first receive, then waits for tag 8, which comes 5 s after the first.
  await new Promise((r) => setTimeout(r, 3500));
  process.kill(launcher, 'SIGUSR1');
  const r = await running;
  assert.equal(r.code, 0, r.stderr);
  const m = /recv\(source=0, tag=8\) for ([\d.]+) to ([\d.]+) s \(posted while the program computed\)/.exec(r.stderr);
  assert.ok(m !== null, r.stderr);
  assert.ok(Number(m[2]) - Number(m[1]) >= 1, `the range covers the computation: ${m[0]}`);
});

test('Ctrl-C (SIGINT) prints the report, then stops the job with 130', async () => {
  const { launcher, running } = await startedJob(2, DEADLOCK, ['sleepy'], 'ready');
  await new Promise((r) => setTimeout(r, 300));
  process.kill(launcher, 'SIGINT');
  const r = await running;
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /hang report \(interrupted by SIGINT\)[\s\S]*recv\(source=0, tag=5\)[\s\S]*interrupted by SIGINT; stopping 2 rank\(s\)/);
  assert.deepEqual(await strays(r.marker), []);
});
