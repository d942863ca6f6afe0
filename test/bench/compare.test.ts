import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers.js';

test('bench:compare --repeat takes a whole number of passes from 1 to 9, and says so otherwise', () => {
  for (const bad of ['0', '10', 'two']) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'compare.ts'), '--repeat', bad], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.match(r.stderr, new RegExp(`--repeat ${bad}: give a whole number of passes from 1 to 9`));
  }
});
