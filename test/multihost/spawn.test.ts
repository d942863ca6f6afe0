/**
 * comm.spawn across namespace hosts (test/cluster/cluster.sh): children go to
 * the hosts with free slots, or to the hosts given, over ssh as the job's
 * ranks; a child that fails on a remote host, and the launcher SIGKILLed
 * while remote children run, leave nothing on any host. Needs root; skipped
 * elsewhere with the reason.
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
