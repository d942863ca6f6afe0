/**
 * `mpi4ts bench`'s progress line in real jobs: never in piped output; on
 * stderr when the launcher is told its stderr is a terminal
 * (MPI4TS_BENCH_PROGRESS=stderr), with stdout still the clean table; and
 * through a real pseudo-terminal made by util-linux's `script`, where the
 * launcher's own isTTY decides.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, mpi4ts, ROOT } from '../helpers.js';

const HEADER = /^# OSU MPI Latency Test: mpi4ts \S+ \(object path, send\/recv of values, 2 ranks, \w+\)\n# Size {12}Latency \(us\)\n/;
/** The table of one size, as OSU prints it and nothing else. */
const ONE_ROW = new RegExp(`${HEADER.source}8 {20,}\\d+\\.\\d\\d\\n$`);
const PROGRESS = /osu_latency: 8 bytes, \d+\/200000 iterations *\r/;
/** 200000 round trips take at least 0.2 s anywhere, twice the draw interval. */
const LONG = ['bench', 'osu_latency', '-m', '8:8', '-i', '200000'];

test('piped: no carriage return and no progress text anywhere, stdout the OSU table', async () => {
  const r = await mpi4ts(['bench', 'osu_latency', '-m', '1:8', '-i', '50']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`${HEADER.source}1 +\\d+\\.\\d\\d\\n2 +\\d+\\.\\d\\d\\n4 +\\d+\\.\\d\\d\\n8 +\\d+\\.\\d\\d\\n$`));
  assert.doesNotMatch(r.stdout + r.stderr, /\r|iterations|warm-up/);
  assert.equal(r.stderr, '');
});

test('piped, over a size long enough to draw: still nothing', async () => {
  const r = await mpi4ts(LONG);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, ONE_ROW);
  assert.equal(r.stderr, '');
});

test('told stderr is a terminal: the progress line on stderr, drawn in place and blanked; stdout the clean table', async () => {
  const r = await mpi4ts(LONG, { env: { MPI4TS_BENCH_PROGRESS: 'stderr' } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, ONE_ROW);
  assert.match(r.stderr, PROGRESS);
  assert.doesNotMatch(r.stderr, /\n/, 'a line drawn in place has no newline');
  assert.match(r.stderr, /\r {20,}\r$/, 'the line is blanked at the end');
  for (const piece of r.stderr.split('\r').slice(0, -1)) {
    assert.match(piece, /^(osu_latency( \(JIT warm-up, untimed\))?: \d+ bytes, (\d+\/\d+ iterations|warm-up \d+\/\d+))? *$/, `"${piece}"`);
  }
});

test('--json: no progress line even when told stderr is a terminal, and one JSON document on stdout', async () => {
  const r = await mpi4ts([...LONG, '--json'], { env: { MPI4TS_BENCH_PROGRESS: 'stderr' } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const doc = JSON.parse(r.stdout) as { osu: string; results: unknown[] };
  assert.equal(doc.osu, 'osu_latency');
  assert.equal(doc.results.length, 1);
});

test('MPI4TS_BENCH_PROGRESS takes auto, off, stdout or stderr', async () => {
  const r = await mpi4ts(['bench', 'latency', '-m', '8:8', '-i', '1'], { env: { MPI4TS_BENCH_PROGRESS: 'yes' } });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /MPI4TS_BENCH_PROGRESS="yes" must be "auto" \(on a terminal: stdout if it is one, else stderr\), "off", "stdout" or "stderr"/);
});

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
const quote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;

/** Runs `command` (a shell line) on a pseudo-terminal; resolves with what the terminal showed. */
function onTerminal(command: string): Promise<{ code: number | null; screen: string }> {
  return new Promise((resolve) => {
    const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let screen = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { screen += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { screen += d; });
    const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, screen });
    });
  });
}

test('on a real terminal for stderr, stdout to a file: the line on the terminal, the file the clean table', { skip: hasScript ? false : 'no script(1) (util-linux) on this machine' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mpi4ts-progress-'));
  try {
    const table = join(dir, 'table.txt');
    const r = await onTerminal(`${[process.execPath, CLI, ...LONG].map(quote).join(' ')} > ${quote(table)}`);
    assert.equal(r.code, 0, r.screen);
    assert.match(r.screen, PROGRESS);
    assert.match(readFileSync(table, 'utf8'), ONE_ROW);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('on a real terminal for both: the line is drawn where the rows go and blanked before the row', { skip: hasScript ? false : 'no script(1) (util-linux) on this machine' }, async () => {
  const r = await onTerminal([process.execPath, CLI, ...LONG].map(quote).join(' '));
  assert.equal(r.code, 0, r.screen);
  // The terminal turns each newline into CR LF.
  const screen = r.screen.replace(/\r\n/g, '\n');
  const match = /\n((?:[^\n]*\r)+)(8 +\d+\.\d\d)\n$/.exec(screen);
  assert.ok(match !== null, `the row comes after pieces drawn in place: ${JSON.stringify(screen.slice(-300))}`);
  assert.match(match[1]!, PROGRESS);
  assert.match(match[1]!, /\r {20,}\r$/, 'blanked just before the row');
  assert.match(screen, HEADER);
});
