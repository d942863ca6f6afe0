/**
 * An eager flood at a receiver that is not receiving: 20000 isends of 60 KiB
 * to a rank that sleeps 10 s first. Eager credit (p2p/engine.ts) keeps what
 * the receiver buffers to 8 MiB per sender; past it the sender goes by
 * rendezvous, so the receiver's memory stays within the bound the issue asks
 * for (256 MiB above its baseline; it grows by about 15), and every message
 * still arrives in order and intact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mpirun, program, strays } from '../helpers.js';

const BOUND_MIB = 256;

test('eager floods', { concurrency: true }, async (top) => {
  const transports: [string, Record<string, string>][] = [['shared memory', {}], ['tcp', { MPI4TS_TRANSPORT: 'tcp' }]];
  const jobs = transports.map(([name, env]) => top.test(`over ${name}: 20000 x 60 KiB at a sleeping receiver, its memory bounded`, async (t) => {
    const r = await mpirun(2, program('eager-flood.ts'), { args: ['20000', '60', '10'], env, killAfterMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /rank 0 sent 20000/);
    const grew = Number(/rank 1 received 20000, rss grew (\d+) MiB/.exec(r.stdout)?.[1]);
    assert.ok(grew < BOUND_MIB, `the receiver grew by ${grew} MiB (bound ${BOUND_MIB})`);
    t.diagnostic(`receiver grew by ${grew} MiB`);
    // One 'drain' listener per socket, however many sends wait.
    assert.doesNotMatch(r.stderr, /MaxListenersExceededWarning/);
    assert.deepEqual(await strays(r.marker), []);
  }));
  jobs.push(top.test('without credit the same flood takes the receiver past the bound (the test can fail)', async () => {
    // The receiver sleeps 10 s, as in the bounded runs: 360 MB must have arrived before it starts to receive,
    // even on a machine busy with other tests (3 s was too short once, beside the 128-rank job).
    const r = await mpirun(2, program('eager-flood.ts'), { args: ['6000', '60', '10'], env: { MPI4TS_EAGER_CREDIT: '2147483648' }, killAfterMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    const grew = Number(/rss grew (\d+) MiB/.exec(r.stdout)?.[1]);
    assert.ok(grew > 300, `with unbounded credit the receiver grew by only ${grew} MiB`);
  }));
  await Promise.all(jobs);
});
