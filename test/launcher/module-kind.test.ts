// The check before a job starts that a .ts program can run as the module kind
// its package gives it (src/launcher/module-kind.ts): what esbuild reports on
// the tricky cases, the messages, and real `mpi4ts run` jobs in CommonJS apps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkModuleKind, esmOnlyUse, nearestPackageJson } from '../../src/launcher/module-kind.js';
import { UsageError } from '../../src/base/index.js';
import { mpi4ts, ROOT } from '../helpers.js';

const topLevelAwait = (line: number) => ({ what: 'top-level await', line });

const cases: [string, string, ReturnType<typeof esmOnlyUse>][] = [
  ['await at column 0', 'await Promise.resolve();\n', topLevelAwait(1)],
  ['await indented inside an if block at top level', 'const go = true;\nif (go) {\n  await Promise.resolve();\n}\n', topLevelAwait(3)],
  ['await in nested top-level blocks and a try', '{\n  try {\n    for (;;) { await 1; break; }\n  } catch {}\n}\n', topLevelAwait(3)],
  ['for await at top level', 'for await (const x of [1]) console.log(x);\n', topLevelAwait(1)],
  ['await at column 0 inside an async function', 'async function main() {\nawait Promise.resolve();\n}\nvoid main();\n', null],
  ['await in an arrow function, with and without braces', 'const f = async () => {\nawait 1;\n};\nconst g = async (x: number) => await x;\nvoid f(); void g(1);\n', null],
  ['await in methods, a class body and an object literal', 'class A {\n  async m(): Promise<void> {\nawait 1;\n  }\n  static async s() { await 2; }\n}\nconst o = { async m() {\nawait 3;\n} };\nvoid A; void o;\n', null],
  ['await in an async function in a top-level block', 'if (true) {\n  const h = async function () {\n    await 1;\n  };\n  void h;\n}\n', null],
  ['"await" in strings, template literals, comments and a regex', 'const s = "await x"; const t = `await ${s}`;\n// await y\n/* await z */\nconst r = /await/;\nvoid r; void t;\n', null],
  ['await as a property name', 'const o = { await: 1 };\nconsole.log(o.await);\n', null],
  ['import * as MPI from \'mpi4ts\'', 'import { sep } from \'node:path\';\nimport * as MPI from \'mpi4ts\';\nconsole.log(sep, MPI.COMM_WORLD.rank);\n', { what: 'an import of mpi4ts', line: 2 }],
  ['export * from \'mpi4ts\'', 'export * from "mpi4ts";\n', { what: 'an import of mpi4ts', line: 1 }],
  ['a type-only import of mpi4ts (erased)', 'import type { Comm } from \'mpi4ts\';\nlet c: Comm | undefined;\nvoid c;\n', null],
  ['import() of mpi4ts, which works from CommonJS', 'async function main() {\n  const MPI = await import(\'mpi4ts\');\n  console.log(MPI.COMM_WORLD.rank);\n}\nvoid main();\n', null],
  ['other imports and exports, which compile to CommonJS and work', 'import { sep } from \'node:path\';\nexport const x = sep;\n', null],
  ['a syntax error (left for tsx to report)', 'const = 1;\nawait 2;\n', null],
];

for (const [name, code, expected] of cases) {
  test(`esmOnlyUse: ${name}`, () => {
    assert.deepEqual(esmOnlyUse(code, 'ts'), expected);
  });
}

test('esmOnlyUse: JSX in a .tsx program with top-level await', () => {
  assert.deepEqual(esmOnlyUse('const e = <div>await</div>;\nawait Promise.resolve(e);\n', 'tsx'), topLevelAwait(2));
});

test('esmOnlyUse starts esbuild only for a program that says await or mpi4ts', () => {
  const seen: string[] = [];
  const fake = { transformSync: (code: string) => { seen.push(code); return { code }; } };
  assert.equal(esmOnlyUse('const x: number = 1;\nconsole.log(x);\n', 'ts', fake), null);
  assert.deepEqual(seen, []);
  assert.equal(esmOnlyUse('async function f() { await 1; }\n', 'ts', fake), null);
  assert.deepEqual(seen, ['async function f() { await 1; }\n']);
});

/** A temp dir holding `files`, with node_modules/mpi4ts pointing at this worktree. */
async function withApp(files: Record<string, string>, use: (app: string) => Promise<void>): Promise<void> {
  const app = await mkdtemp(join(tmpdir(), 'mpi4ts-kind-'));
  try {
    await mkdir(join(app, 'node_modules'));
    await symlink(ROOT, join(app, 'node_modules', 'mpi4ts'));
    for (const [name, text] of Object.entries(files)) {
      await mkdir(join(app, name, '..'), { recursive: true });
      await writeFile(join(app, name), text);
    }
    await use(app);
  } finally {
    await rm(app, { recursive: true, force: true });
  }
}

const TLA = 'if (process.argv.length > 0) {\n  await Promise.resolve();\n  console.log("rank ran");\n}\n';

test('checkModuleKind names the program, the package.json and the fix; a module package, .mts and .cts pass', async () => {
  await withApp({ 'package.json': '{ "name": "app", "type": "commonjs" }\n', 'src/prog.ts': TLA, 'src/prog.mts': TLA, 'src/prog.cts': 'console.log(1);\n' }, async (app) => {
    assert.equal(nearestPackageJson(join(app, 'src', 'prog.ts')), join(app, 'package.json'));
    assert.throws(() => checkModuleKind('src/prog.ts', join(app, 'src', 'prog.ts')), (err: unknown) => {
      assert.ok(err instanceof UsageError);
      assert.equal(err.message, `program "src/prog.ts" needs to be an ES module (top-level await at line 2), but ${join(app, 'package.json')} ` +
        `has no "type": "module", so it runs as CommonJS, where that fails; add "type": "module" to ${join(app, 'package.json')}, or rename it to prog.mts`);
      return true;
    });
    checkModuleKind('src/prog.mts', join(app, 'src', 'prog.mts'));
    checkModuleKind('src/prog.cts', join(app, 'src', 'prog.cts'));
    await writeFile(join(app, 'package.json'), '{ "name": "app", "type": "module" }\n');
    checkModuleKind('src/prog.ts', join(app, 'src', 'prog.ts'));
  });
});

test('checkModuleKind without any package.json above the program says to create one', async () => {
  await withApp({ 'prog.ts': TLA }, async (app) => {
    assert.equal(nearestPackageJson(join(app, 'prog.ts')), null, 'no package.json above the temp dir');
    assert.throws(() => checkModuleKind('prog.ts', join(app, 'prog.ts')), {
      message: `program "prog.ts" needs to be an ES module (top-level await at line 2), but there is no package.json above it, so it runs as CommonJS, ` +
        `where that fails; create a package.json with "type": "module" in ${app}, or rename it to prog.mts`,
    });
  });
});

test('mpi4ts run in a CommonJS app: indented top-level await or an import of mpi4ts stops before any rank starts', async () => {
  const files = {
    'package.json': '{ "name": "app", "type": "commonjs" }\n',
    'tla.ts': TLA,
    'hello.ts': 'import * as MPI from \'mpi4ts\';\nconsole.log("rank ran", MPI.COMM_WORLD.rank);\n',
  };
  await withApp(files, async (app) => {
    const tla = await mpi4ts(['run', '-n', '2', 'tla.ts'], { cwd: app });
    assert.equal(tla.stdout, '', 'no rank printed');
    assert.equal(tla.code, 2);
    assert.match(tla.stderr, /^mpi4ts: program "tla\.ts" needs to be an ES module \(top-level await at line 2\), but .*package\.json has no "type": "module"/);
    const hello = await mpi4ts(['run', '-n', '2', 'hello.ts'], { cwd: app });
    assert.equal(hello.stdout, '');
    assert.equal(hello.code, 2);
    assert.match(hello.stderr, /^mpi4ts: program "hello\.ts" needs to be an ES module \(an import of mpi4ts at line 1\)/);
  });
});

test('mpi4ts run in a CommonJS app: await at column 0 inside an async function runs, as does a .mts program', async () => {
  const files = {
    'package.json': '{ "name": "app", "type": "commonjs" }\n',
    'fn.ts': 'async function main(): Promise<void> {\nawait Promise.resolve();\nconsole.log("fn ran");\n}\nvoid main();\n',
    'hello.mts': 'import * as MPI from \'mpi4ts\';\nawait MPI.COMM_WORLD.barrier();\nconsole.log(`mts ran ${MPI.COMM_WORLD.rank}`);\n',
  };
  await withApp(files, async (app) => {
    const fn = await mpi4ts(['run', '-n', '2', 'fn.ts'], { cwd: app });
    assert.equal(fn.code, 0, fn.stderr);
    assert.equal(fn.stdout, 'fn ran\nfn ran\n');
    const mts = await mpi4ts(['run', '-n', '2', 'hello.mts'], { cwd: app });
    assert.equal(mts.code, 0, mts.stderr);
    assert.deepEqual(mts.stdout.split('\n').filter((l) => l !== '').sort(), ['mts ran 0', 'mts ran 1']);
  });
});
