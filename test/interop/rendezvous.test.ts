// The generic rendezvous (MPI4TS_RANK, MPI4TS_SIZE, MPI4TS_RENDEZVOUS, MPI4TS_KEY: processes
// started by hand, as a Kubernetes job or a batch system would), and the detection rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { spawn } from 'node:child_process';
import { CLI, example, program, ROOT } from '../helpers.js';
import { track } from '../teardown.js';
import { chooseBootstrap } from '../../src/runtime/detect.js';
import { frame, parsePairs } from '../../src/runtime/pmi2.js';
import { parseWords } from '../../src/runtime/pmi1.js';
import { firstHost } from '../../src/runtime/slurm.js';
import { rendezvousEnvironment } from '../../src/runtime/rendezvous.js';
import { CASES, nodeArgs, run, THROWS, type Outcome } from './programs.js';

/** A port that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address !== null ? address.port : 0;
}

/** A clean environment: nothing a launcher of the test runner itself may have set. */
function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(PMI_|PMIX_|SLURM_|MPI4TS_|OMPI_)/.test(name)) env[name] = value;
  }
  return { ...env, ...extra };
}

/** Starts `np` processes of the program, one per rank, and merges what they print. */
async function rendezvous(np: number, args: string[], key = randomBytes(32).toString('hex')): Promise<Outcome & { codes: (number | null)[] }> {
  const where = `127.0.0.1:${await freePort()}`;
  const runs = await Promise.all(Array.from({ length: np }, (_, rank) => run(process.execPath, args,
    baseEnv({ MPI4TS_RANK: String(rank), MPI4TS_SIZE: String(np), MPI4TS_RENDEZVOUS: where, MPI4TS_KEY: key }))));
  const codes = runs.map((r) => r.code);
  const failed = codes.find((c) => c !== 0);
  return { code: failed ?? 0, codes, stdout: runs.map((r) => r.stdout).join(''), stderr: runs.map((r) => r.stderr).join('') };
}

for (const c of CASES) {
  test(`under the rendezvous (4 processes started by hand): ${c.name}`, async () => {
    const r = await rendezvous(4, nodeArgs(c.script, c.args));
    assert.equal(r.code, 0, r.stderr);
    c.check(r);
  });
}

test('under the rendezvous: a rank that throws ends every rank non-zero', async () => {
  const r = await rendezvous(3, nodeArgs(THROWS.script, THROWS.args));
  THROWS.check(r);
  assert.ok(r.codes.every((code) => code !== 0), `exit codes ${r.codes.join(',')}`);
  assert.match(r.stderr, /rank 1 left before finalize; ending the job/);
});

test('under the rendezvous: comm.abort(5) on rank 2 ends the job; ranks 0 and 2 exit 5', async () => {
  const r = await rendezvous(3, nodeArgs(THROWS.script, ['abort', '2']));
  assert.deepEqual([r.codes[0], r.codes[2]], [5, 5], r.stderr);
  assert.notEqual(r.codes[1], 0);
  assert.match(r.stderr, /rank 2 aborted with code 5/);
});

test('under the rendezvous: mpi4ts info shows the rendezvous bootstrap and transport per peer', async () => {
  const r = await rendezvous(2, [CLI, 'info']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^bootstrap rendezvous: rank 0 of 2 on \S+$/m);
  assert.match(r.stdout, /^bootstrap rendezvous: rank 1 of 2 on \S+$/m);
  assert.match(r.stdout, /^transport per peer: 0:shm 1:self$/m);
  assert.match(r.stdout, /^large messages on this host: written straight into the receiver's memory from 8192 to 2097152 bytes, from 1048576 bytes up split with the receiver's read where the host has a core per rank \(cross-memory attach; a refusal falls back to the transport\)$/m);
});

test('the rendezvous refuses to start without MPI4TS_KEY, and says what to set', async () => {
  const where = `127.0.0.1:${await freePort()}`;
  const r = await run(process.execPath, nodeArgs(example('helloworld.ts'), []),
    baseEnv({ MPI4TS_RANK: '0', MPI4TS_SIZE: '2', MPI4TS_RENDEZVOUS: where }));
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /MPI4TS_RENDEZVOUS needs MPI4TS_KEY: a secret of at least 16 characters, the same on every rank/);
});

test('ranks with different MPI4TS_KEY never form a job', async () => {
  const where = `127.0.0.1:${await freePort()}`;
  const env = (rank: number, key: string): NodeJS.ProcessEnv => baseEnv({ MPI4TS_RANK: String(rank), MPI4TS_SIZE: '2',
    MPI4TS_RENDEZVOUS: where, MPI4TS_KEY: key, MPI4TS_RENDEZVOUS_TIMEOUT: '5' });
  const [a, b] = await Promise.all([run(process.execPath, [CLI, 'info'], env(0, 'a'.repeat(32)), 20_000),
    run(process.execPath, [CLI, 'info'], env(1, 'b'.repeat(32)), 20_000)]);
  assert.notEqual(a.code, 0);
  assert.notEqual(b.code, 0);
  assert.doesNotMatch(a.stdout + b.stdout, /bootstrap rendezvous/);
  // Rank 0 gives up by itself after MPI4TS_RENDEZVOUS_TIMEOUT, naming who never came.
  assert.match(a.stderr, /rank 0 waited 5 s \(MPI4TS_RENDEZVOUS_TIMEOUT\) at 127\.0\.0\.1:\d+ and rank 1 never joined with the job key/);
});

test('a stray PMI_RANK/PMI_SIZE without PMI_FD is ignored: the program runs as a singleton', async () => {
  const r = await run(process.execPath, nodeArgs(example('helloworld.ts'), []), baseEnv({ PMI_RANK: '3', PMI_SIZE: '4' }), 30_000);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Hello, World! I am process 0 of 1 on \S+\.$/m);
});

test('PMI_FD that is not an open socket gives an error naming it', async () => {
  const r = await run(process.execPath, [CLI, 'info'], baseEnv({ PMI_FD: '97', PMI_RANK: '0', PMI_SIZE: '2' }), 30_000);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /PMI-1: PMI_FD=97 is not an open socket \(.*\); the launcher passes its PMI socket there: unset PMI_FD/);
});

test('detection: each launcher by the variables it sets; half sets are errors naming what is missing', () => {
  assert.equal(chooseBootstrap({}), 'singleton');
  assert.equal(chooseBootstrap({ MPI4TS_CONTROL: '127.0.0.1:1' }), 'mpi4ts');
  assert.equal(chooseBootstrap({ PMIX_NAMESPACE: 'x', PMIX_RANK: '0' }), 'pmix');
  assert.equal(chooseBootstrap({ PMI_FD: '6', PMI_RANK: '0', PMI_SIZE: '4' }), 'pmi1');
  assert.equal(chooseBootstrap({ PMI_FD: '6', PMI_RANK: '0', PMI_SIZE: '4', PMI_JOBID: '1.0' }), 'pmi2');
  assert.equal(chooseBootstrap({ PMI_FD: '6', PMI_RANK: '0', PMI_SIZE: '4', SLURM_STEP_ID: '0', SLURM_PROCID: '0', SLURM_NTASKS: '4' }), 'pmi2');
  assert.equal(chooseBootstrap({ PMI_FD: '6', PMI_RANK: '0', PMI_SIZE: '4', PMI_JOBID: '1.0', MPI4TS_PMI: '1' }), 'pmi1');
  assert.equal(chooseBootstrap({ PMI_RANK: '2', PMI_SIZE: '4' }), 'singleton');
  assert.equal(chooseBootstrap({ MPI4TS_RANK: '0', MPI4TS_SIZE: '2', MPI4TS_RENDEZVOUS: 'h:1' }), 'rendezvous');
  assert.equal(chooseBootstrap({ SLURM_STEP_ID: '0', SLURM_PROCID: '1', SLURM_NTASKS: '4' }), 'slurm');
  // One task of a step, or a batch script (no step id): nothing to meet.
  assert.equal(chooseBootstrap({ SLURM_STEP_ID: '0', SLURM_PROCID: '0', SLURM_NTASKS: '1' }), 'singleton');
  assert.equal(chooseBootstrap({ SLURM_PROCID: '0', SLURM_NTASKS: '4' }), 'singleton');
  assert.throws(() => chooseBootstrap({ PMI_FD: '6' }), /PMI_FD="6" is set \(a PMI-1 launcher such as mpiexec.hydra\) but PMI_RANK and PMI_SIZE are not/);
  assert.throws(() => chooseBootstrap({ PMI_FD: '6', PMI_RANK: '1' }), /but PMI_SIZE is not/);
  assert.throws(() => chooseBootstrap({ PMI_PORT: 'h:1' }), /PMI_PORT="h:1" is set without PMI_FD/);
  assert.throws(() => chooseBootstrap({ PMI_FD: '6', MPI4TS_PMI: '3' }), /MPI4TS_PMI="3" must be 1 \(PMI-1, MPICH Hydra\) or 2/);
  assert.throws(() => chooseBootstrap({ MPI4TS_RANK: '0' }), /MPI4TS_RANK\/MPI4TS_SIZE are set but MPI4TS_RENDEZVOUS is not/);
});

test('rendezvous variables: bad values name the variable and what is allowed', () => {
  const key = { MPI4TS_KEY: 'k'.repeat(16) };
  assert.throws(() => rendezvousEnvironment({ ...key, MPI4TS_RENDEZVOUS: 'nohost', MPI4TS_RANK: '0', MPI4TS_SIZE: '2' }),
    /MPI4TS_RENDEZVOUS="nohost" must be host:port with a port from 1 to 65535/);
  assert.throws(() => rendezvousEnvironment({ ...key, MPI4TS_RENDEZVOUS: 'h:1', MPI4TS_RANK: '2', MPI4TS_SIZE: '2' }),
    /MPI4TS_RANK=2 is out of range for MPI4TS_SIZE=2 \(0..1\)/);
  assert.throws(() => rendezvousEnvironment({ ...key, MPI4TS_RENDEZVOUS: 'h:1', MPI4TS_RANK: 'x', MPI4TS_SIZE: '2' }),
    /MPI4TS_RANK="x" must be an integer >= 0/);
  assert.throws(() => rendezvousEnvironment({ MPI4TS_KEY: 'short', MPI4TS_RENDEZVOUS: 'h:1', MPI4TS_RANK: '0', MPI4TS_SIZE: '2' }),
    /the MPI4TS_KEY given has 5 characters/);
  assert.throws(() => rendezvousEnvironment({ ...key, MPI4TS_RENDEZVOUS: 'h:1', MPI4TS_RANK: '0', MPI4TS_SIZE: '2', MPI4TS_RENDEZVOUS_TIMEOUT: '-1' }),
    /MPI4TS_RENDEZVOUS_TIMEOUT="-1" must be a positive number of seconds/);
  const ok = rendezvousEnvironment({ ...key, MPI4TS_RENDEZVOUS: '[::1]:4000', MPI4TS_RANK: '1', MPI4TS_SIZE: '2' });
  assert.deepEqual([ok?.host, ok?.port, ok?.rank, ok?.size, ok?.key.length], ['::1', 4000, 1, 2, 32]);
});

test('wire formats: PMI-1 words, PMI-2 length-prefixed pairs, Slurm host lists', () => {
  assert.deepEqual(parseWords('cmd=get_result rc=0 msg=success value=abc-_1'), { cmd: 'get_result', rc: '0', msg: 'success', value: 'abc-_1' });
  assert.equal(frame('cmd=kvs-fence;'), '14    cmd=kvs-fence;');
  assert.deepEqual(parsePairs('cmd=kvs-get-response;rc=0;found=TRUE;value=a;;b;'), { cmd: 'kvs-get-response', rc: '0', found: 'TRUE', value: 'a;b' });
  assert.equal(firstHost('vm'), 'vm');
  assert.equal(firstHost('node[07-09,12],login1'), 'node07');
  assert.equal(firstHost('a1,b2'), 'a1');
  assert.equal(firstHost('rack[3]-n[1-2]'), 'rack3-n[1-2]');
});

test('under the rendezvous (no launcher to ask): SIGUSR1 to a rank prints its own hang report, and the job goes on', async () => {
  const where = `127.0.0.1:${await freePort()}`;
  const key = randomBytes(32).toString('hex');
  const ranks = [0, 1].map((rank) => {
    const child = spawn(process.execPath, nodeArgs(program('deadlock.ts'), ['sleepy']), {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
      env: baseEnv({ MPI4TS_RANK: String(rank), MPI4TS_SIZE: '2', MPI4TS_RENDEZVOUS: where, MPI4TS_KEY: key }),
    });
    track(child);
    const out = { child, stdout: '', stderr: '', code: null as number | null };
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out.stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { out.stderr += d; });
    return { out, closed: new Promise<void>((resolve) => child.on('close', (code) => { out.code = code; resolve(); })) };
  });
  const one = ranks[1]!.out;
  for (let i = 0; i < 200 && !one.stdout.includes('ready 1'); i++) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 500));
  one.child.kill('SIGUSR1');
  await Promise.all(ranks.map((r) => r.closed));
  assert.deepEqual(ranks.map((r) => r.out.code), [0, 0], one.stderr);
  assert.match(one.stdout, /got late/);
  assert.match(one.stderr, /mpi4ts: hang report \(SIGUSR1\): rank 1 \(\S+, pid \d+\): waits in 1 operation\(s\):\n\s+recv\(source=0, tag=5\) for [\d.]+ s/);
});
