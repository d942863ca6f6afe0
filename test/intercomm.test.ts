import { test, countedTest, counts } from './counts.js';
import assert from 'node:assert/strict';
import { mpirun, okLines, program, strays } from './helpers.js';

const CHECKS = ['shape', 'p2p', 'barrier', 'bcast', 'scatterGather', 'reductions', 'bufferForms', 'merge', 'dupAndDisconnect', 'badInput'];

// Odd sizes give groups of unequal size (3: 2 and 1; 7: 4 and 3).
for (const np of counts([2, 3, 4, 7])) {
  countedTest(`intercommunicator checks pass with ${np} ranks`, async () => {
    const r = await mpirun(np, program('intercomm.ts'));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(okLines(r.stdout), CHECKS);
    assert.deepEqual(await strays(r.marker), []);
  });
}

test('with one rank there is no second group, and createIntercomm says so', async () => {
  const r = await mpirun(1, program('intercomm.ts'));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(okLines(r.stdout), ['oneRank']);
});
