/**
 * comm.spawn across namespace hosts (test/cluster/cluster.sh): children go to
 * the hosts with free slots, or to the hosts given, over ssh as the job's
 * ranks; a child that fails on a remote host, and the launcher SIGKILLed
 * while remote children run, leave nothing on any host. Task pools too (one
 * cluster for both: each build costs seconds): `mpi4ts run --pool` over the
 * hosts, and a PoolExecutor that spawns its workers there, one of them
 * SIGKILLed mid-task. Needs root; skipped elsewhere with the reason.
 */
import assert from 'node:assert/strict';
import { okLines, program } from '../helpers.js';
import { buildCluster, clusterTestOn, downAtExit, type Cluster } from '../cluster/cluster.js';

const cluster = await buildCluster(3, 'm4sp');
downAtExit(() => cluster);
const SPAWN = program('spawn.ts');

function clusterTest(name: string, body: (c: Cluster) => Promise<void>): void {
  clusterTestOn(() => cluster, name, body);
}

const launcherOf = (c: Cluster): string[] => ['--ssh', c.ssh, '--iface', 'eth0'];

clusterTest('children fill the free slots of the other hosts; UNIVERSE_SIZE is the slots', async (c) => {
  const hosts = `${c.hosts[0]}:1,${c.hosts[1]}:2,${c.hosts[2]}:2`;
  // No --iface: hosts with free slots make the launcher listen where they can reach it.
  const r = await c.run(['-n', '1', '--host', hosts, '--ssh', c.ssh], SPAWN, { args: ['where', '4'] }).result;
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.includes(`hosts: ${c.hosts[1]},${c.hosts[1]},${c.hosts[2]},${c.hosts[2]}`), r.stdout);
  assert.ok(r.stdout.includes('universe: 5'), r.stdout);
  assert.deepEqual(await c.leftovers(), []);
});

clusterTest('children on the hosts given, in turn, over ssh even from a job whose ranks are all on the launcher\'s host', async (c) => {
  const r = await c.run(['-n', '2', '--host', `${c.hosts[0]}:2`, ...launcherOf(c)], SPAWN,
    { args: ['where', '3', `${c.hosts[1]},${c.hosts[2]}`] }).result;
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.includes(`hosts: ${c.hosts[1]},${c.hosts[2]},${c.hosts[1]}`), r.stdout);
  assert.deepEqual(okLines(r.stdout), ['where']);
  assert.deepEqual(await c.leftovers(), []);
});

clusterTest('children for another host of a job that talks over loopback: a clear error', async (c) => {
  const r = await c.run(['-n', '1', '--ssh', c.ssh], SPAWN, { args: ['where', '1', c.hosts[1]!] }).result;
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`spawn: host "${c.hosts[1]}" is another host, but this job's ranks talk over loopback`));
  assert.deepEqual(await c.leftovers(), []);
});

clusterTest('a remote child that throws ends the job; nothing is left on any host', async (c) => {
  const r = await c.run(['-n', '1', '--host', `${c.hosts[0]}:1,${c.hosts[1]}:2`, ...launcherOf(c)], SPAWN, { args: ['throw'] }).result;
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /child 1 fails on purpose/);
  assert.match(r.stderr, /rank 1 of spawned world 1 \(/);
  assert.deepEqual(await c.leftovers(), []);
});

clusterTest('the launcher SIGKILLed while remote children run leaves nothing on any host', async (c) => {
  const job = c.run(['-n', '1', '--host', `${c.hosts[0]}:1,${c.hosts[1]}:1,${c.hosts[2]}:1`, ...launcherOf(c)], SPAWN, { args: ['sleep'] });
  await job.lines(/^ok children up/, 1);
  process.kill(job.pid, 'SIGKILL');
  await job.result;
  assert.deepEqual(await c.leftovers(), []);
});

const POOL = program('pool.ts');

/** The hosts a pool's tasks ran on, from pool.ts's "task hosts: a,b (N workers)" line. */
function taskHosts(stdout: string): string[] {
  const line = /^task hosts: (\S+) \((\d+) workers\)$/m.exec(stdout);
  assert.ok(line !== null, stdout);
  return line[1]!.split(',');
}

clusterTest('mpi4ts run --pool over 3 hosts: the workers are the ranks on every host, the tasks run on more than one', async (c) => {
  const hosts = `${c.hosts[0]}:2,${c.hosts[1]}:1,${c.hosts[2]}:1`;
  const r = await c.run(['-n', '4', '--pool', '--host', hosts, ...launcherOf(c)], POOL, { args: ['hosts'] }).result;
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(okLines(r.stdout), ['hosts']);
  const ran = taskHosts(r.stdout);
  assert.ok(ran.length > 1, `the tasks ran on ${ran.join(',')} only`);
  assert.ok(ran.every((h) => c.hosts.includes(h)), ran.join(','));
  assert.deepEqual(await c.leftovers(), []);
});

clusterTest('a PoolExecutor spawns its workers on the other hosts\' free slots; one SIGKILLed there fails its task, the pool goes on, the job ends 0', async (c) => {
  const hosts = `${c.hosts[0]}:1,${c.hosts[1]}:2,${c.hosts[2]}:2`;
  const r = await c.run(['-n', '1', '--host', hosts, '-genv', 'POOL_WORKERS', '4', '-genv', 'POOL_KILL_REMOTE', '1', ...launcherOf(c)], POOL,
    { args: ['hosts'] }).result;
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(okLines(r.stdout), ['hosts']);
  assert.deepEqual(taskHosts(r.stdout), [c.hosts[1], c.hosts[2]]);
  const killed = /^killed the worker on (\S+); went on$/m.exec(r.stdout);
  assert.ok(killed !== null && [c.hosts[1], c.hosts[2]].includes(killed[1]!), r.stdout);
  assert.match(r.stderr, new RegExp(`mpi4ts: pool worker rank \\d of spawned world 1 \\(${killed[1]}, pid \\d+\\) was killed by signal SIGKILL; the job goes on without it \\(a PoolExecutor's spawned worker\\)`));
  assert.deepEqual(await c.leftovers(), []);
});
