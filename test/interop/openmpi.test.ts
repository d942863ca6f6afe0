// mpi4ts programs started unchanged by Open MPI's mpirun (PMIx bootstrap through koffi).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { program, ROOT } from '../helpers.js';
import { track } from '../teardown.js';
import { CASES, MPMD_CHECK, MPMD_PROGRAMS } from './programs.js';

const MPIRUN = 'mpirun.openmpi';
const missing = spawnSync(MPIRUN, ['--version'], { encoding: 'utf8' }).error !== undefined;
const skip = missing ? `${MPIRUN} is not installed (Debian: apt-get install openmpi-bin; .ci/run installs it)` : false;

function mpirun(np: number, script: string, args: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return mpirunWith(['-n', String(np), process.execPath, '--import', 'tsx', script, ...args]);
}

function mpirunWith(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(MPIRUN, ['--allow-run-as-root', '--oversubscribe', ...args],
    // mpirun gives the ranks a pty for stdout, so Node would colour console.log(34): compare plain text.
    { cwd: ROOT, env: { ...process.env, NODE_DISABLE_COLORS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  return new Promise((resolve) => child.on('close', (code) => {
    clearTimeout(killer);
    resolve({ code, stdout, stderr });
  }));
}

for (const c of CASES) {
  test(`under mpirun: ${c.name} with 4 ranks`, { skip }, async () => {
    const r = await mpirun(4, c.script, c.args);
    assert.equal(r.code, 0, r.stderr);
    c.check(r);
  });
}

test('under mpirun: a rank that throws ends the job non-zero with its error', { skip }, async () => {
  const r = await mpirun(3, program('fail.ts'), ['throw', '1']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Error: boom from rank 1/);
});

test('under mpirun: comm.abort(5) ends the job with code 5 through PMIx_Abort', { skip }, async () => {
  const r = await mpirun(3, program('fail.ts'), ['abort', '2']);
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /mpi4ts: rank 2 called abort\(5\)/);
});

test('under mpirun: MPMD (-n 1 server : -n 2 client), MPI.APPNUM from PMIx pmix.appnum', { skip }, async () => {
  const r = await mpirunWith(['-n', '1', process.execPath, '--import', 'tsx', MPMD_PROGRAMS.server, 's', ':',
    '-n', '2', process.execPath, '--import', 'tsx', MPMD_PROGRAMS.client, 'c']);
  assert.equal(r.code, 0, r.stderr);
  MPMD_CHECK(r);
});
