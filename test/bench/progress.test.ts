import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHECK_SECONDS, DRAW_SECONDS, ProgressLine, progressStream } from '../../src/bench/progress.js';

/** A line on a fake clock that moves `step` seconds per iteration of a loop run as the benchmarks run theirs. */
function run(step: number, warmup: number, iterations: number, size: number | null = 65536): { writes: string[]; clockReads: number; ticks: number } {
  const writes: string[] = [];
  let time = 1000;
  let clockReads = 0;
  const line = new ProgressLine('osu_bw', (text) => writes.push(text), () => {
    clockReads++;
    return time;
  });
  line.begin(size, warmup, iterations);
  let ticks = 0;
  for (let i = 0; i < warmup + iterations; i++) {
    time += step;
    if (i === line.due) {
      line.tick(i);
      ticks++;
    }
  }
  line.clear();
  return { writes, clockReads, ticks };
}

test('a size that ends within the draw interval draws nothing, and its clear writes nothing', () => {
  const { writes } = run(DRAW_SECONDS / 200, 10, 100);
  assert.deepEqual(writes, []);
});

test('a long size draws "osu_bw: SIZE bytes, DONE/TOTAL iterations" in place, at most every DRAW_SECONDS, then blanks it', () => {
  // 100 iterations of 26 ms: 2.6 s, a draw every 4 iterations (104 ms).
  const { writes } = run(0.026, 0, 100);
  const draws = writes.slice(0, -1);
  assert.equal(draws.length, 25, `${draws.length} draws in 2.6 s`);
  for (const text of draws) assert.match(text, /^osu_bw: 65536 bytes, \d+\/100 iterations *\r$/);
  assert.match(draws[0]!, /^osu_bw: 65536 bytes, 4\/100 iterations\r$/, 'the first draw after 100 ms: 4 iterations of 26 ms');
  const last = writes.at(-1)!;
  assert.match(last, /^ +\r$/, 'the blank is spaces and a carriage return');
  assert.equal(last.length - 1, draws.at(-1)!.length - 1, 'the blank covers what the last draw left');
  for (const text of writes) {
    assert.ok(!text.includes('\n') && !text.includes('\u001b'), `no newline, no escape sequence: ${JSON.stringify(text)}`);
  }
});

test('warm-up iterations are counted apart; barrier has no size; 1 byte is singular', () => {
  const { writes } = run(0.03, 10, 10, null);
  assert.match(writes[0]!, /^osu_bw, warm-up 4\/10\r$/);
  assert.ok(writes.some((w) => /^osu_bw, \d+\/10 iterations *\r$/.test(w)));
  assert.match(run(0.03, 0, 10, 1).writes[0]!, /^osu_bw: 1 byte, /);
});

test('a fast loop reads the clock rarely: the stride doubles until checks are CHECK_SECONDS apart', () => {
  // 1 us per iteration for 2 s: 2 million iterations.
  const { clockReads, ticks, writes } = run(1e-6, 0, 2_000_000);
  assert.ok(ticks < 250, `${ticks} ticks`);
  assert.ok(clockReads < 3 * ticks + 4, `${clockReads} clock reads`);
  assert.ok(ticks > 2 / (4 * CHECK_SECONDS), 'still checked often enough to draw on time');
  assert.ok(writes.length >= 15, `${writes.length} writes in 2 s`);
});

test('a line that never draws: due stays Infinity, so the loop never calls tick', () => {
  const line = new ProgressLine('osu_latency', null);
  line.begin(8, 100, 10_000);
  assert.equal(line.due, Infinity);
  line.clear();
  assert.equal(line.due, Infinity);
});

test('tick returns the seconds it took, for the loop to leave out of its time', () => {
  let time = 0;
  const line = new ProgressLine('osu_latency', () => { time += 0.002; }, () => time);
  line.begin(8, 0, 10);
  time = 1;
  assert.ok(Math.abs(line.tick(0) - 0.002) < 1e-12, 'the draw took 2 ms');
});

test('where the line goes: stdout when it is a terminal (the rows\' stream), else stderr, never a pipe or --json', () => {
  assert.equal(progressStream('auto', { stdout: true, stderr: true }, false), 'stdout');
  assert.equal(progressStream('auto', { stdout: false, stderr: true }, false), 'stderr');
  assert.equal(progressStream('auto', { stdout: true, stderr: false }, false), 'stdout');
  assert.equal(progressStream('auto', { stdout: false, stderr: false }, false), null);
  assert.equal(progressStream('auto', { stdout: true, stderr: true }, true), null);
  assert.equal(progressStream('off', { stdout: true, stderr: true }, false), null);
  assert.equal(progressStream('stderr', { stdout: false, stderr: false }, false), 'stderr');
  assert.equal(progressStream('stderr', { stdout: false, stderr: false }, true), null);
});
