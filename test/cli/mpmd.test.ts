// MPMD argument parsing of `mpi4ts run` (src/cli/mpmd.ts): the colon form and app files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blocksOf, readAppFile, splitAtColons } from '../../src/cli/mpmd.js';
import { parseOptions } from '../../src/cli/args.js';
import { RUN_OPTIONS } from '../../src/cli/run.js';

/** What runCommand does with a command line: cut at ':', the job's options from the first segment. */
function blocksOfLine(argv: string[]): ReturnType<typeof blocksOf> {
  const [first, ...more] = splitAtColons(argv);
  const { options, rest } = parseOptions(first!, RUN_OPTIONS, 'run');
  const np = options.get('np');
  return blocksOf({ np: typeof np === 'string' ? np : null, rest }, more);
}

function withFile<T>(text: string, use: (path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'mpi4ts-app-'));
  try {
    const path = join(dir, 'apps.txt');
    writeFileSync(path, text);
    return use(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a lone ":" cuts the command line; ":" inside a word does not', () => {
  assert.deepEqual(splitAtColons(['-n', '1', 'a.ts', 'x:y', ':', '-n', '2', 'b.ts']), [['-n', '1', 'a.ts', 'x:y'], ['-n', '2', 'b.ts']]);
  assert.deepEqual(splitAtColons(['-n', '2', 'a.ts']), [['-n', '2', 'a.ts']]);
});

test('-n 1 server.ts args : -n 3 client.ts args: two blocks, each with its -n, program, arguments and env', () => {
  const blocks = blocksOfLine(['--tag-output', '-n', '1', 'server.ts', '--port', '7', ':', '-np', '3', '--env', 'MODE=c', '-x', 'HOME', 'client.ts', 'a', '-v']);
  assert.deepEqual(blocks.map(({ np, script, args, env, forward }) => ({ np, script, args, env, forward })), [
    { np: 1, script: 'server.ts', args: ['--port', '7'], env: [], forward: [] },
    { np: 3, script: 'client.ts', args: ['a', '-v'], env: ['MODE=c'], forward: ['HOME'] },
  ]);
  assert.equal(blocks[1]!.where, 'block 2 (client.ts)');
});

test('one block keeps today\'s rules: no -n is allowed (slots decide, default 1)', () => {
  const [only, ...none] = blocksOfLine(['app.ts', 'x']);
  assert.equal(none.length, 0);
  assert.deepEqual({ np: only!.np, script: only!.script, args: only!.args }, { np: null, script: 'app.ts', args: ['x'] });
});

const badLines: [string[], RegExp][] = [
  [['-n', '1', 'a.ts', ':', 'b.ts'], /^block 2 \(b\.ts\) has no -n: with several programs each needs its own \(e\.g\. -n 1 server\.ts : -n 3 client\.ts\)$/],
  [['a.ts', ':', '-n', '2', 'b.ts'], /^block 1 \(a\.ts\) has no -n: with several programs each needs its own/],
  [['-n', '1', 'a.ts', ':', '-n', '2'], /^block 2: no program after its options$/],
  [['-n', '1', 'a.ts', ':'], /^block 2: no program after its options$/],
  [['-n', '1', 'a.ts', ':', '-n', '0', 'b.ts'], /^block 2 \(b\.ts\): -n must be a whole number from 1 to 100000, got "0"$/],
  [['-n', '1', 'a.ts', ':', '-n', '1', '--hostfile', 'h', 'b.ts'],
    /^block 2 \(b\.ts\): unknown option "--hostfile"; a block takes only -n, -env\/--env, -envlist, -x, -wdir and --host \(give the job's options before the first program\)$/],
  [['-n', '1', 'a.ts', ':', '-n', '1', '--env'], /^block 2: option --env needs a value \(VAR=VAL\); a block takes only/],
  [['-n', '60000', 'a.ts', ':', '-n', '60000', 'b.ts'], /^the blocks ask for 120000 ranks in all; at most 100000 are allowed$/],
];

for (const [argv, message] of badLines) {
  test(`run ${argv.join(' ')}: ${message.source.slice(1, 40)}...`, () => {
    assert.throws(() => blocksOfLine(argv), (err: Error) => err.name === 'UsageError' && message.test(err.message));
  });
}

test('--app / -configfile: a block a line, # comments, blank lines, quotes, several blocks on one line', () => {
  const text = '# server first\n-n 1 server.ts s1\n\n  -n 2 --env MODE=c client.ts "c 1" # clients\n-n 1 a.ts : -n 1 b.ts\n';
  const blocks = withFile(text, (path) => readAppFile(path).map((b) => ({ ...b, where: b.where.replace(path, 'F') })));
  assert.deepEqual(blocks.map(({ np, script, args, where }) => ({ np, script, args, where })), [
    { np: 1, script: 'server.ts', args: ['s1'], where: 'F:2' },
    { np: 2, script: 'client.ts', args: ['c 1'], where: 'F:4' },
    { np: 1, script: 'a.ts', args: [], where: 'F:5' },
    { np: 1, script: 'b.ts', args: [], where: 'F:5' },
  ]);
  assert.deepEqual(blocks[1]!.env, ['MODE=c']);
});

const badFiles: [string, RegExp][] = [
  ['-n 1 a.ts\nb.ts\n', /^F:2 has no -n: with several programs each needs its own/],
  ['-n 1 a.ts\n-n two b.ts\n', /^F:2: -n must be a whole number from 1 to 100000, got "two"$/],
  ['-n 1 a.ts\n\n--timeout 3 -n 1 b.ts\n', /^F:3: unknown option "--timeout"; a block takes only -n, -env\/--env, -envlist, -x, -wdir and --host/],
  ['-n 1 a.ts\n-n 2\n', /^F:2: no program after its options$/],
  ['# nothing\n\n', /^app file "F" names no program \(lines like "-n 2 prog\.ts args"\)$/],
];

for (const [text, message] of badFiles) {
  test(`app file ${JSON.stringify(text)}: the error names the file and line`, () => {
    withFile(text, (path) => {
      assert.throws(() => readAppFile(path), (err: Error) => err.name === 'UsageError' && message.test(err.message.replaceAll(path, 'F')));
    });
  });
}

test('an app file that cannot be read says so', () => {
  assert.throws(() => readAppFile('/no/such/apps.txt'), /^UsageError: cannot read app file "\/no\/such\/apps\.txt": ENOENT$/);
});
