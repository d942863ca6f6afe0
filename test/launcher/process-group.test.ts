import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { killGroup } from '../../src/launcher/process-group.js';

/** Running (a zombie nobody has reaped yet counts as gone: under a container's bare init it may stay one). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

test('killGroup signals the whole group, also what the leader started', async () => {
  // The leader starts a grandchild, prints its pid, and waits: as a rank that started a helper.
  const leader = spawn('/bin/sh', ['-c', 'sleep 30 & echo $!; wait'], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
  const [line] = (await once(leader.stdout, 'data')) as [Buffer];
  const grandchild = Number(line.toString().trim());
  assert.ok(grandchild > 0 && alive(grandchild));
  assert.equal(killGroup(leader.pid, 0), true, 'signal 0 finds the group there');
  const exited = once(leader, 'exit');
  assert.equal(killGroup(leader.pid, 'SIGKILL'), true);
  await exited;
  for (let i = 0; i < 200 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(alive(grandchild), false, 'the grandchild went with its group');
});

test('killGroup finds a group empty once its only process is gone', async () => {
  // No grandchild here: a killed one stays a zombie of the group until init reaps it.
  const leader = spawn('sleep', ['30'], { stdio: 'ignore', detached: true });
  await once(leader, 'spawn');
  assert.equal(killGroup(leader.pid, 0), true);
  const exited = once(leader, 'exit');
  assert.equal(killGroup(leader.pid, 'SIGTERM'), true);
  await exited;
  assert.equal(killGroup(leader.pid, 0), false);
  assert.equal(killGroup(leader.pid, 'SIGKILL'), false);
});

test('killGroup signals nothing for a process that never started, nor for group 0 (the caller\'s own)', () => {
  assert.equal(killGroup(undefined, 'SIGTERM'), false);
  assert.equal(killGroup(0, 0), false);
  assert.equal(killGroup(-1, 0), false);
});
