// 128 ranks on this machine (2 cores here: oversubscribed 64 times): hello, barrier,
// allreduce, allgather, and a clean finish with nothing left behind; and 64 ranks
// through the host's board (test/programs/board.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mpirun, program, strays } from '../helpers.js';

test('128 ranks on one host: hello, barrier, allreduce, allgather, clean finish', async () => {
  const r = await mpirun(128, program('scale.mjs'), { killAfterMs: 240_000 });
  assert.equal(r.code, 0, r.stderr);
  const hellos = r.stdout.split('\n').filter((l) => l.startsWith('hello '));
  assert.equal(hellos.length, 128);
  assert.match(r.stdout, /^ok 128$/m);
  assert.equal(r.stderr, '');
  assert.deepEqual(await strays(r.marker), []);
});

test('64 ranks on one host: the small collectives on the host\'s board, mixed with calls by messages, and a root running ahead', async () => {
  const r = await mpirun(64, program('board.ts'), { args: ['mixed', 'ahead'], killAfterMs: 240_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\n').filter((l) => l.startsWith('ok ')), ['ok mixed', 'ok ahead']);
  assert.match(r.stdout, /^board true$/m);
  assert.deepEqual(await strays(r.marker), []);
});
