// mpi4ts programs started unchanged by MPICH's mpiexec.hydra (PMI-1 wire protocol).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { CLI, example, program, strays } from '../helpers.js';
import { CASES, ensureMpich, MPIEXEC, MPMD_CHECK, MPMD_PROGRAMS, nodeArgs, run, THROWS } from './programs.js';

let skip: string | false = false;
before(() => {
  skip = ensureMpich();
});

function mpiexec(np: number, args: string[]): ReturnType<typeof run> {
  return run(MPIEXEC, ['-n', String(np), process.execPath, ...args]);
}

for (const c of [...CASES, THROWS]) {
  const np = c === THROWS ? 3 : 4;
  test(`under mpiexec.hydra: ${c.name} with ${np} ranks`, async (t) => {
    if (skip !== false) return t.skip(skip);
    const r = await mpiexec(np, nodeArgs(c.script, c.args));
    if (c !== THROWS) assert.equal(r.code, 0, r.stderr);
    c.check(r);
  });
}

test('under mpiexec.hydra: comm.abort(5) ends the job with code 5 through PMI abort', async (t) => {
  if (skip !== false) return t.skip(skip);
  const r = await mpiexec(3, nodeArgs(THROWS.script, ['abort', '2']));
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /mpi4ts: rank 2 called abort\(5\)/);
});

test('under mpiexec.hydra: mpi4ts info shows the pmi1 bootstrap, rank, size and transport per peer', async (t) => {
  if (skip !== false) return t.skip(skip);
  const r = await mpiexec(2, [CLI, 'info']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.ok(lines.some((l) => /^bootstrap pmi1: rank 0 of 2 on \S+$/.test(l)), r.stdout);
  assert.ok(lines.some((l) => /^bootstrap pmi1: rank 1 of 2 on \S+$/.test(l)), r.stdout);
  assert.ok(lines.includes('transport per peer: 0:self 1:shm'), r.stdout);
  assert.ok(lines.includes('transport per peer: 0:shm 1:self'), r.stdout);
});

test('under mpiexec.hydra: MPMD (-n 1 server : -n 2 client), MPI.APPNUM from PMI-1 get_appnum', async (t) => {
  if (skip !== false) return t.skip(skip);
  const r = await run(MPIEXEC, ['-n', '1', process.execPath, ...nodeArgs(MPMD_PROGRAMS.server, ['s']), ':',
    '-n', '2', process.execPath, ...nodeArgs(MPMD_PROGRAMS.client, ['c'])]);
  assert.equal(r.code, 0, r.stderr);
  MPMD_CHECK(r);
});

/** A marker for the spawned processes too (spawn.ts passes its arguments on to its children): how strays are found. */
function marker(): string {
  return `mpi4ts-test-${randomUUID()}`;
}

for (const np of [1, 2]) {
  test(`under mpiexec.hydra: comm.spawn through PMI-1's spawn, ${np} parent(s) and ${np + 1} children: intercomm p2p and collectives both ways; nothing left`, async (t) => {
    if (skip !== false) return t.skip(skip);
    const tag = marker();
    const r = await mpiexec(np, nodeArgs(program('spawn.ts'), ['basic', '0', tag]));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\n').filter((l) => l.startsWith('ok ')), [`ok spawn ${np + 1} from root 0`]);
    assert.deepEqual(await strays(tag), []);
  });

}

test('under mpiexec.hydra: MPI.UNIVERSE_SIZE is -usize N (PMI-1 get_universe_size), else COMM_WORLD\'s size', async (t) => {
  if (skip !== false) return t.skip(skip);
  const sized = await run(MPIEXEC, ['-usize', '5', '-n', '2', process.execPath, ...nodeArgs(program('spawn.ts'), ['universe'])]);
  assert.equal(sized.code, 0, sized.stderr);
  assert.ok(sized.stdout.includes('ok universe 5 parent null'), sized.stdout);
  const plain = await mpiexec(3, nodeArgs(program('spawn.ts'), ['universe']));
  assert.equal(plain.code, 0, plain.stderr);
  assert.ok(plain.stdout.includes('ok universe 3 parent null'), plain.stdout);
});

test('under mpiexec.hydra: examples/cpi-spawn.ts at 2 parent ranks, 2 spawned workers', async (t) => {
  if (skip !== false) return t.skip(skip);
  const r = await mpiexec(2, nodeArgs(example('cpi-spawn.ts'), ['2', '100000']));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /pi is approximately 3\.14159\d+, error [\d.e-]+ \(2 spawned workers, n = 100000\)/);
});

test('under mpiexec.hydra: spawnMultiple (APPNUM and env per command, one COMM_WORLD), nested spawn (from the children\'s COMM_SELF)', async (t) => {
  if (skip !== false) return t.skip(skip);
  for (const kase of ['multiple', 'nested']) {
    const tag = marker();
    const r = await mpiexec(2, nodeArgs(program('spawn.ts'), [kase, tag]));
    assert.equal(r.code, 0, `${kase}: ${r.stderr}`);
    assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('ok ')).length, 1, `${kase}: ${r.stdout}`);
    assert.deepEqual(await strays(tag), []);
  }
});

test('under mpiexec.hydra: a spawned child that throws ends the job with its error; nothing left', async (t) => {
  if (skip !== false) return t.skip(skip);
  const tag = marker();
  const r = await mpiexec(2, nodeArgs(program('spawn.ts'), ['throw', tag]));
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Error: child 1 fails on purpose/);
  assert.deepEqual(await strays(tag, 1000), []);
});

test('under mpiexec.hydra: children that exit 0 without importing mpi4ts fail the spawn after MPI4TS_SPAWN_TIMEOUT, saying so; nothing left', async (t) => {
  if (skip !== false) return t.skip(skip);
  const tag = marker();
  const started = Date.now();
  // Hydra tells the parents nothing of a child that exits 0: only the limit ends the wait (120 s by default).
  const r = await run(MPIEXEC, ['-n', '2', process.execPath, ...nodeArgs(program('spawn.ts'), ['nompi', tag])],
    { ...process.env, MPI4TS_SPAWN_TIMEOUT: '3' });
  assert.notEqual(r.code, 0, r.stdout);
  assert.match(r.stderr, /spawn: the 2 child process\(es\) did not report to their parents within 3 s \(does their program import mpi4ts\? MPI4TS_SPAWN_TIMEOUT sets the limit\)/);
  assert.doesNotMatch(r.stdout, /spawned what never joins/);
  assert.ok(Date.now() - started < 60_000, `took ${Date.now() - started} ms`);
  assert.deepEqual(await strays(tag), []);
});

test('under mpiexec.hydra: a PoolExecutor spawns its workers through PMI-1 and runs tasks there', async (t) => {
  if (skip !== false) return t.skip(skip);
  const tag = marker();
  const r = await mpiexec(1, nodeArgs(program('pool.ts'), ['spawned', tag]));
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.includes('ok spawned'), r.stdout);
  assert.deepEqual(await strays(tag), []);
});
