// `mpi4ts init [dir]` (src/cli/init.ts): the starter it writes runs through the
// CLI as written, nothing is overwritten, and bad inputs say what is wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageNameOf } from '../../src/cli/init.js';
import { VERSION } from '../../src/base/index.js';
import { mpi4ts, ROOT } from '../helpers.js';

async function withTemp(use: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'mpi4ts-init-'));
  try {
    await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** As `npm install` would: the app's node_modules/mpi4ts is this worktree. */
async function installMpi4ts(app: string): Promise<void> {
  await mkdir(join(app, 'node_modules'), { recursive: true });
  await symlink(ROOT, join(app, 'node_modules', 'mpi4ts'));
}

test('mpi4ts init DIR writes an ES module package, a nodenext tsconfig and a hello.ts that runs and checks itself', async () => {
  await withTemp(async (tmp) => {
    const init = await mpi4ts(['init', 'My App'], { cwd: tmp });
    assert.equal(init.code, 0, init.stderr);
    assert.equal(init.stdout, 'mpi4ts init: wrote package.json, tsconfig.json, hello.ts in My App\nnext: cd \'My App\' && npm install && npm start\n');
    const app = join(tmp, 'My App');
    const pkg = JSON.parse(await readFile(join(app, 'package.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual({ name: pkg.name, type: pkg.type, scripts: pkg.scripts, dependencies: pkg.dependencies }, {
      name: 'my-app', type: 'module', scripts: { start: 'mpi4ts run -n 4 hello.ts' }, dependencies: { mpi4ts: `^${VERSION}` },
    });
    const tsconfig = JSON.parse(await readFile(join(app, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
    assert.deepEqual([tsconfig.compilerOptions.module, tsconfig.compilerOptions.moduleResolution, tsconfig.compilerOptions.strict], ['nodenext', 'nodenext', true]);
    await installMpi4ts(app);
    const hello = await mpi4ts(['run', '-n', '3', 'hello.ts'], { cwd: app });
    assert.equal(hello.code, 0, hello.stderr);
    const lines = hello.stdout.split('\n').filter((l) => l !== '');
    assert.deepEqual(lines.filter((l) => l.startsWith('Hello')).map((l) => l.replace(/ on .*/, '')).sort(),
      ['Hello, World! I am process 0 of 3', 'Hello, World! I am process 1 of 3', 'Hello, World! I am process 2 of 3']);
    assert.ok(lines.includes('All 3 ranks answered.'), hello.stdout);

    const again = await mpi4ts(['init'], { cwd: app });
    assert.equal(again.code, 2);
    assert.equal(again.stderr, `mpi4ts: init: ${join(app, 'tsconfig.json')} and ${join(app, 'hello.ts')} already exist; ` +
      'init does not overwrite files (move them away, or init another directory)\n');
  });
});

test('mpi4ts init beside a CommonJS package.json leaves it as it is and says to add "type": "module"', async () => {
  await withTemp(async (app) => {
    const original = '{ "name": "old", "type": "commonjs" }\n';
    await writeFile(join(app, 'package.json'), original);
    const init = await mpi4ts(['init'], { cwd: app });
    assert.equal(init.code, 0, init.stderr);
    assert.equal(init.stdout, [
      'mpi4ts init: wrote tsconfig.json, hello.ts in .',
      `${join(app, 'package.json')} exists and is left as it is; in it:`,
      '  add "type": "module" (mpi4ts is an ES module; with "type": "commonjs" hello.ts cannot run)',
      `  add mpi4ts to "dependencies" (npm install mpi4ts@^${VERSION})`,
      'then: npx mpi4ts run -n 4 hello.ts',
      '',
    ].join('\n'));
    assert.equal(await readFile(join(app, 'package.json'), 'utf8'), original);
  });
});

test('mpi4ts init: bad inputs give errors that say what is wrong', async () => {
  await withTemp(async (tmp) => {
    await writeFile(join(tmp, 'file'), '');
    const cases: [string[], string][] = [
      [['init', 'a', 'b'], 'init takes one directory, got 2: a b'],
      [['init', '--force'], 'init: unknown option "--force" (see mpi4ts init --help)'],
      [['init', 'file'], `init: ${join(tmp, 'file')} exists and is not a directory`],
    ];
    for (const [argv, message] of cases) {
      const result = await mpi4ts(argv, { cwd: tmp });
      assert.equal(result.stderr, `mpi4ts: ${message}\n`, argv.join(' '));
      assert.equal(result.code, 2);
    }
    await mkdir(join(tmp, 'bad'));
    await writeFile(join(tmp, 'bad', 'package.json'), '{ not json');
    const bad = await mpi4ts(['init', 'bad'], { cwd: tmp });
    assert.match(bad.stderr, /^mpi4ts: init: .*bad\/package\.json exists but is not valid JSON \(.*\); fix or remove it\n$/);
    assert.equal(bad.code, 2);
  });
});

test('package names from directory names', () => {
  assert.equal(packageNameOf('/x/My App'), 'my-app');
  assert.equal(packageNameOf('/x/.hidden'), 'hidden');
  assert.equal(packageNameOf('/'), 'mpi-app');
});

test('mpi4ts --help lists init', async () => {
  const help = await mpi4ts(['--help']);
  assert.match(help.stdout, /^ {2}mpi4ts init \[dir\] +a starter project/m);
});
