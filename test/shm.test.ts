import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mpirun, okLines, p2pPassed, program, strays } from './helpers.js';

const CHECKS = p2pPassed();

function sortedLines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l !== '').sort();
}

function ourShm(): string[] {
  try {
    return readdirSync('/dev/shm').filter((name) => name.includes('mpi4ts'));
  } catch {
    return [];
  }
}

test('ranks of one host talk through shared memory by default; MPI4TS_TRANSPORT=unix and tcp force sockets', async () => {
  const auto = await mpirun(3, program('shm.ts'), { args: ['transports'] });
  assert.equal(auto.code, 0, auto.stderr);
  assert.deepEqual(sortedLines(auto.stdout), ['rank 0 self,shm,shm', 'rank 1 shm,self,shm', 'rank 2 shm,shm,self']);
  const unix = await mpirun(2, program('shm.ts'), { args: ['transports'], env: { MPI4TS_TRANSPORT: 'unix' } });
  assert.equal(unix.code, 0, unix.stderr);
  assert.deepEqual(sortedLines(unix.stdout), ['rank 0 self,unix', 'rank 1 unix,self']);
  const tcp = await mpirun(2, program('shm.ts'), { args: ['transports'], env: { MPI4TS_TRANSPORT: 'tcp' } });
  assert.equal(tcp.code, 0, tcp.stderr);
  assert.deepEqual(sortedLines(tcp.stdout), ['rank 0 self,tcp', 'rank 1 tcp,self']);
});

test('point-to-point checks pass with shared memory forced off (MPI4TS_TRANSPORT=unix), 3 ranks', async () => {
  const r = await mpirun(3, program('p2p.ts'), { env: { MPI4TS_TRANSPORT: 'unix' } });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(okLines(r.stdout), CHECKS);
});

test('1 GiB flood to a slow receiver over Unix sockets (shared memory off) keeps memory bounded', async () => {
  const r = await mpirun(2, program('flood.ts'), { args: ['1024'], env: { MPI4TS_TRANSPORT: 'unix' } });
  assert.equal(r.code, 0, r.stderr);
  const peaks = [...r.stdout.matchAll(/rank (\d) peak rss (\d+) MiB/g)].map((m) => Number(m[2]));
  assert.equal(peaks.length, 2, r.stdout);
  for (const peak of peaks) assert.ok(peak < 400, `peak RSS ${peak} MiB`);
});

test('7 ranks on this host (oversubscribed: no spinning, doorbells only) with 64 KiB rings: every pair, every size', async () => {
  const r = await mpirun(7, program('shm.ts'), { args: ['alltoall'], env: { MPI4TS_SHM_RING_KB: '64' } });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(sortedLines(r.stdout), [0, 1, 2, 3, 4, 5, 6].map((n) => `rank ${n} alltoall ok`));
  assert.deepEqual(await strays(r.marker), []);
});

test('point-to-point checks pass through 16 KiB rings (frames far larger than the ring), 3 ranks', async () => {
  const r = await mpirun(3, program('p2p.ts'), { env: { MPI4TS_SHM_RING_KB: '16' } });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(okLines(r.stdout), CHECKS);
});

test('a rank killed with SIGKILL while the rings are mapped leaves nothing in /dev/shm', async () => {
  const before = ourShm();
  const r = await mpirun(2, program('shm.ts'), { args: ['killed'] });
  assert.equal(r.code, 137, r.stderr);
  assert.deepEqual(sortedLines(r.stdout), ['rank 0 via shm maps its inbox', 'rank 1 via shm maps its inbox']);
  assert.deepEqual(await strays(r.marker), []);
  assert.deepEqual(ourShm(), before);
});

test('bad shared-memory settings are refused with the variable, the value and what is allowed', async () => {
  const transport = await mpirun(2, program('shm.ts'), { args: ['transports'], env: { MPI4TS_TRANSPORT: 'shm-only' } });
  assert.notEqual(transport.code, 0);
  assert.match(transport.stderr, /MPI4TS_TRANSPORT="shm-only" must be "auto", "unix" \(sockets, no shared memory\) or "tcp"/);
  const ring = await mpirun(2, program('shm.ts'), { args: ['transports'], env: { MPI4TS_SHM_RING_KB: '100' } });
  assert.notEqual(ring.code, 0);
  assert.match(ring.stderr, /MPI4TS_SHM_RING_KB="100" must be a power of two from 4 to 1048576/);
});
