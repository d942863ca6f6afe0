import { countedTest, counts } from './counts.js';
import assert from 'node:assert/strict';
import { mpirun, okLines, program, strays } from './helpers.js';

const CHECKS = ['dupIsolation', 'dupFreeCycles', 'contextExhaustion', 'split', 'splitUndefined', 'nested',
  'splitType', 'freedAndBadInput', 'cart'];

for (const np of counts([1, 2, 3, 4, 5, 7])) {
  countedTest(`communicator and topology checks pass with ${np} rank(s)`, async () => {
    // The 2,000-communicator checks cost seconds when ranks share 2 cores: each at one or two sizes.
    const heavy: Record<string, number[]> = { dupFreeCycles: [2], contextExhaustion: [1, 3] };
    const checks = CHECKS.filter((c) => heavy[c]?.includes(np) ?? true);
    const r = await mpirun(np, program('comm.ts'), { args: checks });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(okLines(r.stdout), checks);
    assert.deepEqual(await strays(r.marker), []);
  });
}
