import { test } from 'node:test';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { CLI, example, mpi4ts, mpirun, program, ROOT, strays } from './helpers.js';

const badRuns: [string[], RegExp][] = [
  [['run', '-n', '0', 'examples/helloworld.ts'], /mpi4ts: -n must be a whole number from 1 to 100000, got "0"/],
  [['run', '-n', 'four', 'examples/helloworld.ts'], /-n must be a whole number from 1 to 100000, got "four"/],
  [['run', '-np', '2', 'no/such/app.ts'], /script "no\/such\/app.ts" not found \(looked for .*no\/such\/app.ts\)/],
  [['run', '-n', '2', 'README.md'], /script "README.md" has extension ".md"; mpi4ts runs .ts/],
  [['run', '-n', '2', '--bogus', 'x.ts'], /unknown option "--bogus" for "mpi4ts run" \(see mpi4ts run --help\)/],
  [['run', '-n'], /option -n needs a value \(N\)/],
  [['run', '-n', '2'], /no script to run/],
  [['run', '--timeout', '-1', 'examples/helloworld.ts'], /--timeout must be a positive number of seconds, got "-1"/],
  [['run', '--env', 'NOEQUALS', 'examples/helloworld.ts'], /--env needs VAR=VAL, got "NOEQUALS"/],
  [['run', '-x', '1BAD', 'examples/helloworld.ts'], /-x: "1BAD" is not a valid environment variable name/],
  [['launch'], /unknown command "launch"; commands are/],
];

for (const [argv, message] of badRuns) {
  test(`mpi4ts ${argv.join(' ')}: a clear error, exit code 2`, async () => {
    const r = await mpi4ts(argv);
    assert.equal(r.code, 2);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace for a usage error');
  });
}

test('--help and --version', async () => {
  const help = await mpi4ts(['run', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: mpi4ts run -n N/);
  assert.match(help.stdout, /--tag-output/);
  const version = await mpi4ts(['--version']);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
});

test('--tag-output prefixes every line with [rank]; stdin reaches rank 0', async () => {
  const r = await mpirun(3, program('echo.ts'), { launcher: ['--tag-output', '--env', 'MODE=fast'], stdin: 'first line\nsecond\n' });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  for (const line of lines) assert.match(line, /^\[\d\] /);
  assert.ok(lines.includes('[0] stdin: first line|second'), r.stdout);
  assert.ok(lines.includes('[2] rank 2 of 3, env MODE=fast'), r.stdout);
  assert.ok(lines.includes('[1] partial line without newline'), r.stdout);
});

test('-x and --env reach every rank; .js scripts run too', async () => {
  const r = await mpirun(2, program('echo.mjs'), { launcher: ['-x', 'FROM_SHELL', '--env', 'MODE=slow'], env: { FROM_SHELL: 'yes' } });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\n').filter((l) => l !== '').sort(), ['js rank 0 yes slow', 'js rank 1 yes slow']);
});

test('a program run without the launcher is a world of one', async () => {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, ['--import', 'tsx', example('helloworld.ts')], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Hello, World! I am process 0 of 1 on \S+\.\n$/);
});

test('mpi4ts info reports versions and the bootstrap', async () => {
  const r = await mpi4ts(['info']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^mpi4ts \d+\.\d+\.\d+\nnode v\d+/);
  assert.match(r.stdout, /bootstrap singleton: rank 0 of 1/);
});

test('a reader that goes away (mpi4ts run ... | head -1) drops the output; the job runs to its end, no crash, nothing left', async () => {
  const marker = `mpi4ts-test-${randomUUID()}`;
  const child = spawn(process.execPath, [CLI, 'run', '-n', '2', program('chatty.ts'), marker], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  // As head -1: read the first line, then close the pipe while the ranks still print.
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.stdout.destroy();
  const [code] = await once(child, 'exit') as [number | null];
  assert.equal(code, 0, stderr);
  assert.doesNotMatch(stderr, /EPIPE|internal error|\n\s+at /);
  assert.deepEqual(await strays(marker), []);
});
