/**
 * COMM_WORLD's small collectives on the host's board (p2p/host-board.ts,
 * coll/host.ts) through the real launcher: the calls the board takes mixed
 * with those it does not, nonblocking ones overlapping, a root running ahead,
 * a rank that says no, a rank killed while the others wait, and a wait that
 * costs no CPU. The same program with MPI4TS_HOST_COLL=0 checks the
 * messages' path the board replaces. 64 ranks run in test:probes
 * (test/reliability/scale.probe.ts).
 */
import { test, countedTest, counts } from './counts.js';
import assert from 'node:assert/strict';
import { mpirun, okLines, program, strays } from './helpers.js';

const CHECKS = ['mixed', 'nonblocking', 'fallback', 'ahead', 'dup'];

for (const np of counts([1, 2, 3, 4, 5, 7])) {
  countedTest(`small collectives on the host's board: ${CHECKS.length} checks with ${np} rank(s)`, async () => {
    const r = await mpirun(np, program('board.ts'), { args: CHECKS });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(okLines(r.stdout), CHECKS);
    // One rank has no peer to meet: it never opens a board.
    assert.match(r.stdout, np === 1 ? /^board null$/m : /^board true$/m);
    assert.deepEqual(await strays(r.marker), []);
  });
}

test('MPI4TS_HOST_COLL=0 everywhere: the same checks by messages, 3 ranks', async () => {
  const r = await mpirun(3, program('board.ts'), { args: CHECKS, env: { MPI4TS_HOST_COLL: '0' } });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(okLines(r.stdout), CHECKS);
  assert.match(r.stdout, /^board false$/m);
});

test('one rank with MPI4TS_HOST_COLL=0 (first or last): every rank goes by messages, and the checks pass', async () => {
  const script = program('board.ts');
  const off = ['-env', 'MPI4TS_HOST_COLL', '0'];
  // mpi4ts run -n 1 [off] board.ts ... : -n 2 [off] board.ts ...
  for (const [first, second] of [[off, []], [[], off]]) {
    const r = await mpirun(1, script, { launcher: [...first!, script, 'mixed', 'nonblocking', ':', '-n', '2', ...second!], args: ['mixed', 'nonblocking'] });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(okLines(r.stdout), ['mixed', 'nonblocking']);
    assert.match(r.stdout, /^board false$/m);
  }
});

test('a rank SIGKILLed while the others wait on the board: the job ends at once with it named, nothing left behind', async () => {
  const started = Date.now();
  const r = await mpirun(4, program('board.ts'), { args: ['kill'], killAfterMs: 30_000 });
  assert.equal(r.code, 137, r.stderr);
  assert.match(r.stderr, /mpi4ts: rank 1 \(localhost, pid \d+\) was killed by signal SIGKILL; stopping the job/);
  assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
  assert.deepEqual(await strays(r.marker), []);
});

test('ranks waiting on the board while one computes for 2 s use under 5% of a core', async () => {
  const r = await mpirun(4, program('board.ts'), { args: ['compute', '2000'] });
  assert.equal(r.code, 0, r.stderr);
  const lines = [...r.stdout.matchAll(/^rank (\d) cpu (\d+) ms wall (\d+) ms$/gm)];
  assert.equal(lines.length, 3, r.stdout);
  for (const [, rank, cpu, wall] of lines) assert.ok(Number(cpu) < 0.05 * Number(wall), `rank ${rank}: ${cpu} ms of CPU over ${wall} ms`);
});
