// Cross-memory attach (transport/cma.ts): rendezvous payloads between ranks
// of one host written straight into the receiver's buffer, in real jobs.
// The debug log says once per pair when a rank first writes into a peer, so
// the tests see that the direct path was taken, or refused and left.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mpirun, program } from './helpers.js';
import { ptraceScope } from '../src/transport/cma.js';

const WROTE = /rank (\d+) writes rendezvous payloads straight into rank (\d+)'s memory \(cross-memory attach\)/g;

const SPLIT = /rank (\d+) splits large payloads to rank (\d+): it writes the head while rank \d+ reads the tail \(cross-memory attach\)/g;

function pairs(stderr: string, pattern = WROTE): string[] {
  return [...stderr.matchAll(pattern)].map((m) => `${m[1]}>${m[2]}`).sort();
}

for (const np of [2, 3, 4]) {
  test(`direct writes at ${np} ranks: every size around the window, views at an offset, ssend, objects, truncation, allreduce`, async () => {
    const r = await mpirun(np, program('direct.ts'), { env: { NODE_DEBUG: 'mpi4ts' } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ok direct$/m);
    // Each rank paired with rank ^ 1 wrote into its partner (an odd last rank pairs with itself, which never goes direct).
    const expected = [...Array(np - (np % 2)).keys()].map((rank) => `${rank}>${rank ^ 1}`).sort();
    for (const pair of expected) assert.ok(pairs(r.stderr).includes(pair), `${pair} missing from ${pairs(r.stderr).join(' ')}`);
    // The one-way payloads of 1 MiB and more were split, each way (a host of 2 cores has one per rank at 2 ranks only).
    if (np === 2) assert.deepEqual(pairs(r.stderr, SPLIT), ['0>1', '1>0']);
  });
}

test('MPI4TS_CMA_SPLIT_MIN_BYTES=0: nothing is split, the sender writes it all', async () => {
  const r = await mpirun(2, program('direct.ts'), { env: { NODE_DEBUG: 'mpi4ts', MPI4TS_CMA_SPLIT_MIN_BYTES: '0' } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ok direct$/m);
  assert.deepEqual(pairs(r.stderr), ['0>1', '1>0']);
  assert.deepEqual(pairs(r.stderr, SPLIT), []);
});

test('MPI4TS_CMA=0: the same checks pass through the ring, and nothing is written directly', async () => {
  const r = await mpirun(2, program('direct.ts'), { env: { NODE_DEBUG: 'mpi4ts', MPI4TS_CMA: '0' } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ok direct$/m);
  assert.deepEqual(pairs(r.stderr), []);
});

/** Skips `t` (true) where CAP_SYS_PTRACE cannot be dropped: it needs root and setpriv (util-linux). */
function cannotDropPtrace(t: TestContext): boolean {
  if (spawnSync('setpriv', ['--version']).status === 0 && process.getuid?.() === 0) return false;
  t.skip('needs root and setpriv (util-linux) to drop CAP_SYS_PTRACE');
  return true;
}

/**
 * direct.ts at 2 ranks with no rank holding CAP_SYS_PTRACE (setpriv drops it from the launcher's bounding set)
 * and DIRECT_UNDUMPABLE's ranks non-dumpable, so that the kernel refuses to let the others touch their memory.
 */
function withoutPtrace(undumpable: '1' | 'even'): ReturnType<typeof mpirun> {
  return mpirun(2, program('direct.ts'), {
    env: { NODE_DEBUG: 'mpi4ts', DIRECT_UNDUMPABLE: undumpable },
    wrap: ['setpriv', '--bounding-set', '-sys_ptrace'],
  });
}

test('a kernel that refuses the write (no CAP_SYS_PTRACE, receivers not dumpable): EPERM, the ring takes over, nothing is lost', async (t) => {
  if (cannotDropPtrace(t)) return;
  // setpriv runs the launcher without CAP_SYS_PTRACE in its bounding set, so no rank has it; each rank then
  // makes itself non-dumpable (DIRECT_UNDUMPABLE), and the kernel refuses every write into another.
  const r = await withoutPtrace('1');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ok direct$/m);
  assert.deepEqual(pairs(r.stderr), []);
  assert.match(r.stderr, /rank [01]: direct writes to rank [01] refused \(errno 1\); rendezvous payloads go through the transport from now on/);
});

test('reads refused one way, writes the other (only rank 0 non-dumpable): every split falls back, nothing is lost', async (t) => {
  if (cannotDropPtrace(t)) return;
  // Rank 1 may not read rank 0's memory (its splits' tails: rank 0 writes them itself) nor write into it
  // (rank 1's heads: it sends the whole payload as DATA while rank 0 reads the tail it was offered).
  const r = await withoutPtrace('even');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ok direct$/m);
  assert.deepEqual(pairs(r.stderr), ['0>1']);
  assert.deepEqual(pairs(r.stderr, SPLIT), []);
  assert.match(r.stderr, /rank 1: direct writes to rank 0 refused \(errno 1\)/);
  assert.match(r.stderr, /rank 1: reads of rank 0's memory refused \(errno 1\); large payloads are no longer split/);
});

test('ptraceScope reads Yama\'s setting, or null without Yama', () => {
  assert.equal(ptraceScope('/nonexistent/ptrace_scope'), null);
  const scope = ptraceScope();
  assert.ok(scope === null || [0, 1, 2, 3].includes(scope));
});
