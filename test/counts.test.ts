// The split of rank counts between npm test and test:probes (test/counts.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { splitCounts } from './counts.js';
import { ROOT } from './helpers.js';

test('npm test takes 1 and 3 ranks, or the smallest count of 2 or more; test:probes the others, each count once', () => {
  assert.deepEqual(splitCounts([1, 2, 3, 4, 7]), { first: [1, 3], more: [2, 4, 7] });
  assert.deepEqual(splitCounts([1, 2, 4, 7]), { first: [1, 2], more: [4, 7] });
  assert.deepEqual(splitCounts([2, 3, 4, 7]), { first: [3], more: [2, 4, 7] });
  assert.deepEqual(splitCounts([1, 4]), { first: [1, 4], more: [] });
  assert.deepEqual(splitCounts([1]), { first: [1], more: [] });
});

test('every test file that takes counts from test/counts.ts is in test:probes, and no other test file', () => {
  const files = (dir: string): string[] => readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : name.endsWith('.test.ts') ? [relative(ROOT, path)] : [];
  });
  const counted = files(join(ROOT, 'test')).filter((f) => /from '(\.\.?\/)+counts\.js'/.test(readFileSync(join(ROOT, f), 'utf8')));
  const probes = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts['test:probes'] as string;
  const listed = probes.split(/\s+/).filter((w) => w.endsWith('.test.ts'));
  assert.deepEqual(listed.sort(), counted.filter((f) => f !== 'test/counts.test.ts').sort());
  assert.match(probes, /MPI4TS_TEST_COUNTS=more /);
});
