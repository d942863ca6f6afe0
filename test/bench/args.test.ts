import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBenchArgs, passThroughOptions } from '../../src/cli/bench.js';
import { benchConfig, sizeRange } from '../../src/bench/config.js';
import { loopCounts, messageSizes, testInfo, TESTS } from '../../src/bench/tests.js';
import type { BenchInvocation } from '../../src/cli/bench.js';

function parse(argv: string[]): BenchInvocation {
  const parsed = parseBenchArgs(argv, '/work/dir');
  assert.notEqual(parsed, 'help');
  return parsed as BenchInvocation;
}

test('OSU size sequence: doubling from MIN, 0 followed by 1', () => {
  assert.deepEqual(messageSizes(0, 8), [0, 1, 2, 4, 8]);
  assert.deepEqual(messageSizes(3, 20), [3, 6, 12]);
  assert.deepEqual(messageSizes(4096, 4096), [4096]);
});

test('-m takes MIN:MAX, MAX and MIN: as OSU does', () => {
  assert.deepEqual(sizeRange('1:1024'), [1, 1024]);
  assert.deepEqual(sizeRange('1024'), [0, 1024]);
  assert.deepEqual(sizeRange('16:'), [16, 4 * 1024 * 1024]);
  assert.deepEqual(sizeRange(':64'), [0, 64]);
});

const badRanges: [string, RegExp][] = [
  ['', /-m must be MIN:MAX, MAX or MIN: in bytes \(e.g. -m 1:4194304\), got ""/],
  ['a:b', /-m must be MIN:MAX, MAX or MIN: in bytes .*got "a:b"/],
  ['1:2:3', /got "1:2:3"/],
  ['64:8', /-m "64:8": MIN 64 is larger than MAX 8/],
  ['1:2147483648', /-m "1:2147483648": the largest size allowed is 1073741824 B/],
];
for (const [text, message] of badRanges) {
  test(`-m "${text}" is refused with a message naming it`, () => assert.throws(() => sizeRange(text), message));
}

test('defaults: 2 ranks, OSU sizes, OSU loops per size', () => {
  const { config, runArgs } = parse(['latency']);
  assert.deepEqual(runArgs, ['-n', '2']);
  assert.equal(config.test, 'latency');
  assert.equal(config.typed, false);
  assert.equal(config.sizes[0], 0);
  assert.equal(config.sizes.at(-1), 4 * 1024 * 1024);
  assert.equal(config.window, 64);
  assert.deepEqual(loopCounts('latency', 8192, null, null), { iterations: 10_000, warmup: 100 });
  assert.deepEqual(loopCounts('latency', 16384, null, null), { iterations: 1000, warmup: 10 });
  assert.deepEqual(loopCounts('bandwidth', 16384, null, null), { iterations: 20, warmup: 2 });
  assert.deepEqual(loopCounts('collective', 1, null, null), { iterations: 1000, warmup: 200 });
  assert.deepEqual(loopCounts('collective', 1 << 20, 7, 3), { iterations: 7, warmup: 3 });
  assert.equal(parse(['bw']).config.sizes[0], 1);
  assert.equal(parse(['allreduce']).config.sizes.at(-1), 1024 * 1024);
});

test('options before and after the test name; OSU letters; run options pass through', () => {
  const { config, runArgs } = parse(['-n', '4', 'multi-lat', '-m', '1:1024', '-i', '50', '-x', '5', '--typed', '--env', 'A=1', '--timeout', '30', '--plot', 'out/lat.svg']);
  assert.equal(config.test, 'multi-lat');
  assert.deepEqual(config.sizes, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]);
  assert.equal(config.iterations, 50);
  assert.equal(config.warmup, 5);
  assert.equal(config.typed, true);
  assert.equal(config.plot, '/work/dir/out/lat.svg');
  assert.deepEqual(runArgs, ['-n', '4', '--timeout', '30', '--env', 'A=1']);
  assert.equal(parse(['bw', '-W', '8', '--json', '-f']).config.window, 8);
  assert.equal(parse(['--json', 'barrier']).config.json, true);
});

test('-x is the warm-up count under bench, not run\'s -x VAR; --help is bench\'s', () => {
  const names = passThroughOptions().flatMap((s) => s.names);
  assert.ok(names.includes('-n') && names.includes('--env'));
  assert.ok(!names.includes('-x') && !names.includes('-h') && !names.includes('--help'));
  assert.equal(parseBenchArgs(['latency', '--help'], '/'), 'help');
});

test('alltoallv: OSU sizes 1 B to 1 MiB per rank, always the typed path (a buffer collective has no object form)', () => {
  const { config } = parse(['alltoallv']);
  assert.equal(config.test, 'alltoallv');
  assert.equal(config.typed, true);
  assert.equal(config.sizes[0], 1);
  assert.equal(config.sizes.at(-1), 1024 * 1024);
  assert.equal(parse(['alltoallv', '--typed']).config.typed, true);
  assert.equal(testInfo('alltoallv')?.title, 'OSU MPI All-to-Allv Personalized Exchange Latency Test');
  assert.deepEqual(loopCounts('collective', 1 << 20, null, null), { iterations: 100, warmup: 10 });
});

test('reductions start at one float; barrier has no sizes', () => {
  assert.deepEqual(parse(['reduce', '-m', '1:16']).config.sizes, [4, 8, 16]);
  assert.deepEqual(parse(['barrier']).config.sizes, [0]);
});

test('OSU\'s program names are test names: osu_latency is latency, osu_multi_lat is multi-lat', () => {
  assert.deepEqual(TESTS.map((t) => t.osu), ['osu_latency', 'osu_bw', 'osu_bibw', 'osu_multi_lat', 'osu_bcast', 'osu_reduce',
    'osu_allreduce', 'osu_allgather', 'osu_alltoall', 'osu_alltoallv', 'osu_barrier', 'osu_gather', 'osu_scatter']);
  for (const info of TESTS) {
    const byOsu = parse([info.osu, '-m', '4:8']).config;
    const byOurs = parse([info.name, '-m', '4:8']).config;
    assert.equal(byOsu.test, info.name, info.osu);
    assert.deepEqual(byOsu, byOurs, `${info.osu} runs exactly what ${info.name} runs`);
  }
  const { config, runArgs } = parse(['-n', '4', 'osu_allreduce', '-f', '-i', '10']);
  assert.equal(config.test, 'allreduce');
  assert.deepEqual(runArgs, ['-n', '4']);
});

test('--label names the run; the progress line goes where bench\'s CLI saw a terminal, and never with --json', () => {
  assert.equal(parse(['bw', '--label', 'shm, 64 KiB ring']).config.label, 'shm, 64 KiB ring');
  assert.equal(parse(['bw']).config.label, 'mpi4ts object');
  assert.equal(parse(['bw']).config.progress, null, 'no terminal: no progress line');
  const at = (terminal: { stdout: boolean; stderr: boolean }, setting: 'auto' | 'off' | 'stdout' | 'stderr', argv = ['bw']) => {
    const parsed = parseBenchArgs(argv, '/', { terminal, setting });
    assert.notEqual(parsed, 'help');
    return (parsed as BenchInvocation).config.progress;
  };
  assert.equal(at({ stdout: true, stderr: true }, 'auto'), 'stdout');
  assert.equal(at({ stdout: false, stderr: true }, 'auto'), 'stderr');
  assert.equal(at({ stdout: true, stderr: true }, 'auto', ['bw', '--json']), null);
  assert.equal(at({ stdout: true, stderr: true }, 'off'), null);
  assert.equal(at({ stdout: false, stderr: false }, 'stderr'), 'stderr');
  assert.equal(at({ stdout: true, stderr: true }, 'auto', ['bw', '--tag-output']), null, 'prefixed lines are never drawn in place');
});

const badArgs: [string[], RegExp][] = [
  [[], /which test\? one of latency, bw, bibw, multi-lat, bcast, .*, or by OSU's names osu_latency, /],
  [['latenzy'], /unknown test "latenzy"; tests are latency, bw, bibw, multi-lat, .*, scatter, or by OSU's names osu_latency, osu_bw, osu_bibw, osu_multi_lat, .*, osu_scatter$/],
  [['osu_mbw_mr'], /^UsageError: osu_mbw_mr is not one of OSU's tests that mpi4ts bench has; tests are latency, .* or by OSU's names osu_latency, /],
  [['osu_multi-lat'], /osu_multi-lat is not one of OSU's tests that mpi4ts bench has/],
  [['latency', '--compare', 'other.json'], /--compare draws other runs beside this one in --plot's SVG; add --plot FILE\.svg/],
  [['latency', '--plot', 'x.svg', '--compare', '/nonexistent/other.json'], /--compare \/nonexistent\/other\.json: cannot read it \(no such file\)/],
  [['latency', '--label'], /option --label needs a value \(NAME\)/],
  [['latency', 'bw'], /bench runs one test; unexpected "bw" after "latency"/],
  [['latency', '-i', '0'], /-i must be a whole number from 1 to 100000000, got "0"/],
  [['latency', '-x', '-1'], /-x must be a whole number from 0 to 100000000, got "-1"/],
  [['bw', '-W', 'many'], /-W must be a whole number from 1 to 1000000, got "many"/],
  [['latency', '--plot', 'lat.png'], /--plot writes an SVG file; name it \*.svg, got "lat.png"/],
  [['barrier', '--plot', 'b.svg'], /--plot draws latency against message size; barrier has no message size/],
  [['reduce', '-m', '1:2'], /-m 1:2: no message size of at least 4 B for reduce/],
  [['latency', '--bogus'], /unknown option "--bogus" for "mpi4ts bench"/],
];
for (const [argv, message] of badArgs) {
  test(`mpi4ts bench ${argv.join(' ')}: refused with a message`, () => {
    assert.throws(() => parseBenchArgs(argv, '/'), message);
  });
}

test('benchConfig resolves the plot path against the given directory', () => {
  const config = benchConfig({ test: 'bw', plot: 'x.svg' }, (p) => `/base/${p}`);
  assert.equal(config.plot, '/base/x.svg');
});
