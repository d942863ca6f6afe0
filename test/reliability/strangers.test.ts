/**
 * Strangers without the job key at the job's ports: 500 connections to the
 * launcher's control port and to every rank's listener, each writing 16 MiB
 * without a newline. Each is dropped within a few KiB (UnprovenConnections),
 * so the launcher and the ranks stay within a small memory bound, and the
 * job then finishes as if nothing had happened.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mpirun, program, ROOT, strays } from '../helpers.js';

/** What the launcher and each rank may grow by under the flood. */
const BOUND_MIB = 64;

function kib(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 'NaN');
}

/** TCP ports that the processes `pids` listen on. */
function listening(pids: number[]): { pid: number; address: string }[] {
  const ss = execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' });
  return ss.split('\n').flatMap((line) => {
    const pid = Number(/pid=(\d+)/.exec(line)?.[1]);
    const address = line.trim().split(/\s+/)[3];
    return pids.includes(pid) && address !== undefined ? [{ pid, address }] : [];
  });
}

test('500 strangers writing 16 MiB each at the launcher and every rank: memory stays bounded, the job finishes', async (t) => {
  if (spawnSync('ss', ['-V']).status !== 0) {
    t.skip('ss (iproute2) is not installed');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'mpi4ts-strangers-'));
  const gate = join(dir, 'go');
  let launcher = 0;
  const job = mpirun(3, program('hold.ts'), { args: [gate], env: { MPI4TS_TRANSPORT: 'tcp' }, onStart: (pid) => { launcher = pid; } });
  let ranks: number[] = [];
  for (let i = 0; i < 300 && ranks.length < 3; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const ps = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
    ranks = ps.split('\n').filter((l) => l.includes('hold.ts') && l.includes(gate) && !l.includes(' run ')).map((l) => Number(l.trim().split(/\s+/)[0]));
  }
  assert.equal(ranks.length, 3, 'the ranks started');
  // Ready: every rank and the launcher listen.
  let targets: { pid: number; address: string }[] = [];
  for (let i = 0; i < 300; i++) {
    targets = listening([launcher, ...ranks]);
    if (new Set(targets.map((x) => x.pid)).size === 4) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(new Set(targets.map((x) => x.pid)).size, 4, `ports: ${JSON.stringify(targets)}`);
  // The peak so far (start-up) must not hide growth under the flood: reset it where Linux lets us.
  for (const pid of [launcher, ...ranks]) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
    } catch {
      // Not root: the peak then also covers start-up, a looser check.
    }
  }
  const before = new Map([launcher, ...ranks].map((pid) => [pid, kib(pid, 'VmRSS')]));
  const flood = spawnSync(process.execPath, [join(ROOT, 'test', 'cluster', 'stranger.mjs'), '--flood', '500', '16',
    ...targets.map((x) => `x:${x.address}`)], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(flood.status, 0, flood.stderr);
  const report = JSON.parse(flood.stdout) as { target: string; connections: number; closed: number }[];
  for (const r of report) assert.equal(r.closed, r.connections, `${r.target} kept stranger connections open`);
  const growth: string[] = [];
  for (const [pid, rss] of before) {
    const grew = (kib(pid, 'VmHWM') - rss) / 1024;
    growth.push(`${pid === launcher ? 'launcher' : 'rank'} +${grew.toFixed(1)} MiB`);
    assert.ok(grew < BOUND_MIB, `${pid === launcher ? 'the launcher' : `rank pid ${pid}`} grew by ${grew.toFixed(1)} MiB under the flood (bound ${BOUND_MIB})`);
  }
  t.diagnostic(`peak memory under the flood: ${growth.join(', ')}`);
  writeFileSync(gate, '');
  const r = await job;
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\n').filter((l) => l.startsWith('ok ')).sort(), ['ok 0', 'ok 1', 'ok 2']);
  assert.deepEqual(await strays(r.marker), []);
});
