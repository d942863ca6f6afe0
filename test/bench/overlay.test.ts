/** --compare: other runs' JSON checked with messages naming the file, and drawn one path per run with a legend. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { overlayOf, readOverlays } from '../../src/bench/overlay.js';
import { benchConfig } from '../../src/bench/config.js';
import { chartSvg } from '../../src/bench/svg.js';
import { testInfo } from '../../src/bench/tests.js';

const latency = testInfo('latency')!;

function run(fields: Record<string, unknown>): string {
  return JSON.stringify({
    benchmark: 'OSU MPI Latency Test', test: 'latency', implementation: 'mpi4ts', path: 'typed', unit: 'us',
    results: [{ size: 1, value: 2.5, iterations: 10 }, { size: 2, value: 2.75, iterations: 10 }],
    ...fields,
  });
}

test('a --json document becomes a curve named by its label, else by implementation and path', () => {
  const typed = overlayOf(run({}), 'typed.json', latency);
  assert.equal(typed.name, 'mpi4ts typed');
  assert.deepEqual(typed.points, [{ x: 1, y: 2.5 }, { x: 2, y: 2.75 }]);
  assert.equal(overlayOf(run({ label: 'before the fix' }), 'a.json', latency).name, 'before the fix');
  assert.equal(overlayOf(run({ implementation: 'mpi4py', path: 'buffer' }), 'py.json', latency).name, 'mpi4py buffer');
  assert.equal(overlayOf(run({ test: 'osu_latency' }), 'osu.json', latency).name, 'mpi4ts typed', 'OSU\'s name in "test" is taken too');
});

const faults: [string, string, RegExp][] = [
  ['{"test": "latency",', 'cut.json', /^--compare cut\.json: not JSON \(.+\); write the file with mpi4ts bench osu_latency --json > cut\.json$/],
  ['[1, 2]', 'list.json', /^--compare list\.json: not a JSON object of one run; /],
  [run({ test: 'bw', unit: 'MB/s' }), 'bw.json', /^--compare bw\.json: a run of osu_bw \(MB\/s\), and this run is osu_latency \(us\): draw runs of one test together; /],
  [run({ test: 'pingpong' }), 'pp.json', /^--compare pp\.json: "test" is "pingpong", not a test mpi4ts bench knows; /],
  [run({ test: undefined }), 'no-test.json', /^--compare no-test\.json: "test" is missing, not a test mpi4ts bench knows; /],
  [run({ unit: 'ms' }), 'ms.json', /^--compare ms\.json: its unit is "ms", and osu_latency reports us; /],
  [run({ results: [] }), 'empty.json', /^--compare empty\.json: no rows: "results" is missing or empty; /],
  [run({ results: undefined }), 'none.json', /^--compare none\.json: no rows: "results" is missing or empty; /],
  [run({ results: [{ size: 1, value: 2 }, { size: 'two', value: 3 }] }), 'row.json',
    /^--compare row\.json: row 2 of "results" is \{"size":"two","value":3\}: each row needs a whole "size" \(bytes\) and a "value" of 0 or more; /],
  [run({ results: [{ size: 1, value: -1 }] }), 'neg.json', /^--compare neg\.json: row 1 of "results" is \{"size":1,"value":-1\}/],
];
for (const [text, file, message] of faults) {
  test(`--compare ${file}: refused with a message naming the file and the fault`, () => {
    assert.throws(() => overlayOf(text, file, latency), (err: Error) => {
      assert.equal(err.name, 'UsageError');
      assert.match(err.message, message);
      return true;
    });
  });
}

test('files: one that is not there or is a folder is named; legend names that repeat get their file\'s name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mpi4ts-overlay-'));
  try {
    const at = (name: string): { name: string; path: string } => ({ name, path: join(dir, name) });
    assert.throws(() => readOverlays([at('gone.json')], latency, 'mpi4ts object'), /^UsageError: --compare gone\.json: cannot read it \(no such file\)$/);
    mkdirSync(join(dir, 'runs.json'));
    assert.throws(() => readOverlays([at('runs.json')], latency, 'mpi4ts object'), /--compare runs\.json: cannot read it \(a directory, not a file\)/);
    writeFileSync(join(dir, 'shm.json'), run({}));
    writeFileSync(join(dir, 'tcp.json'), run({}));
    writeFileSync(join(dir, 'old.json'), run({ path: 'object' }));
    const names = readOverlays([at('shm.json'), at('tcp.json'), at('old.json')], latency, 'mpi4ts object').map((o) => o.name);
    assert.deepEqual(names, ['mpi4ts typed (shm.json)', 'mpi4ts typed (tcp.json)', 'mpi4ts object (old.json)']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('benchConfig: --compare needs --plot; files resolve against the directory; --label names this run', () => {
  assert.throws(() => benchConfig({ test: 'latency', compare: ['a.json'] }, (p) => p), /--compare draws other runs beside this one in --plot's SVG; add --plot FILE\.svg/);
  assert.throws(() => benchConfig({ test: 'latency', label: ' ' }, (p) => p), /--label needs a name for the legend, got ""/);
  const seen: unknown[] = [];
  const config = benchConfig({ test: 'osu_latency', plot: 'x.svg', compare: ['a.json', 'b.json'], label: 'new' }, (p) => `/base/${p}`, (files, info, thisRun) => {
    seen.push(files, info.name, thisRun);
    return [{ name: 'a', points: [] }];
  });
  assert.deepEqual(seen, [[{ name: 'a.json', path: '/base/a.json' }, { name: 'b.json', path: '/base/b.json' }], 'latency', 'new']);
  assert.equal(config.label, 'new');
  assert.deepEqual(config.overlays, [{ name: 'a', points: [] }]);
  assert.equal(benchConfig({ test: 'bw', typed: true }, (p) => p).label, 'mpi4ts typed');
  assert.equal(benchConfig({ test: 'alltoallv' }, (p) => p).label, 'mpi4ts typed', 'alltoallv runs typed: its label says so');
});

test('the overlaid SVG: one path per run, in its own colour, and a legend entry per run', () => {
  const svg = chartSvg({
    title: 'OSU MPI Latency Test: 3 runs', xLabel: 'Message size (bytes)', yLabel: 'Latency (us)',
    series: [
      { name: 'this run', points: [{ x: 1, y: 2 }, { x: 2, y: 3 }, { x: 4, y: 5 }] },
      overlayOf(run({}), 'typed.json', latency),
      overlayOf(run({ label: 'mpi4py <buffer>' }), 'py.json', latency),
    ],
  });
  const paths = [...svg.matchAll(/<path fill="none" stroke="(#[0-9a-f]{6})" stroke-width="2" d="(M[\d.]+,[\d.]+(?: L[\d.]+,[\d.]+)*)"\/>/g)];
  assert.equal(paths.length, 3, 'one path per run');
  assert.equal(new Set(paths.map((m) => m[1])).size, 3, 'three colours');
  assert.equal(paths[0]![2]!.split(' ').length, 3, 'this run\'s path goes through its 3 points');
  assert.equal(svg.match(/<path /g)?.length, 3, 'no other path');
  const legend = [...svg.matchAll(/<line [^>]*stroke="(#[0-9a-f]{6})" stroke-width="2"\/>\n<text [^>]*>([^<]*)<\/text>/g)];
  assert.deepEqual(legend.map((m) => m[2]), ['this run', 'mpi4ts typed', 'mpi4py &lt;buffer&gt;']);
  assert.deepEqual(legend.map((m) => m[1]), paths.map((m) => m[1]), 'each legend entry in its curve\'s colour');
});
