import { test } from 'node:test';
import assert from 'node:assert/strict';
import { example, mpirun, sortedLines, strays } from './helpers.js';

test('helloworld: every rank reports rank, size and host', async () => {
  const r = await mpirun(4, example('helloworld.ts'));
  assert.equal(r.code, 0, r.stderr);
  const lines = sortedLines(r.stdout);
  assert.equal(lines.length, 4);
  lines.forEach((line, i) => assert.match(line, new RegExp(`^Hello, World! I am process ${i} of 4 on \\S+\\.$`)));
  assert.deepEqual(await strays(r.marker), []);
});

test('send-recv: rank 1 receives (0+1)*5 from rank 0', async () => {
  const r = await mpirun(2, example('send-recv.ts'));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(sortedLines(r.stdout), ['rank 0 sent 5 to rank 1', 'rank 1 received 5 from rank 0']);
});

for (const np of [1, 3, 7]) {
  test(`ring with ${np} rank(s): each rank hears from its predecessor`, async () => {
    const r = await mpirun(np, example('ring.ts'));
    assert.equal(r.code, 0, r.stderr);
    const expected = Array.from({ length: np }, (_, rank) => {
      const prev = (rank - 1 + np) % np;
      return `rank ${rank} received ${prev * 10} from rank ${prev}`;
    }).sort();
    assert.deepEqual(sortedLines(r.stdout), expected);
  });
}

test('tags: rank 3 gets tag 2 (34) before tag 1 (23)', async () => {
  const r = await mpirun(4, example('tags.ts'));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '34\n23\n');
});

for (const np of [1, 3, 4, 7]) {
  test(`heat-1d with ${np} rank(s): halo exchange over a Cartesian grid gives the serial answer`, async () => {
    const r = await mpirun(np, example('heat-1d.ts'));
    assert.equal(r.code, 0, r.stderr);
    const steps = /converged in (\d+) steps \(serial: (\d+)\)/.exec(r.stdout);
    assert.ok(steps !== null, r.stdout);
    assert.equal(steps[1], steps[2]);
    assert.match(r.stdout, /temperature at the middle: 0\.\d{4}/);
    // The same arithmetic in the same order: not close, identical.
    assert.match(r.stdout, /largest difference from the serial run: 0\n/);
  });
}
