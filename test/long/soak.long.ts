// `npm run soak`: 10 minutes (SOAK_SECONDS) of mixed point-to-point and collective traffic on 4
// ranks, each rank's memory sampled every 10 s after a collection: it must stay flat, the median
// of the last third of the samples no more than 16 MiB above that of the second sixth to the
// second third (after start-up and the JIT have settled). A leak of a few hundred bytes a message
// would show as hundreds of MiB.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mpirun, program, strays } from '../helpers.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? '600');
const SLACK_MIB = 16;

test(`soak: ${SECONDS} s of mixed traffic on 4 ranks, memory flat`, async (t) => {
  const r = await mpirun(4, program('soak.ts'), { args: [String(SECONDS), String(Math.max(1, SECONDS / 60))], killAfterMs: (SECONDS + 300) * 1000 });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('samples '));
  assert.equal(lines.length, 4, r.stdout);
  for (const line of lines) {
    const [, rank, json, , iterations] = line.split(' ');
    const samples = JSON.parse(json!) as number[];
    t.diagnostic(`rank ${rank}: ${iterations} iterations, rss MiB ${samples.join(' ')}`);
    const n = samples.length;
    const early = median(samples.slice(Math.floor(n / 6), Math.ceil(n / 3)));
    const late = median(samples.slice(Math.floor((2 * n) / 3)));
    assert.ok(late <= early + SLACK_MIB, `rank ${rank} grew from ${early} to ${late} MiB (medians): ${samples.join(' ')}`);
  }
  assert.deepEqual(await strays(r.marker), []);
});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
