import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mpirun, program, strays } from './helpers.js';

const CHECKS = ['barrier', 'bcast', 'allgather', 'allreduce', 'bigAllreduce'];

function okLines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l.startsWith('ok ')).map((l) => l.slice(3));
}

for (const np of [1, 2, 3, 4, 5, 7]) {
  test(`collective checks pass with ${np} rank(s)`, async () => {
    const r = await mpirun(np, program('coll.ts'));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(okLines(r.stdout), CHECKS);
    assert.deepEqual(await strays(r.marker), []);
  });
}
