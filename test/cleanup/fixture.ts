/**
 * A test file that starts what the suite's heaviest files start, then holds:
 * a namespace cluster of 2 hosts (sshd in each), a throwaway Slurm, a job
 * across the cluster, a local job, and a Slurm step. Its ranks block their
 * event loops (test/programs/block.ts), deaf to SIGTERM, so their launchers
 * must SIGKILL them. test/cleanup/interrupt.cleanup.ts runs this file and
 * interrupts it; not a test of its own (no .test.ts), so npm test skips it.
 *
 * Environment: FIXTURE_DIR, a dir for what it reports: `built.json` once all
 * runs (its pid, the cluster's prefix and dir, the Slurm's dir, the jobs'
 * markers), `teardown` once its teardowns ran in this process (the runner
 * that would show its stderr may be gone); FIXTURE_PREFIX, the cluster's
 * CLUSTER_PREFIX; FIXTURE_TEST_TIMEOUT, a timeout in ms for the holding test
 * (default: none, it holds until interrupted). Slurm's ports come from
 * MPI4TS_SLURM_CTLD_PORT and MPI4TS_SLURM_SLURMD_PORT.
 */
import { after, before, test } from 'node:test';
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { mpirun, program } from '../helpers.js';
import { onTeardown } from '../teardown.js';
import { buildCluster, downAtExit, type Cluster } from '../cluster/cluster.js';
import { run } from '../interop/programs.js';
import { startSlurm, type Slurm } from '../interop/slurm/slurm.js';

const report = process.env.FIXTURE_DIR!;
const prefix = process.env.FIXTURE_PREFIX!;
const timeout = process.env.FIXTURE_TEST_TIMEOUT === undefined ? undefined : Number(process.env.FIXTURE_TEST_TIMEOUT);
const HOLD = { args: ['3600', 'wait'], killAfterMs: 3_600_000 };

// First registered, so it runs last: after the cluster and the Slurm are down.
onTeardown('', () => appendFileSync(join(report, 'teardown'), `${process.pid}\n`));

let cluster: Cluster | string = 'not built';
let slurm: Slurm | string = 'not started';
before(async () => {
  cluster = await buildCluster(2, prefix);
  slurm = startSlurm();
});
downAtExit(() => cluster);
after(() => {
  if (typeof slurm !== 'string') slurm.stop();
});

test('holds a cluster, a Slurm and three jobs until interrupted', { timeout }, async () => {
  if (typeof cluster === 'string') throw new Error(cluster);
  if (typeof slurm === 'string') throw new Error(slurm);
  const across = cluster.run(['--host', cluster.hosts.join(','), '--ssh', cluster.ssh], program('block.ts'), HOLD);
  // mpirun's own marker is known only at the end: the ranks carry this one too.
  const localMarker = `mpi4ts-fixture-${randomUUID()}`;
  let computing = 0;
  const localUp = new Promise<void>((resolve) => {
    void mpirun(2, program('block.ts'), {
      args: [...HOLD.args, localMarker], killAfterMs: HOLD.killAfterMs,
      onStdout: (text) => {
        computing += (text.match(/^computing \d$/gm) ?? []).length;
        if (computing === 2) resolve();
      },
    });
  });
  const step = join(slurm.dir, 'step-running');
  void run('srun', ['-n', '1', '--time=10', 'sh', '-c', 'touch "$0" && exec sleep 3600', step],
    { ...process.env, SLURM_CONF: slurm.conf }, HOLD.killAfterMs);
  await across.lines(/^computing \d$/, 2);
  await localUp;
  for (let i = 0; !existsSync(step); i++) {
    if (i === 600) throw new Error('the Slurm step did not start in 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  writeFileSync(join(report, 'built.json'), JSON.stringify({
    pid: process.pid, prefix, clusterDir: cluster.dir, slurmDir: slurm.dir, markers: [across.marker, localMarker],
  }));
  // Held by the jobs alone, as a test stuck on a job is: no timer of its own keeps the file alive.
  await new Promise(() => {});
});
