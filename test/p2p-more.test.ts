/**
 * The rest of point-to-point (issue 16) as real jobs through the launcher:
 * test/programs/p2p-more.ts at 1, 2, 3 and 7 ranks, over shared memory, over
 * TCP, and with every message by rendezvous (where sendrecvReplace copies
 * what it sends and a buffered send holds its room until received).
 */
import { test, countedTest, counts } from './counts.js';
import assert from 'node:assert/strict';
import { mpirun, okLines, program, strays } from './helpers.js';

const CHECKS = ['portingAids', 'testanySome', 'sendrecvInto', 'sendrecvReplace', 'persistent', 'readyMode', 'bufferedMode',
  'matchedProbe', 'freeRequests', 'badInput'];
const COMMUNICATORS = ['COMM_WORLD', 'dup', 'COMM_SELF'];
const passed = (): string[] => COMMUNICATORS.flatMap((comm) => CHECKS.map((check) => `${check} on ${comm}`));

for (const np of counts([1, 2, 3, 7])) {
  countedTest(`the rest of point-to-point passes with ${np} rank(s)`, async () => {
    const r = await mpirun(np, program('p2p-more.ts'));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(okLines(r.stdout), passed());
    assert.deepEqual(await strays(r.marker), []);
  });
}

test('the rest of point-to-point passes over TCP (MPI4TS_TRANSPORT=tcp), 3 ranks', async () => {
  const r = await mpirun(3, program('p2p-more.ts'), { env: { MPI4TS_TRANSPORT: 'tcp' } });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(okLines(r.stdout), passed());
});

test('the rest of point-to-point passes with every message by rendezvous (MPI4TS_EAGER_LIMIT=0), 2 ranks', async () => {
  const r = await mpirun(2, program('p2p-more.ts'), { env: { MPI4TS_EAGER_LIMIT: '0' } });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(okLines(r.stdout), passed());
});
