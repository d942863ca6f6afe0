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

test('bench:compare --plot takes an SVG file and goes with the point-to-point table only', () => {
  const refusals: [string[], RegExp][] = [
    [['--plot', 'out.png'], /^bench:compare: --plot out\.png: give the SVG file to write, FILE\.svg\n$/],
    [['--plot'], /^bench:compare: --plot: give the SVG file to write, FILE\.svg\n$/],
    [['--coll', '--plot', 'out.svg'], /^bench:compare: --plot out\.svg: it draws the point-to-point rows, which --coll and --startup leave out\n$/],
  ];
  for (const [args, message] of refusals) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'compare.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, message);
  }
});
