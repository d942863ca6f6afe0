/** `mpi4ts bench` end to end through the real launcher: the format, not the speed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mpi4ts } from '../helpers.js';

const ROW = /^(\d+) +(\d+\.\d\d)$/;

function rows(stdout: string): Array<[number, number]> {
  return stdout.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((line) => {
    const m = ROW.exec(line);
    assert.ok(m !== null, `"${line}" is an OSU row (size, figure with 2 decimals)`);
    assert.equal(line.length, 30, `"${line}": size in 10 columns, figure in 20`);
    return [Number(m[1]), Number(m[2])];
  });
}

test('bench latency -m 1:1024 -i 50 -x 5: OSU header and one row per size', async () => {
  const r = await mpi4ts(['bench', 'latency', '-m', '1:1024', '-i', '50', '-x', '5']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.match(lines[0]!, /^# OSU MPI Latency Test: mpi4ts \d+\.\d+\.\d+ \(object path, send\/recv of values, 2 ranks, \w+\)$/);
  assert.equal(lines[1], '# Size            Latency (us)');
  const measured = rows(r.stdout);
  assert.deepEqual(measured.map(([size]) => size), [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]);
  for (const [, us] of measured) assert.ok(us > 0);
});

test('bench bw --typed --json --plot: a JSON document and an SVG file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mpi4ts-bench-'));
  try {
    const r = await mpi4ts(['bench', 'bw', '--typed', '-m', '4:64', '-i', '2', '-x', '1', '-W', '4', '--json', '--plot', 'bw.svg'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { test: string; path: string; window: number; results: Array<{ size: number; value: number }> };
    assert.equal(doc.test, 'bw');
    assert.equal(doc.path, 'typed');
    assert.equal(doc.window, 4);
    assert.deepEqual(doc.results.map((x) => x.size), [4, 8, 16, 32, 64]);
    const svg = readFileSync(join(dir, 'bw.svg'), 'utf8');
    assert.match(svg, /^<\?xml[^]*<svg [^]*Bandwidth \(MB\/s\)[^]*<\/svg>\n$/);
    assert.equal(svg.match(/<circle /g)?.length, 5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bench allreduce -f on 3 ranks: Avg, Min, Max, Iterations columns', async () => {
  const r = await mpi4ts(['bench', '-n', '3', 'allreduce', '-m', '4:64', '-i', '3', '-x', '1', '-f']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^# OSU MPI Allreduce Latency Test: mpi4ts .*3 ranks/);
  assert.equal(lines[1], '# Size         Avg Latency(us)     Min Latency(us)     Max Latency(us)  Iterations');
  const sizes = lines.slice(2).map((line) => {
    const cells = line.trim().split(/ +/).map(Number);
    assert.equal(cells.length, 5, line);
    const [, avg, min, max, iterations] = cells as [number, number, number, number, number];
    assert.ok(min <= avg && avg <= max, line);
    assert.equal(iterations, 3);
    return cells[0];
  });
  assert.deepEqual(sizes, [4, 8, 16, 32, 64]);
});

test('bench alltoallv -f on 3 ranks: the OSU title, the typed path, one row per size', async () => {
  const r = await mpi4ts(['bench', '-n', '3', 'alltoallv', '-m', '1:1024', '-i', '3', '-x', '1', '-f']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^# OSU MPI All-to-Allv Personalized Exchange Latency Test: mpi4ts \S+ \(typed path, .*3 ranks/);
  const sizes = lines.slice(2).map((line) => {
    const cells = line.trim().split(/ +/).map(Number);
    assert.equal(cells.length, 5, line);
    assert.ok(cells[2]! <= cells[1]! && cells[1]! <= cells[3]!, line);
    return cells[0];
  });
  assert.deepEqual(sizes, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]);
});

test('bench osu_latency --plot --compare: this run and the other drawn in one SVG, a path and a legend entry each', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mpi4ts-bench-'));
  try {
    writeFileSync(join(dir, 'before.json'), JSON.stringify({
      test: 'latency', osu: 'osu_latency', label: 'before', implementation: 'mpi4ts', path: 'object', unit: 'us',
      results: [{ size: 1, value: 50, iterations: 5 }, { size: 2, value: 60, iterations: 5 }, { size: 4, value: 70, iterations: 5 }],
    }));
    const r = await mpi4ts(['bench', 'osu_latency', '-m', '1:4', '-i', '5', '-x', '1', '--plot', 'both.svg', '--compare', 'before.json', '--label', 'after'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(rows(r.stdout).map(([size]) => size), [1, 2, 4], 'the table is unchanged by --compare');
    const svg = readFileSync(join(dir, 'both.svg'), 'utf8');
    assert.match(svg, />OSU MPI Latency Test: 2 runs</);
    assert.equal(svg.match(/<path /g)?.length, 2);
    // Legend names stand beside their line sample, at x = left margin + 36; tick labels are elsewhere.
    assert.deepEqual([...svg.matchAll(/<text x="116" y="\d+" dominant-baseline="middle">([^<]*)<\/text>/g)].map((m) => m[1]), ['after', 'before']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bench --help names both spellings and the progress line', async () => {
  const r = await mpi4ts(['bench', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Tests: latency, bw, bibw, multi-lat, bcast, .*scatter\n {2}or by OSU's program names: osu_latency, osu_bw, osu_bibw, osu_multi_lat, .*osu_scatter$/m);
  assert.match(r.stdout, /On a terminal a progress line/);
  assert.match(r.stdout, /--compare RUN\.json +with --plot: draw the run that --json wrote/);
  assert.match(r.stdout, /--label NAME +this run's name in the plot's legend/);
});

const refusals: [string[], RegExp][] = [
  [['bench', '-n', '3', 'latency', '-i', '1'], /mpi4ts bench: latency runs on exactly 2 ranks, got 3 \(use -n 2, or multi-lat for pairs\)/],
  [['bench', '-n', '3', 'multi-lat', '-i', '1'], /mpi4ts bench: multi-lat runs on an even number of ranks, got 3/],
  [['bench', 'latenzy'], /mpi4ts: unknown test "latenzy"; tests are latency, bw, .* or by OSU's names osu_latency, osu_bw, /],
  [['bench', 'osu_latency', '--plot', 'x.svg', '--compare', 'package.json'], /^mpi4ts: --compare package\.json: "test" is missing, not a test mpi4ts bench knows; write the file with mpi4ts bench osu_latency --json > package\.json\n$/],
];
for (const [argv, message] of refusals) {
  test(`mpi4ts ${argv.join(' ')}: refused with a message, exit code 2`, async () => {
    const r = await mpi4ts(argv);
    assert.equal(r.code, 2);
    assert.match(r.stderr, message);
  });
}
