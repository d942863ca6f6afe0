// mpi4ts programs started unchanged by Slurm's srun, on a real one-node Slurm
// started for this file (test/interop/slurm/cluster.sh): PMI-2 (srun --mpi=pmi2)
// and the fallback from Slurm's environment plus a rendezvous (srun --mpi=none).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI } from '../helpers.js';
import { CASES, MPMD_CHECK, MPMD_PROGRAMS, nodeArgs, run, THROWS } from './programs.js';
import { startSlurm, type Slurm } from './slurm/slurm.js';

let slurm: Slurm | null = null;
let skip: string | false = false;

before(() => {
  const started = startSlurm();
  if (typeof started === 'string') skip = started;
  else slurm = started;
});

after(() => slurm?.stop());

function srun(np: number, mpi: 'pmi2' | 'none', args: string[], extraEnv: Record<string, string> = {}): ReturnType<typeof run> {
  const env = { ...process.env, SLURM_CONF: slurm!.conf, ...extraEnv };
  return run('srun', ['-n', String(np), `--mpi=${mpi}`, '--time=5', process.execPath, ...args], env);
}

const KEY = { MPI4TS_KEY: randomBytes(32).toString('hex') };

for (const c of [...CASES, THROWS]) {
  test(`under srun --mpi=pmi2: ${c.name}`, async (t) => {
    if (skip !== false) return t.skip(skip);
    const r = await srun(c === THROWS ? 3 : 4, 'pmi2', nodeArgs(c.script, c.args));
    if (c !== THROWS) assert.equal(r.code, 0, r.stderr);
    c.check(r);
  });
}

test('under srun --mpi=pmi2: comm.abort ends the step through PMI-2 abort', async (t) => {
  if (skip !== false) return t.skip(skip);
  const r = await srun(3, 'pmi2', nodeArgs(THROWS.script, ['abort', '2']));
  // Slurm cancels the step with SIGKILL; the abort code itself does not reach srun's exit code.
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /mpi4ts: rank 2 called abort\(5\)/);
  assert.match(r.stderr, /CANCELLED/);
});

test('under srun --mpi=pmi2: mpi4ts info shows pmi2, rank, size and transport per peer', async (t) => {
  if (skip !== false) return t.skip(skip);
  const r = await srun(2, 'pmi2', [CLI, 'info']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^bootstrap pmi2: rank 0 of 2 on \S+$/m);
  assert.match(r.stdout, /^bootstrap pmi2: rank 1 of 2 on \S+$/m);
  assert.match(r.stdout, /^transport per peer: 0:self 1:shm$/m);
});

for (const c of CASES.filter((x) => x.name === 'ring' || x.name === 'p2p')) {
  test(`under srun --mpi=none (Slurm environment + rendezvous): ${c.name}`, async (t) => {
    if (skip !== false) return t.skip(skip);
    const r = await srun(4, 'none', nodeArgs(c.script, c.args), KEY);
    assert.equal(r.code, 0, r.stderr);
    c.check(r);
  });
}

test('under srun --mpi=none: a rank that throws ends every task non-zero', async (t) => {
  if (skip !== false) return t.skip(skip);
  const r = await srun(3, 'none', nodeArgs(THROWS.script, THROWS.args), KEY);
  THROWS.check(r);
  assert.match(r.stderr, /rank 1 left before finalize; ending the job/);
});

test('under srun --mpi=none: info shows the slurm bootstrap; without MPI4TS_KEY a clear error', async (t) => {
  if (skip !== false) return t.skip(skip);
  const r = await srun(2, 'none', [CLI, 'info'], KEY);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^bootstrap slurm: rank 1 of 2 on \S+$/m);
  const keyless = await srun(2, 'none', [CLI, 'info'], { MPI4TS_KEY: '' });
  assert.notEqual(keyless.code, 0);
  assert.match(keyless.stderr, /srun without PMI \(srun --mpi=none\) needs MPI4TS_KEY: a secret of at least 16 characters/);
});

test('under srun --mpi=pmi2 --multi-prog: one world of server and clients; APPNUM is 0 for all (Slurm\'s PMI-2 sends appnum=-1)', async (t) => {
  if (skip !== false) return t.skip(skip);
  const conf = join(slurm!.dir, 'mpmd.conf');
  const line = (ranks: string, script: string, arg: string): string => `${ranks} ${[process.execPath, ...nodeArgs(script, [arg])].join(' ')}\n`;
  writeFileSync(conf, line('0', MPMD_PROGRAMS.server, 's') + line('1-2', MPMD_PROGRAMS.client, 'c'));
  const env = { ...process.env, SLURM_CONF: slurm!.conf };
  const r = await run('srun', ['-n', '3', '--mpi=pmi2', '--time=5', '--multi-prog', conf], env);
  assert.equal(r.code, 0, r.stderr);
  MPMD_CHECK(r, 0);
});
