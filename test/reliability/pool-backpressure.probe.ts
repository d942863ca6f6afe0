/**
 * PoolExecutor.map's back-pressure (test/programs/pool.ts "backpressure"):
 * kept out of npm test for its length (3M inputs, about 15 s), run by
 * test:probes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mpirun, okLines, program } from '../helpers.js';

const POOL = program('pool.ts');

test('map reads its input only as results are taken: 3M inputs, at most 32 chunks per worker held, heap bounded', async () => {
  const r = await mpirun(3, POOL, { launcher: ['--pool'], args: ['backpressure'], env: { NODE_OPTIONS: '--expose-gc' } });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(okLines(r.stdout), ['backpressure']);
  assert.match(r.stdout, /held at most \d+ of 3145728 inputs \(bound 65000\)/);
});
