import { test } from 'node:test';
import assert from 'node:assert/strict';
import diagnostics_channel from 'node:diagnostics_channel';
import { publish } from '../src/base/index.js';
import { mpirun, program } from './helpers.js';

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
      const ended = of('mpi4ts:transport:peer-ended').map((e) => `${String(e.peer)} ${String(e.why)}`).sort();
      // A peer's goodbye may still be on its way when the finalize barrier lets this rank go: at most one each.
      const possible = [0, 1, 2].filter((p) => p !== rank).map((p) => `${p} finalized`);
      assert.ok(ended.every((e) => possible.includes(e)) && new Set(ended).size === ended.length, `rank ${rank}: ${ended.join(', ')}`);
      assert.deepEqual(of('mpi4ts:world:finalize'), [{ rank }]);
    }
  });
}
