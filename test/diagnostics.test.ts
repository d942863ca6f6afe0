import { test } from 'node:test';
import assert from 'node:assert/strict';
import diagnostics_channel from 'node:diagnostics_channel';
import { publish } from '../src/base/index.js';
import { mpirun, program, ROOT } from './helpers.js';
import { join } from 'node:path';

test('a channel builds and publishes its message only while someone subscribes', () => {
  let built = 0;
  const message = () => {
    built++;
    return { rank: 3 };
  };
  publish('mpi4ts:world:finalize', message);
  assert.equal(built, 0);
  const got: unknown[] = [];
  const listener = (m: unknown) => got.push(m);
  diagnostics_channel.subscribe('mpi4ts:world:finalize', listener);
  publish('mpi4ts:world:finalize', message);
  diagnostics_channel.unsubscribe('mpi4ts:world:finalize', listener);
  publish('mpi4ts:world:finalize', message);
  assert.equal(built, 1);
  assert.deepEqual(got, [{ rank: 3 }]);
});

for (const [label, env] of [['shared memory', {}], ['tcp', { MPI4TS_TRANSPORT: 'tcp' }]] as const) {
  test(`every rank's channels tell its start, its connections, its peers' ends and its finalize (3 ranks, ${label})`, async () => {
    const r = await mpirun(3, program('diagnostics.ts'), { env });
    assert.equal(r.code, 0, r.stderr);
    for (let rank = 0; rank < 3; rank++) {
      const lines = r.stdout.split('\n').filter((l) => l.startsWith(`rank ${rank}: `)).map((l) => l.slice(`rank ${rank}: `.length));
      const of = (name: string) => lines.filter((l) => l.startsWith(`${name} `)).map((l) => JSON.parse(l.slice(name.length + 1)) as Record<string, unknown>);
      const [start, ...moreStarts] = of('mpi4ts:world:start');
      assert.equal(moreStarts.length, 0, r.stdout);
      assert.deepEqual({ rank: start?.rank, size: start?.size, bootstrap: start?.bootstrap, ranksOnHost: start?.ranksOnHost }, { rank, size: 3, bootstrap: 'mpi4ts', ranksOnHost: 3 });
      const connects = of('mpi4ts:transport:connect');
      // The ring sends to the next rank; doorbells of shared memory open connections to every local peer.
      assert.ok(connects.some((c) => c.peer === (rank + 1) % 3 && c.rank === rank), r.stdout);
      if (label === 'tcp') assert.deepEqual(connects.map((c) => c.kind), connects.map(() => 'tcp'));
      const ended = of('mpi4ts:p2p:peer-ended').map((e) => `${String(e.peer)} ${String(e.why)}`).sort();
      const others = [0, 1, 2].filter((p) => p !== rank).map((p) => `${p} finalized`);
      if (rank === 0) {
        // Rank 0 waited until it heard both: their goodbyes come before they wait for it in finalize.
        assert.deepEqual(ended, others, r.stdout);
      } else {
        // A peer's goodbye may still be on its way when the finalize barrier lets this rank go: at most one each.
        assert.ok(ended.every((e) => others.includes(e)) && new Set(ended).size === ended.length, `rank ${rank}: ${ended.join(', ')}`);
      }
      assert.deepEqual(of('mpi4ts:world:finalize'), [{ rank }]);
    }
  });
}

test('a rank that calls abort publishes it before the job ends; the launcher publishes every rank\'s exit', async () => {
  const subscriber = join(ROOT, 'test', 'programs', 'launcher-subscriber.mjs');
  const r = await mpirun(3, program('diagnostics.ts'), { args: ['abort'], env: { NODE_OPTIONS: `--import=${subscriber}` } });
  assert.equal(r.code, 3, r.stderr);
  const aborts = r.stdout.split('\n').filter((l) => l.includes('mpi4ts:job:abort'));
  assert.deepEqual(aborts, ['rank 1: mpi4ts:job:abort {"rank":1,"code":3,"message":"rank 1 called abort(3)"}']);
  const exits = [...r.stderr.matchAll(/^rank-exit (.*)$/gm)].map((m) => JSON.parse(m[1]!) as { rank: number; host: string });
  // The launcher hears of every rank's end, the aborting one's first or not, on the host it ran on.
  assert.deepEqual(exits.map((e) => e.rank).sort(), [0, 1, 2], r.stderr);
  assert.ok(exits.every((e) => e.host === 'localhost'), r.stderr);
});
