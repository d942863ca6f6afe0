// mpi4ts programs started unchanged by MPICH's mpiexec.hydra (PMI-1 wire protocol).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CLI, program } from '../helpers.js';
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

test('under mpiexec.hydra: comm.spawn says it is not available there (mpi4ts run spawns)', async (t) => {
  if (skip !== false) return t.skip(skip);
  const r = await mpiexec(2, nodeArgs(program('spawn.ts'), ['refused']));
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.includes("refused: MPI4TS_ERR_SPAWN: spawn: not available under Hydra's PMI-1 (mpiexec); start the job with mpi4ts run to spawn processes"),
    r.stdout + r.stderr);
});
