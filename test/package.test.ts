// What npm ships: the LICENSE, no source maps (they would name src/*.ts, which
// is not shipped), and declarations that hold the public API only and type-check
// a user's program: every example, compiled against dist/*.d.ts as an
// installed package, with the declarations' own checks on (no skipLibCheck).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

test('the package ships LICENSE and dist without source maps', async () => {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
  const files = (JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
  assert.ok(files.includes('LICENSE'), 'LICENSE is in the tarball');
  assert.deepEqual(files.filter((f) => f.endsWith('.map')), [], 'no source maps');
  assert.ok(files.includes('dist/index.d.ts'));
});

test('the shipped declarations hold no @internal member and type-check every example as a user would', async () => {
  const requestTypes = await readFile(join(ROOT, 'dist', 'p2p', 'request.d.ts'), 'utf8');
  assert.doesNotMatch(requestTypes, /_resolve|_reject|_claim/, 'Request\'s internals are stripped');
  const app = await mkdtemp(join(tmpdir(), 'mpi4ts-types-'));
  try {
    await mkdir(join(app, 'node_modules', '@types'), { recursive: true });
    await symlink(ROOT, join(app, 'node_modules', 'mpi4ts'));
    await symlink(join(ROOT, 'node_modules', '@types', 'node'), join(app, 'node_modules', '@types', 'node'));
    await writeFile(join(app, 'package.json'), '{ "type": "module" }\n');
    await writeFile(join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] },
      include: ['src'],
    }));
    await cp(join(ROOT, 'examples'), join(app, 'src'), { recursive: true });
    assert.ok((await readdir(join(app, 'src'))).length >= 10);
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', join(app, 'tsconfig.json')], { cwd: app }).catch((err: { stdout: string }) => err);
    assert.equal(result.stdout, '', `tsc found errors:\n${result.stdout}`);
  } finally {
    await rm(app, { recursive: true, force: true });
  }
});
