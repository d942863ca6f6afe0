/**
 * Programs that end while a peer still waits for them, and other ways a job
 * used to hang or blame the wrong rank (test/programs/endings.ts): every one
 * ends at once with an error naming the call and the rank it waited for.
 * Also: the job key never reaches what a rank starts, and one message is
 * limited to 4 GiB with a message that says what to do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mpirun, program, strays } from '../helpers.js';

const HANGS: [string, RegExp][] = [
  ['recv', /recv from rank 1 with tag 5 can never complete: rank 1 has finished its program \(finalize\)/],
  // By messages, or on the host's board (the words say which it waited for).
  ['collective', /bcast can never complete: it waits for (a message from rank 2 of the communicator|rank 2 of the communicator to join it), but that rank has finished its program/],
  ['anySource', /recv from any source with tag 5 can never complete: every other rank of the communicator has ended/],
  ['probe', /probe from rank 1 with tag 5 can never complete: rank 1 has finished its program/],
  ['mismatch', /rank \d called (reduce\(SUM, root=0\)|bcast\(root=0\)) where rank \d called (bcast\(root=0\)|reduce\(SUM, root=0\)), as collective #1 on COMM_WORLD/],
];

test('a receive, probe or collective that only a finished rank could satisfy fails at once, naming both', { concurrency: true }, async (t) => {
  await Promise.all(HANGS.map(([name, error]) => t.test(name, async () => {
    const r = await mpirun(3, program('endings.ts'), { args: [name], launcher: ['--timeout', '60'] });
    assert.notEqual(r.code, 124, `the job hung until --timeout: ${r.stderr}`);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, error);
    assert.deepEqual(await strays(r.marker), []);
  })));
});

test('a rank that leaves by process.exit(0) in the middle: the others fail at once, and the launcher names it first', async () => {
  const r = await mpirun(3, program('endings.ts'), { args: ['exit'], launcher: ['--timeout', '60'] });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /allreduce can never complete: it waits for (a message from rank 2 of the communicator|rank 2 of the communicator to join it), but that rank (ended without finalize|exited before the job ended \(without finalize\))/);
  const last = r.stderr.trim().split('\n').filter((l) => l.startsWith('mpi4ts: ')).at(0) ?? '';
  assert.match(last, /^mpi4ts: rank 2 \(localhost, pid \d+\) exited with code 0 without finalizing while other ranks still ran \(process\.exit\(\) before the program's end\?\); then rank [01] \(localhost, pid \d+\) exited with code 1; stopping the job$/);
  assert.deepEqual(await strays(r.marker), []);
});

test('sendrecv with a bad dest rejects and leaves no receive posted: the job ends by itself', async () => {
  const r = await mpirun(3, program('endings.ts'), { args: ['sendrecv'], launcher: ['--timeout', '60'] });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.split('\n').filter((l) => /^rank \d: sendrecv: dest 8 is out of range for a communicator of size 3 \(0\.\.2, or PROC_NULL\)$/.test(l)).length, 3, r.stdout);
});

test('a 5 GiB message is refused before anything is sent, saying that one message carries at most 4 GiB', async () => {
  const r = await mpirun(2, program('endings.ts'), { args: ['tooLarge'] });
  assert.equal(r.code, 0, r.stderr);
  for (const rank of [0, 1]) {
    assert.match(r.stdout, new RegExp(`rank ${rank}: RangeError: send: the message would take more than 5\\.00 GiB; one message carries at most 4\\.00 GiB: send the data in several messages`));
  }
});

test('the job key: gone from the environment once read, so no process a rank starts inherits it; not in any socket name', async () => {
  const r = await mpirun(3, program('endings.ts'), { args: ['key'] });
  assert.equal(r.code, 0, r.stderr);
  const reports = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(reports.length, 3);
  for (const report of reports) {
    assert.deepEqual({ ...report, rank: 0 }, { rank: 0, keyLength: 64, inEnv: false, inChild: false, sockets: report.sockets, keyInSocketName: false });
    assert.ok((report.sockets as number) >= 1, 'the rank listens on an abstract socket');
  }
});
