import { test, countedTest, counts } from './counts.js';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { mpirun, okLines, P2P_CHECKS, p2pPassed, program, strays } from './helpers.js';

const CHECKS = P2P_CHECKS;
const passed = p2pPassed;

for (const np of counts([1, 2, 3, 4, 7])) {
  countedTest(`point-to-point checks pass with ${np} rank(s)`, async () => {
    const r = await mpirun(np, program('p2p.ts'));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(okLines(r.stdout), passed());
    assert.deepEqual(await strays(r.marker), []);
  });
}

test('point-to-point checks pass over TCP (MPI4TS_TRANSPORT=tcp), 3 ranks', async () => {
  const r = await mpirun(3, program('p2p.ts'), { env: { MPI4TS_TRANSPORT: 'tcp' } });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(okLines(r.stdout), passed());
});

test('point-to-point checks pass over Unix sockets read by the spin, 3 ranks, and with that off (MPI4TS_SOCKET_POLL=0)', async () => {
  for (const poll of ['1', '0']) {
    const np = poll === '1' ? 3 : 2;
    // 3 ranks (two peer sockets each) oversubscribe a small host, where the engine would not spin (nor poll sockets) by default.
    const env = { MPI4TS_TRANSPORT: 'unix', MPI4TS_SOCKET_POLL: poll, MPI4TS_OVERSUB_POLL_US: '1000', NODE_DEBUG: 'mpi4ts' };
    const r = await mpirun(np, program('p2p.ts'), { env });
    assert.equal(r.code, 0, `MPI4TS_SOCKET_POLL=${poll}: ${r.stderr}`);
    assert.deepEqual(okLines(r.stdout), passed());
    const polling = r.stderr.match(/reads its peer sockets from the spin/g) ?? [];
    assert.equal(polling.length, poll === '1' ? np : 0, 'every rank polls its sockets, or none does');
  }
});

const cores = availableParallelism();
test('on a host with more ranks than cores the engine spins 200 us by default, as long as MPI4TS_OVERSUB_POLL_US says, or never (0); the checks pass every way',
  { skip: cores + 1 > 7 ? `${cores} cores: oversubscribing them takes more than 7 ranks` : false }, async () => {
    for (const micros of [null, '0', '500']) {
      const r = await mpirun(cores + 1, program('p2p.ts'), { env: { ...(micros === null ? {} : { MPI4TS_OVERSUB_POLL_US: micros }), NODE_DEBUG: 'mpi4ts' } });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(okLines(r.stdout), passed());
      const polls = [...r.stderr.matchAll(/ranks on this host, poll (\d+) us/g)].map((m) => m[1]);
      assert.deepEqual(polls, new Array<string>(cores + 1).fill(micros ?? '200'));
    }
  });

test('point-to-point checks pass with Node\'s own socket reads (MPI4TS_DIRECT_READ=0), 2 ranks', async () => {
  const r = await mpirun(2, program('p2p.ts'), { env: { MPI4TS_DIRECT_READ: '0' } });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(okLines(r.stdout), passed());
});

test('point-to-point checks pass with polling off and everything by rendezvous', async () => {
  // tagSelection relies on buffering (blocking sends received in another order): with every
  // message by rendezvous it deadlocks, as MPI allows for such "unsafe" programs.
  const safe = CHECKS.filter((c) => c !== 'tagSelection');
  const r = await mpirun(2, program('p2p.ts'), { args: safe, env: { MPI4TS_POLL_US: '0', MPI4TS_EAGER_LIMIT: '0' } });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(okLines(r.stdout), passed(safe));
});

test('2 GiB streamed in 4 MiB messages to a slow receiver keeps both ranks\' memory bounded', async () => {
  const r = await mpirun(2, program('flood.ts'), { args: ['2048'] });
  assert.equal(r.code, 0, r.stderr);
  const peaks = [...r.stdout.matchAll(/rank (\d) peak rss (\d+) MiB/g)].map((m) => Number(m[2]));
  assert.equal(peaks.length, 2, r.stdout);
  // Buffered without bound, the receiver would hold up to 2 GiB.
  for (const peak of peaks) assert.ok(peak < 400, `peak RSS ${peak} MiB`);
});

test('finalisation waits for messages in flight: nothing a finished rank sent is lost', async () => {
  const r = await mpirun(3, program('finalize.ts'));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\n').filter((l) => l !== '').sort(),
    ['rank 0 done without waiting', 'rank 1 received all', 'rank 2 finalized explicitly: true']);
  assert.deepEqual(await strays(r.marker), []);
});

for (const transport of ['shm', 'tcp']) {
  test(`a rank blocked in recv for 3 s uses less than 5% of a core once the engine backs off (${transport})`, async () => {
    const r = await mpirun(2, program('idle.ts'), { args: ['3000'], env: transport === 'tcp' ? { MPI4TS_TRANSPORT: 'tcp' } : {} });
    assert.equal(r.code, 0, r.stderr);
    const { got, cpuMs, wallMs } = JSON.parse(r.stdout.trim()) as { got: string; cpuMs: number; wallMs: number };
    assert.equal(got, 'wake up');
    assert.ok(wallMs >= 2900, `the wait lasted ${wallMs} ms`);
    assert.ok(cpuMs < 0.05 * wallMs, `${cpuMs.toFixed(1)} ms of CPU over ${wallMs.toFixed(0)} ms of waiting`);
  });
}
