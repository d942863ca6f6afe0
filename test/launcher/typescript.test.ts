/**
 * Node alone or tsx for a .ts program (launcher/typescript.ts): the walk over
 * a program's local modules, with this Node's own stripper where it has one
 * and, on Node 20, a stand-in that strips as Node does (every value import
 * kept, only `import type` erased; enums refused).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { blankCommentsAndStrings, chooseTypeScript, importClauses, nodeStripSupport, specifiersOf, typeOnlyImport, type StripSupport } from '../../src/launcher/typescript.js';
import { programCommand } from '../../src/launcher/script.js';
import { mpi4ts, ROOT } from '../helpers.js';

const esbuild = createRequire(fileURLToPath(import.meta.resolve('tsx')))('esbuild') as {
  transformSync(code: string, options: object): { code: string };
};

/** Node's stripper, or one that behaves as it does where this Node has none. */
const nodeLike: StripSupport = nodeStripSupport().strip !== null ? nodeStripSupport() : {
  strip: (code) => {
    if (/\benum\s+\w+\s*\{/.test(code)) throw new Error('TypeScript enum is not supported in strip-only mode');
    return esbuild.transformSync(code, { loader: 'ts', format: 'esm', tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } } }).code;
  },
};

/** A package in a temporary folder with `files`; returns its folder. */
function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'm4t-ts-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const MODULE = JSON.stringify({ type: 'module' });

function choose(files: Record<string, string>, entry = 'main.ts', support = nodeLike): { native: boolean; why: string } {
  const dir = project(files);
  try {
    return chooseTypeScript(join(dir, entry), 'auto', support);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a program whose every local module strips to ES module code runs on Node alone', () => {
  const choice = choose({
    'package.json': MODULE,
    'main.ts': 'import * as MPI from \'mpi4ts\';\nimport type { Shape } from \'./lib/shape.ts\';\nimport { area } from \'./lib/shape.ts\';\n' +
      'const s: Shape = { w: 2, h: 3 };\nconsole.log(area(s), MPI);\nconst later = await import(\'./lib/late.mts\');\nvoid later;\n',
    'lib/shape.ts': 'export interface Shape { w: number; h: number }\nexport function area(s: Shape): number { return s.w * s.h; }\n',
    'lib/late.mts': 'export const late: number = 1;\n',
  });
  assert.deepEqual(choice, { native: true, why: 'every local module strips to valid ES module code' });
});

test('what Node alone cannot run goes through tsx, and the reason names the file and what to change', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ 'package.json': MODULE, 'main.ts': 'import { area } from \'./shape.js\';\nconsole.log(area);\n', 'shape.ts': 'export const area = 1;\n' },
      /main\.ts imports "\.\/shape\.js", which names no file \(Node adds no extension and maps no \.js to \.ts\)/],
    [{ 'package.json': MODULE, 'main.ts': 'import { area } from \'./shape\';\nconsole.log(area);\n', 'shape.ts': 'export const area = 1;\n' },
      /imports "\.\/shape", which names no file/],
    [{ 'package.json': MODULE, 'main.ts': 'import { Shape, area } from \'./shape.ts\';\nconst s: Shape = { w: 1 };\nconsole.log(area(s));\n',
      'shape.ts': 'export interface Shape { w: number }\nexport function area(s: Shape): number { return s.w; }\n' },
      /main\.ts imports "Shape" from "\.\/shape\.ts", which only types use \(tsx drops it\); write "import type" for it/],
    [{ 'package.json': MODULE, 'main.ts': 'import { c } from \'./colour.ts\';\nconsole.log(c);\n', 'colour.ts': 'enum Colour { Red }\nexport const c = Colour.Red;\n' },
      /colour\.ts: TypeScript enum is not supported in strip-only mode/],
    [{ 'package.json': '{}', 'main.ts': 'console.log(1 as number);\n' }, /main\.ts is not in a package of "type": "module"/],
    [{ 'main.cts': 'console.log(1 as number);\n' }, /main\.cts is CommonJS/],
    [{ 'package.json': MODULE, 'tsconfig.json': '{ "compilerOptions": { "paths": { "@lib/*": ["./lib/*"] } } }', 'main.ts': 'console.log(1);\n' },
      /maps import paths \("paths"\)/],
  ];
  for (const [files, why] of cases) {
    const entry = Object.keys(files).find((f) => f.startsWith('main.'))!;
    const choice = choose(files, entry);
    assert.equal(choice.native, false, JSON.stringify(files));
    assert.match(choice.why, why);
  }
});

test('MPI4TS_TYPESCRIPT decides over the walk; a Node without stripping always takes tsx', () => {
  const files = { 'package.json': MODULE, 'main.ts': 'enum E { A }\nconsole.log(E.A);\n' };
  const dir = project(files);
  try {
    assert.deepEqual(chooseTypeScript(join(dir, 'main.ts'), 'node', nodeLike), { native: true, why: 'MPI4TS_TYPESCRIPT=node' });
    assert.deepEqual(chooseTypeScript(join(dir, 'main.ts'), 'tsx', nodeLike), { native: false, why: 'MPI4TS_TYPESCRIPT=tsx' });
    const old = chooseTypeScript(join(dir, 'main.ts'), 'auto', { strip: null });
    assert.equal(old.native, false);
    assert.match(old.why, /does not strip types by default \(22\.18\+ and 24 do\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('import names and specifiers are read from every form of import', () => {
  const code = 'import a, { b, c as d, "e" as f } from \'./x.ts\';\nimport * as ns from "./y.ts";\nimport \'./side.ts\';\n' +
    'export { g } from \'./z.ts\';\nexport * from "./w.ts";\nconst h = await import(\'./late.ts\');\nimport {\n  i,\n  j,\n} from \'./multi.ts\';\n';
  assert.deepEqual(importClauses(code).map((c) => [c.specifier, c.bindings.map((b) => `${b.imported}>${b.local}`)]), [
    ['./x.ts', ['default>a', 'b>b', 'c>d', 'e>f']],
    ['./multi.ts', ['i>i', 'j>j']],
  ]);
  assert.deepEqual(specifiersOf(code).sort(), ['./late.ts', './multi.ts', './side.ts', './w.ts', './x.ts', './y.ts', './z.ts']);
});

test('an import only types used is found in stripped code; comments, strings, templates and regular expressions do not count as uses', () => {
  assert.equal(typeOnlyImport('import { a, B } from \'./x.ts\';\nconsole.log(a);\nlet v       = 1;\n'), '"B" from "./x.ts"');
  assert.equal(typeOnlyImport('import D from \'./x.ts\';\n'), 'the default export from "./x.ts"');
  assert.equal(typeOnlyImport('import { a as b } from \'./x.ts\';\nb();\n'), null);
  assert.equal(typeOnlyImport('import * as ns from \'./x.ts\';\n'), null);
  for (const mention of ['// B here', '/* B */', '"B"', "'B'", '`B ${1}`', '/B/.test(s)', 'obj.B']) {
    assert.equal(typeOnlyImport(`import { a, B } from './x.ts';\na();\n${mention};\n`), '"B" from "./x.ts"', mention);
  }
  for (const use of ['B()', '[...B]', '`${B}`', 'f(`a ${`b ${B}`}`)', 'x = { B }', 'y = 1 / B / 2']) {
    assert.equal(typeOnlyImport(`import { a, B } from './x.ts';\na();\n${use};\n`), null, use);
  }
  assert.equal(blankCommentsAndStrings('a("x") // c\n/* d\n*/ `t${b}u`'), 'a(" ")     \n    \n   ` ${b} `');
});

test('programCommand: Node alone with the tsx form kept for remote hosts, or the tsx form only; .js as it is', () => {
  const dir = project({ 'package.json': MODULE, 'main.ts': 'console.log(1 as number);\n', 'plain.mjs': 'console.log(1);\n' });
  try {
    const native = programCommand('main.ts', ['x'], dir, 'auto', '/n/node', nodeLike);
    assert.deepEqual(native.command, ['/n/node', join(dir, 'main.ts'), 'x']);
    assert.deepEqual(native.fallback!.slice(0, 2), ['/n/node', '--import']);
    assert.deepEqual(native.fallback!.slice(3), [join(dir, 'main.ts'), 'x']);
    const viaTsx = programCommand('main.ts', [], dir, 'tsx', '/n/node', nodeLike);
    assert.equal(viaTsx.command[1], '--import');
    assert.equal(viaTsx.fallback, null);
    assert.deepEqual(programCommand('plain.mjs', [], dir, 'auto', '/n/node', nodeLike), { command: ['/n/node', join(dir, 'plain.mjs')], fallback: null });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a job says in the debug log which way its .ts program runs, decided by the launcher once', async () => {
  const r = await mpi4ts(['run', '-n', '3', join(ROOT, 'examples', 'helloworld.ts')], { env: { NODE_DEBUG: 'mpi4ts' } });
  assert.equal(r.code, 0, r.stderr);
  const decisions = r.stderr.split('\n').filter((l) => / runs (on Node alone|through tsx): /.test(l));
  assert.equal(decisions.length, 1, r.stderr);
  const strips = nodeStripSupport().strip !== null;
  assert.match(decisions[0]!, strips ? /helloworld\.ts runs on Node alone/ : /helloworld\.ts runs through tsx: Node v\d+/);
  assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('Hello, World!')).length, 3);
});
