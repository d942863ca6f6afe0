/**
 * The ssh starter and its remote wrapper without sshd: a stand-in ssh
 * (fake-ssh.sh) runs the remote command on this machine. The real thing, on
 * namespace hosts with sshd, is test/multihost/cluster.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { CLI, example, mpi4ts, program, ROOT, sortedLines, strays } from '../helpers.js';
import { WRAPPER_MARK } from '../../src/launcher/remote-protocol.js';
import { shellQuote, splitCommand } from '../../src/launcher/ssh-starter.js';

const FAKE_SSH = `sh ${join(ROOT, 'test', 'launcher', 'fake-ssh.sh')}`;

test('ranks on "remote" hosts start through the ssh command, with output, stdin and -x', async () => {
  const r = await mpi4ts(['run', '--host', 'fakehost1:2,fakehost2', '--ssh', FAKE_SSH, '-x', 'MODE=remote', program('echo.ts')],
    { stdin: 'one\ntwo\n' });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(sortedLines(r.stdout), ['partial line without newline', 'rank 0 of 3, env MODE=remote',
    'rank 1 of 3, env MODE=remote', 'rank 2 of 3, env MODE=remote', 'stdin: one|two']);
  assert.doesNotMatch(r.stderr, /mpi4ts-wrapper/, 'status lines are not shown');
});

test('a host ssh cannot reach ends the job with ssh\'s words, the host and a hint', async () => {
  const r = await mpi4ts(['run', '--host', 'fakehost1,downhost', '--ssh', FAKE_SSH, example('helloworld.ts')]);
  assert.equal(r.code, 255);
  assert.match(r.stderr, /^mpi4ts: cannot start rank 1 on host "downhost" over ssh \(ssh exited with code 255\): ssh: connect to host downhost port 22: No route to host; check that "ssh downhost true" works without a password/m);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('a remote rank killed by a signal is reported as such', async () => {
  const r = await mpi4ts(['run', '--host', 'fakehost1,fakehost2', '--ssh', FAKE_SSH, program('fail.ts'), 'signal', '1']);
  assert.equal(r.code, 137, r.stderr);
  assert.match(r.stderr, /rank 1 \(fakehost2, pid \d+\) was killed by signal SIGKILL; stopping the job/);
});

/** Runs the wrapper (`mpi4ts _remote-rank`) directly. */
function wrapper(): { child: ReturnType<typeof spawn>; out: () => string; err: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, '_remote-rank'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exit };
}

function statusLines(stderr: string): unknown[] {
  return stderr.split('\n').filter((l) => l.startsWith(WRAPPER_MARK)).map((l) => JSON.parse(l.slice(WRAPPER_MARK.length)) as unknown);
}

test('wrapper: runs the command it reads on stdin, reports start and exit on their own lines', async () => {
  const w = wrapper();
  const command = [process.execPath, '-e', 'console.log("hi " + process.env.X); process.stderr.write("no newline"); process.exitCode = 4'];
  w.child.stdin!.write(`${JSON.stringify({ command, cwd: ROOT, env: { X: 'there' }, stdin: false })}\n`);
  assert.equal(await w.exit, 4);
  assert.equal(w.out(), 'hi there\n');
  assert.match(w.err(), new RegExp(`no newline\n${WRAPPER_MARK}\\{"exit"`));
  const statuses = statusLines(w.err());
  assert.equal((statuses[0] as { started: number }).started > 0, true);
  assert.deepEqual(statuses[1], { exit: { code: 4, signal: null } });
});

test('wrapper: the rank ends when the session (stdin) closes, and signals reach its group', async () => {
  const marker = `m4h-wrapper-${process.pid}-${Date.now()}`;
  const command = [process.execPath, '-e', 'console.log("up"); setInterval(() => {}, 1000)', marker];
  const closed = wrapper();
  closed.child.stdin!.write(`${JSON.stringify({ command, cwd: ROOT, env: {}, stdin: false })}\n`);
  while (!closed.out().includes('up')) await new Promise((r) => setTimeout(r, 50));
  closed.child.stdin!.end();
  assert.equal(await closed.exit, 143);
  assert.deepEqual(statusLines(closed.err()).at(-1), { exit: { code: null, signal: 'SIGTERM' } });
  const signalled = wrapper();
  signalled.child.stdin!.write(`${JSON.stringify({ command, cwd: ROOT, env: {}, stdin: false })}\n`);
  while (!signalled.out().includes('up')) await new Promise((r) => setTimeout(r, 50));
  signalled.child.stdin!.write(`${JSON.stringify({ signal: 'SIGINT' })}\n`);
  assert.equal(await signalled.exit, 130);
  signalled.child.stdin!.end();
  assert.deepEqual(await strays(marker), []);
});

test('wrapper: a missing directory or program is reported, not thrown', async () => {
  const w = wrapper();
  w.child.stdin!.write(`${JSON.stringify({ command: [process.execPath], cwd: '/no/such/dir', env: {}, stdin: false })}\n`);
  assert.equal(await w.exit, 127);
  assert.match(String((statusLines(w.err())[0] as { error: string }).error), /cannot start the rank on .*: ".*" or the directory "\/no\/such\/dir" does not exist/);
});

test('shellQuote and splitCommand', () => {
  assert.equal(shellQuote('/usr/bin/node'), '/usr/bin/node');
  assert.equal(shellQuote("/my dir/it's"), `'/my dir/it'\\''s'`);
  assert.deepEqual(splitCommand('ssh -F "my config" -p 2222', '--ssh'), ['ssh', '-F', 'my config', '-p', '2222']);
  assert.throws(() => splitCommand(' ', '--ssh'), /--ssh must name an ssh command, got " "/);
});

test('wrapper: the tsx form (fallback) runs where this host\'s Node does not strip types, the given command where it does', async () => {
  const w = wrapper();
  const command = [process.execPath, '-e', 'console.log("stripped")'];
  const fallback = [process.execPath, '-e', 'console.log("fallback")'];
  w.child.stdin!.write(`${JSON.stringify({ command, fallback, cwd: ROOT, env: {}, stdin: false })}\n`);
  assert.equal(await w.exit, 0);
  const strips = Boolean((process.features as { typescript?: string | false }).typescript);
  assert.equal(w.out(), strips ? 'stripped\n' : 'fallback\n');
});
