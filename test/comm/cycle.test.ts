/**
 * Every module of src/comm loads first, alone, in a fresh process. An import
 * cycle breaks that for some entry point (`import('comm.js')` before `cart.js`
 * once threw "Cannot access 'Comm' before initialization"), and only a fresh
 * process shows it: within one, whichever module was imported first decides.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const modules = readdirSync(new URL('../../src/comm/', import.meta.url)).filter((name) => name.endsWith('.ts')).sort();

test('src/comm has modules to check', () => {
  assert.ok(modules.includes('comm.ts') && modules.includes('cart.ts'), `found ${modules.join(', ')}`);
});

for (const name of modules) {
  test(`src/comm/${name} loads on its own in a fresh process`, async () => {
    const script = `await import('./src/comm/${name}')`;
    try {
      await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root });
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr ?? '';
      assert.fail(`importing src/comm/${name} first failed:\n${stderr}`);
    }
  });
}
