// Task pools (src/pool/): MPI.PoolExecutor under mpi4ts run --pool, MPI.CommExecutor
// over a job's ranks; the checks are in test/programs/pool.ts, faults injected for real.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { example, mpirun, okLines, passes, program, strays } from './helpers.js';

const POOL = program('pool.ts');

for (const np of [2, 3, 5, 7]) {
  test(`submit, map (ordered, unordered, chunksize), throwing tasks and big typed arrays through --pool at ${np} ranks`, async () => {
    const r = await mpirun(np, POOL, { launcher: ['--pool'], args: ['basics', 'throws', 'big'] });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(okLines(r.stdout), ['basics', 'throws', 'big']);
    assert.deepEqual(await strays(r.marker), []);
  });
}

test('AbortSignal: a queued task never runs, a running one rejects at once, an aborted map ends; shutdown with cancelFutures and wait: false; await using', async () => {
  const r = await mpirun(3, POOL, { launcher: ['--pool'], args: ['abort', 'shutdown'] });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(okLines(r.stdout), ['abort', 'shutdown']);
  assert.deepEqual(await strays(r.marker), []);
});

// map's back-pressure over 3M inputs (15 s) runs in test:probes: test/reliability/pool-backpressure.probe.ts.

test('a slow worker gets fewer tasks', async () => {
  await passes(4, POOL, ['balance'], { launcher: ['--pool'], args: ['balance'] });
});

test('a worker SIGKILLed mid-task rejects its task with WorkerLostError naming it; the pool goes on with the others; the job ends 0, nothing left', async () => {
  const r = await mpirun(3, POOL, { launcher: ['--pool'], args: ['sigkill', 'throws'] });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(okLines(r.stdout), ['sigkill', 'throws']);
  assert.match(r.stdout, /went on/);
  assert.match(r.stderr, /mpi4ts: pool worker rank [12] \(localhost, pid \d+\) was killed by signal SIGKILL; the job goes on without it \(--pool\)/);
  assert.deepEqual(await strays(r.marker), []);
});

test('a worker SIGKILLed as its 128 MiB result travels: the task fails with WorkerLostError (or has its result), the other tasks complete; nothing hangs', async () => {
  const r = await passes(4, POOL, ['sigkillBig'], { launcher: ['--pool'], args: ['sigkillBig'] });
  assert.deepEqual(await strays(r.marker), []);
});

test('a worker whose task calls process.exit (0 or 3) is lost as a killed one is; the pool goes on', async () => {
  const r = await passes(4, POOL, ['exits'], { launcher: ['--pool'], args: ['exits'] });
  assert.match(r.stderr, /mpi4ts: pool worker rank \d \(localhost, pid \d+\) exited with code 3; the job goes on without it \(--pool\)/);
  assert.deepEqual(await strays(r.marker), []);
});

test('the only worker SIGKILLed: the pool is broken, later tasks reject with PoolError; nothing hangs', async () => {
  const r = await passes(2, POOL, ['sigkill'], { launcher: ['--pool'], args: ['sigkill'] });
  assert.match(r.stdout, /broken/);
  assert.deepEqual(await strays(r.marker), []);
});

test('bad input: missing module, maxWorkers, chunksize, inputs, task name, unknown task, with their messages', async () => {
  await passes(2, POOL, ['badInput'], { launcher: ['--pool'], args: ['badInput'] });
});

test('without --pool a PoolExecutor spawns its workers (maxWorkers, else a worker per core), runs tasks there and shuts them down; nothing left', async () => {
  const r = await passes(1, POOL, ['spawned'], { args: ['spawned'] });
  assert.deepEqual(await strays(r.marker), []);
});

test('without --pool, a spawned worker that exits in a task or is SIGKILLed mid-task rejects its task with WorkerLostError; the pool goes on, then is broken; the job ends 0, nothing left', async () => {
  const r = await passes(1, POOL, ['spawnedSigkill'], { args: ['spawnedSigkill'] });
  assert.match(r.stdout, /went on\nbroken/);
  assert.match(r.stderr, /mpi4ts: pool worker rank [012] of spawned world 1 \(localhost, pid \d+\) exited with code 0 before its pool was done \(process\.exit\(\) in a task\?\); the job goes on without it \(a PoolExecutor's spawned worker\)/);
  assert.match(r.stderr, /mpi4ts: pool worker rank [012] of spawned world 1 \(localhost, pid \d+\) was killed by signal SIGKILL; the job goes on without it \(a PoolExecutor's spawned worker\)/);
  assert.doesNotMatch(r.stderr, /stopping the job/);
  assert.deepEqual(await strays(r.marker), []);
});

test('--pool with one rank: no workers, and the error says to run with -n 2 or more', async () => {
  await passes(1, POOL, ['poolOfOne'], { launcher: ['--pool'], args: ['poolOfOne'] });
});

test('a task module may import mpi4ts: on a worker it sees the worker\'s world', async () => {
  const r = await passes(3, POOL, ['importsMpi4ts'], { launcher: ['--pool'], args: ['importsMpi4ts'] });
  assert.deepEqual(await strays(r.marker), []);
});

for (const [np, root] of [[2, 0], [3, 0], [4, 2]] as const) {
  test(`CommExecutor at ${np} ranks, root ${root}: the root submits, the others serve and get null`, async () => {
    const r = await mpirun(np, POOL, { args: ['commExecutor'], env: { POOL_ROOT: String(root) } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(okLines(r.stdout), Array(np).fill('commExecutor'));
    const served = r.stdout.split('\n').filter((l) => l.endsWith(' served')).sort();
    assert.deepEqual(served, [...Array(np).keys()].filter((k) => k !== root).map((k) => `rank ${k} served`));
    assert.deepEqual(await strays(r.marker), []);
  });
}

test('--pool takes one program, not MPMD blocks', async () => {
  const r = await mpirun(1, POOL, { launcher: ['--pool'], args: [':', '-n', '1', POOL] });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--pool runs one program \(rank 0 submits, the others serve it\); it takes no MPMD blocks/);
});

test('examples/primes-pool.ts checks its primes against a local computation', async () => {
  const r = await mpirun(4, example('primes-pool.ts'), { launcher: ['--pool'] });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /primes-pool: \d+ of \d+ numbers are prime, as computed locally \(3 workers\)/);
  assert.deepEqual(await strays(r.marker), []);
});

test('examples/crawl-pool.ts fetches from its own local server, results unordered, all checked', async () => {
  const r = await mpirun(4, example('crawl-pool.ts'), { launcher: ['--pool'] });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /crawl-pool: \d+ pages fetched by 3 workers, every checksum right/);
  assert.deepEqual(await strays(r.marker), []);
});
