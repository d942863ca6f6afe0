// The buffer and nonblocking collectives through the real launcher, at 1 to 7
// ranks (7 oversubscribed on the 2-core machine): test/programs/buffers.ts.
import { test, countedTest, counts } from './counts.js';
import assert from 'node:assert/strict';
import { BUFFER_CHECKS as CHECKS, mpirun, okLines, program, strays } from './helpers.js';

for (const np of counts([1, 2, 3, 4, 7])) {
  countedTest(`buffer and nonblocking collectives pass with ${np} rank(s)`, async () => {
    const r = await mpirun(np, program('buffers.ts'), { args: CHECKS });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(okLines(r.stdout), CHECKS);
    assert.deepEqual(await strays(r.marker), []);
  });
}

test('with MPI4TS_RING_MIN_BYTES=0 the buffer reductions take the ring, 3 ranks', async () => {
  const r = await mpirun(3, program('buffers.ts'), { args: CHECKS, env: { MPI4TS_RING_MIN_BYTES: '0' } });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(okLines(r.stdout), CHECKS);
});
