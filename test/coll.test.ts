import { test, countedTest, counts } from './counts.js';
import assert from 'node:assert/strict';
import { mpirun, okLines, program, strays } from './helpers.js';

const CHECKS = ['barrier', 'bcast', 'allgather', 'allreduce', 'bigAllreduce', 'allreduceInto', 'scatterGather', 'alltoall', 'opsOnScalars',
  'smallTypedOps', 'largeTypedOps', 'userOps', 'vectorVariants', 'isolation', 'concurrent', 'badInput'];

for (const np of counts([1, 2, 3, 4, 5, 7])) {
  // Every op on every typed-array type is a long matrix: sizes 1, 3, 4, 5 cover the fold and the power of two.
  const checks = np === 2 || np === 7 ? CHECKS.filter((c) => c !== 'smallTypedOps') : CHECKS;
  countedTest(`collective checks pass with ${np} rank(s): ${checks.length} checks`, async () => {
    const r = await mpirun(np, program('coll.ts'), { args: checks });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(okLines(r.stdout), checks);
    assert.deepEqual(await strays(r.marker), []);
  });
}

test('with MPI4TS_RING_MIN_BYTES=0 every typed-array reduction takes the ring, 5 ranks', async () => {
  const checks = ['allreduce', 'allreduceInto', 'smallTypedOps', 'vectorVariants', 'isolation', 'concurrent', 'badInput'];
  const r = await mpirun(5, program('coll.ts'), { args: checks, env: { MPI4TS_RING_MIN_BYTES: '0' } });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(okLines(r.stdout), checks);
});

test('bad input fails on every rank with a clear message, and the job ends cleanly', async () => {
  const r = await mpirun(3, program('coll.ts'), { args: ['badInput'] });
  assert.equal(r.code, 0, r.stderr);
  // Rank 0 prints what it caught; every rank asserted the same (see failsEverywhere).
  const errors = r.stdout.split('\n').filter((l) => l.startsWith('error '));
  assert.ok(errors.includes('error scatter-wrong-length: scatter: rank 2 failed: values at the root must be an array of 3 items (one per rank), got an array of length 4'), errors.join('\n'));
  assert.ok(errors.includes('error reduce-string: reduce: SUM cannot reduce a string (it takes numbers, bigints and typed arrays)'), errors.join('\n'));
  assert.ok(errors.includes('error allreduce-lengths: allreduce: rank 2 failed: SUM: typed arrays differ in length between ranks (10 and 11 elements of Float64Array); every rank must pass the same length')
    || errors.some((e) => /^error allreduce-lengths: allreduce: rank \d failed: SUM: typed arrays differ in length/.test(e)), errors.join('\n'));
  assert.deepEqual(okLines(r.stdout), ['badInput']);
  assert.deepEqual(await strays(r.marker), []);
});
