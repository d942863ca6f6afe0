// The deadlock check of `mpi4ts run` (DESIGN.md "Hang reports and deadlocks"):
// real jobs of test/programs/deadlock.ts that deadlock end with exit status 125
// and the cycle in words; jobs that only wait on something of their own do not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mpirun, program, strays } from '../helpers.js';

const DEADLOCK = program('deadlock.ts');

async function deadlocked(np: number, mode: string, launcher: string[] = [], env: Record<string, string> = {}): Promise<string> {
  const r = await mpirun(np, DEADLOCK, { args: [mode], launcher, env, killAfterMs: 30_000 });
  assert.equal(r.signal, null, 'the launcher ended by itself');
  assert.equal(r.code, 125, r.stderr);
  assert.match(r.stderr, /mpi4ts: deadlock: every rank waits in mpi4ts and no message in flight can match/);
  assert.match(r.stderr, /stopping the job \(exit status 125, a deadlock/);
  assert.deepEqual(await strays(r.marker), []);
  return r.stderr;
}

test('two ranks receiving from each other: a deadlock, the cycle named with the call sites', async () => {
  const stderr = await deadlocked(2, 'pairs', ['--debug-calls']);
  assert.match(stderr, /rank 0 waits in recv\(source=1, tag=2\) at test\/programs\/deadlock\.ts:\d+\n\s+rank 1 waits in recv\(source=0, tag=2\) at test\/programs\/deadlock\.ts:\d+\n\s+cycle: rank 0 -> rank 1 -> rank 0/);
});

test('four ranks in two head-to-head pairs: a deadlock, every rank named', async () => {
  const stderr = await deadlocked(4, 'pairs');
  assert.match(stderr, /cycle: rank 0 -> rank 1 -> rank 0/);
  assert.match(stderr, /rank 2 waits in recv\(source=3, tag=2\)/);
  assert.match(stderr, /rank 3 waits in recv\(source=2, tag=2\)/);
  // Without --debug-calls the report says how to get the call sites.
  assert.match(stderr, /run with --debug-calls/);
});

test('a cycle of three', async () => {
  const stderr = await deadlocked(3, 'cycle');
  assert.match(stderr, /rank 0 waits in recv\(source=1, tag=2\)\n\s+rank 1 waits in recv\(source=2, tag=2\)\n\s+rank 2 waits in recv\(source=0, tag=2\)\n\s+cycle: rank 0 -> rank 1 -> rank 2 -> rank 0/);
});

test('a tag mismatch: the message that came under another tag is listed', async () => {
  const stderr = await deadlocked(2, 'tag');
  assert.match(stderr, /rank 1 \(\S+, pid \d+\): waits in 1 operation\(s\):\n\s+recv\(source=0, tag=2\) for [\d.]+ s\n\s+arrived, not matched by any receive \(1\):\n\s+from rank 0, tag 3, \d+ bytes/);
});

test('a collective one rank never enters: the ranks in it wait for that one (on the host\'s board, and by messages)', async () => {
  const stderr = await deadlocked(4, 'collective', ['--debug-calls']);
  assert.match(stderr, /rank 3 waits in recv\(source=0, tag=7\) at test\/programs\/deadlock\.ts:\d+/);
  for (const rank of [0, 1, 2]) {
    assert.match(stderr, new RegExp(`rank ${rank} waits in barrier \\(call 0 on COMM_WORLD, in shared memory\\), waiting for rank 3 to join it ` +
      'at test/programs/deadlock\\.ts:\\d+ \\(rank 3 has not entered this barrier\\)'));
  }
  const byMessages = await deadlocked(4, 'collective', ['--debug-calls'], { MPI4TS_HOST_COLL: '0' });
  assert.match(byMessages, /waits in barrier \(call 0 on COMM_WORLD\), waiting for a message from rank 3 at test\/programs\/deadlock\.ts:\d+ \(rank 3 has not entered this barrier\)/);
});

test('a rank waiting on a timer of its own is no deadlock: the job completes', async () => {
  const r = await mpirun(2, DEADLOCK, { args: ['timer'], killAfterMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /got done/);
  assert.doesNotMatch(r.stderr, /deadlock/);
});

test('MPI4TS_DEADLOCK_CHECK=0 and --no-deadlock-check turn the check off (the job runs to its --timeout)', async () => {
  for (const run of [{ env: { MPI4TS_DEADLOCK_CHECK: '0' }, launcher: ['--timeout', '3'] }, { launcher: ['--no-deadlock-check', '--timeout', '3'] }]) {
    const r = await mpirun(2, DEADLOCK, { args: ['pairs'], ...run, killAfterMs: 30_000 });
    assert.equal(r.code, 124, r.stderr);
    assert.doesNotMatch(r.stderr, /deadlock:/);
  }
});

test('ranks started over ssh are asked too: a cycle across two hosts', async () => {
  const fakeSsh = `sh ${program('../launcher/fake-ssh.sh')}`;
  const r = await mpirun(3, DEADLOCK, { args: ['cycle'], launcher: ['--host', 'localhost:1,fakehost1:2', '--ssh', fakeSsh], killAfterMs: 30_000 });
  assert.equal(r.code, 125, r.stderr);
  assert.match(r.stderr, /cycle: rank 0 -> rank 1 -> rank 2 -> rank 0/);
  assert.deepEqual(await strays(r.marker), []);
});
