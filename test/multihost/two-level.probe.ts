/**
 * Two-level collectives on a namespace cluster of its own (test/cluster/cluster.sh): 12 ranks,
 * 3 on each of 4 hosts. Kept out of npm test for its length (about 30 s on 2 cores); run by
 * test:probes. test/multihost/cluster.test.ts covers collectives across hosts at 5 ranks.
 */
import assert from 'node:assert/strict';
import { okLines, program } from '../helpers.js';
import { buildCluster, clusterTestOn, downAtExit } from '../cluster/cluster.js';

const cluster = await buildCluster(4, 'm4tl');
downAtExit(() => cluster);

clusterTestOn(() => cluster, 'two-level collectives: 12 ranks, 3 on each of 4 hosts: bcast by blocks, the buffer forms round robin, and flat with MPI4TS_TWO_LEVEL=0', async (c) => {
  const TWO_LEVEL = /rank \d+: MPI_COMM_WORLD spans 4 hosts: its collectives run in two levels/g;
  // Three short jobs (12 ranks over 4 namespace hosts take their time on 2 cores): each a placement and the checks it matters for.
  const jobs = [
    { placement: [], twoLevel: '1', program: 'coll.ts', checks: ['bcast', 'allreduce', 'bigAllreduce'] },
    { placement: ['--map-by', 'node'], twoLevel: '1', program: 'buffers.ts', checks: ['rooted', 'badInput'] },
    { placement: [], twoLevel: '0', program: 'coll.ts', checks: ['bcast'] },
  ];
  for (const job of jobs) {
    const env = { MPI4TS_TWO_LEVEL: job.twoLevel, NODE_DEBUG: 'mpi4ts' };
    const launcher = ['--host', c.hosts.map((h) => `${h}:3`).join(','), '--ssh', c.ssh, ...job.placement, '-x', 'MPI4TS_TWO_LEVEL', '-x', 'NODE_DEBUG'];
    const r = await c.run(launcher, program(job.program), { args: job.checks, env }).result;
    const what = `${job.program} ${job.placement.join(' ')} MPI4TS_TWO_LEVEL=${job.twoLevel}`;
    assert.equal(r.code, 0, `${what}: ${r.stderr.slice(-3000)}`);
    assert.deepEqual(okLines(r.stdout), job.checks, what);
    // Every rank said so where two levels are on, none with MPI4TS_TWO_LEVEL=0.
    assert.equal([...r.stderr.matchAll(TWO_LEVEL)].length, job.twoLevel === '1' ? 12 : 0, `${what}: ${r.stderr.slice(-3000)}`);
  }
  assert.deepEqual(await c.leftovers(), []);
});
