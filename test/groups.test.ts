import { countedTest, counts } from './counts.js';
import assert from 'node:assert/strict';
import { mpirun, okLines, program, strays } from './helpers.js';

const CHECKS = ['groupAlgebra', 'createOne', 'createDisjoint', 'createGroupOnly', 'namesAndCompare', 'badInput'];

for (const np of counts([1, 2, 3, 4, 7])) {
  countedTest(`group and group-made communicator checks pass with ${np} rank(s)`, async () => {
    const r = await mpirun(np, program('groups.ts'));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(okLines(r.stdout), CHECKS);
    assert.deepEqual(await strays(r.marker), []);
  });
}
