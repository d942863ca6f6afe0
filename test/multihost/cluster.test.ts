/**
 * Multi-host jobs on a real cluster of namespace hosts (test/cluster/cluster.sh):
 * real sshd, real ssh, one network per host, the launcher inside host m4h1.
 * Needs root (network namespaces); elsewhere every test here is skipped and says why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { CORE_COLL_CHECKS, example, okLines, p2pPassed, program, ROOT, strays } from '../helpers.js';
import { buildCluster, clusterTestOn, downAtExit, type Cluster } from '../cluster/cluster.js';
import { checkWellFormed, readTimeline } from '../launcher/timeline-check.js';

const cluster = await buildCluster(4);
downAtExit(() => cluster);

function clusterTest(name: string, body: (c: Cluster) => Promise<void>): void {
  clusterTestOn(() => cluster, name, body);
}

type ClusterBody = (c: Cluster) => Promise<void>;

/** Two sequences of tests that run side by side (each sequence in order). */
function clusterGroup(name: string, ...sequences: [string, ClusterBody][][]): void {
  test(name, { concurrency: sequences.length }, async (t) => {
    if (typeof cluster === 'string') {
      t.skip(cluster);
      return;
    }
    const c = cluster;
    await Promise.all(sequences.map(async (sequence) => {
      for (const [title, body] of sequence) await t.test(title, () => body(c));
    }));
  });
}

const P2P_CHECKS = p2pPassed();

/** The pid of the rank of job `marker` running on `host`. */
function rankPidOn(host: string, marker: string): number {
  const pids = spawnSync('ip', ['netns', 'pids', host], { encoding: 'utf8' }).stdout.split('\n').filter((p) => p !== '');
  const ps = spawnSync('ps', ['-o', 'pid=,args=', '-p', pids.join(',')], { encoding: 'utf8' }).stdout;
  const line = ps.split('\n').find((l) => l.includes(marker) && !l.includes(' run '));
  assert.ok(line !== undefined, `no rank of the job on ${host}:\n${ps}`);
  return Number(line.trim().split(/\s+/)[0]);
}

clusterTest('helloworld: 8 ranks from a machinefile over 4 hosts with 2 slots each, each on its own host name', async (c) => {
  const machines = join(c.dir, 'machines');
  writeFileSync(machines, '# the cluster, as the tutorial writes it\nm4h1:2\nm4h2 slots=2\n\n10.77.0.3:2\nm4h4 slots=2 max_slots=4\n');
  const job = c.run(['-np', '8', '--machinefile', machines, '--ssh', c.ssh, '--iface', 'eth0'], example('helloworld.ts'));
  const r = await job.result;
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => l !== '').sort();
  const expected = Array.from({ length: 8 }, (_, rank) => `Hello, World! I am process ${rank} of 8 on m4h${Math.floor(rank / 2) + 1}.`);
  assert.deepEqual(lines, expected.sort());
  assert.deepEqual(await strays(r.marker), []);
  assert.deepEqual(await c.leftovers(), []);
});

clusterTest('p2p checks pass with ranks spread over hosts, slot filling, no rank on the launcher host', async (c) => {
  const r = await c.run(['-n', '4', '--host', 'm4h2:2,m4h3:2', '--ssh', c.ssh, '--net', '10.77.0.0/24'], program('p2p.ts')).result;
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(okLines(r.stdout), P2P_CHECKS);
});

clusterTest('p2p checks pass with ranks spread over hosts, --map-by node, over IPv6', async (c) => {
  const hosts = '[fd77::1]:2,[fd77::2]:2,[fd77::3]:2';
  const r = await c.run(['-n', '4', '--map-by', 'node', '--host', hosts, '--net', 'fd77::/64', '--ssh', c.ssh], program('p2p.ts')).result;
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(okLines(r.stdout), P2P_CHECKS);
  assert.deepEqual(await c.leftovers(), []);
});

clusterTest('collective checks pass with 5 ranks over 4 hosts, two on the launcher host', async (c) => {
  const r = await c.run(['--host', 'm4h1:2,m4h2,m4h3,m4h4', '--ssh', c.ssh], program('coll.ts'), { args: CORE_COLL_CHECKS }).result;
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(okLines(r.stdout), CORE_COLL_CHECKS);
});

clusterTest('--trace over 4 hosts: a track per rank named by its host, a flow per message, every clock estimated', async (c) => {
  const file = join(c.dir, 'ring-trace.json');
  const r = await c.run(['--host', 'm4h1,m4h2,m4h3,m4h4', '--ssh', c.ssh, '--trace', file], program('trace.ts'), { args: ['ring', '2'] }).result;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /timeline of 4 rank\(s\)/);
  const doc = readTimeline(file);
  checkWellFormed(doc);
  const names = doc.traceEvents.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => String(e.args?.name)).sort();
  assert.deepEqual(names, ['rank 0 (m4h1)', 'rank 1 (m4h2)', 'rank 2 (m4h3)', 'rank 3 (m4h4)']);
  assert.equal(doc.otherData.receivesWithoutSend, 0);
  assert.equal(doc.traceEvents.filter((e) => e.ph === 's' && (e.args?.tag === 0 || e.args?.tag === 1)).length >= 8, true);
  assert.deepEqual(Object.keys(doc.otherData.clock).sort(), ['rank 0', 'rank 1', 'rank 2', 'rank 3']);
});

clusterTest('deadlocks across hosts: head-to-head pairs on 4 hosts and a cycle of three end with exit 125 and the cycle named; nothing left', async (c) => {
  const pairs = await c.run(['--host', 'm4h1,m4h2,m4h3,m4h4', '--ssh', c.ssh, '--debug-calls'], program('deadlock.ts'), { args: ['pairs'] }).result;
  assert.equal(pairs.code, 125, pairs.stderr);
  assert.match(pairs.stderr, /rank 0 waits in recv\(source=1, tag=2\) at test\/programs\/deadlock\.ts:\d+\n\s+rank 1 waits in recv\(source=0, tag=2\) at test\/programs\/deadlock\.ts:\d+\n\s+cycle: rank 0 -> rank 1 -> rank 0/);
  assert.match(pairs.stderr, /rank 3 waits in recv\(source=2, tag=2\)/);
  // The hang report that follows names each rank's host.
  for (const host of ['m4h1', 'm4h2', 'm4h3', 'm4h4']) assert.match(pairs.stderr, new RegExp(`rank \\d \\(${host}, pid \\d+\\): waits in`));
  const cycle = await c.run(['--host', 'm4h2,m4h3,m4h4', '--ssh', c.ssh], program('deadlock.ts'), { args: ['cycle'] }).result;
  assert.equal(cycle.code, 125, cycle.stderr);
  assert.match(cycle.stderr, /cycle: rank 0 -> rank \d -> rank \d -> rank 0/);
  assert.deepEqual(await c.leftovers(5000, ['m4h1', 'm4h2', 'm4h3', 'm4h4']), []);
});

clusterTest('a rank killed by SIGKILL on a remote host ends the job, with nothing left on any host', async (c) => {
  const job = c.run(['--host', 'm4h1,m4h2,m4h3', '--ssh', c.ssh], program('fail.ts'), { args: ['hang', '0'] });
  await job.lines(/^ready \d$/, 3);
  const pid = rankPidOn('m4h3', job.marker);
  process.kill(pid, 'SIGKILL');
  const r = await job.result;
  assert.equal(r.signal, null, 'the launcher ended by itself');
  assert.equal(r.code, 137, r.stderr);
  assert.match(r.stderr, new RegExp(`rank 2 \\(m4h3, pid ${pid}\\) was killed by signal SIGKILL; stopping the job`));
  assert.deepEqual(await strays(r.marker), []);
  assert.deepEqual(await c.leftovers(), []);
});

clusterTest('remote ranks: stdin reaches rank 0, -x/--env forwarded, output line by line, MPI4TS_SSH chooses ssh', async (c) => {
  const job = c.run(['--host', 'm4h2,m4h3', '-x', 'MODE=fast'], program('echo.ts'), { env: { MPI4TS_SSH: c.ssh } });
  job.write('first line\nsecond\n');
  job.end();
  const r = await job.result;
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\n').filter((l) => l !== '').sort(),
    ['partial line without newline', 'rank 0 of 2, env MODE=fast', 'rank 1 of 2, env MODE=fast', 'stdin: first line|second']);
});

clusterTest('mpiexec flags across hosts: -genvall and -genv reach remote ranks, -wdir there, each host binds its own ranks, files on the launcher host', async (c) => {
  interface Where { rank: number; cwd: string; env: Record<string, string | null>; cpus: string; threadCpus: string[] }
  const ranks = (stdout: string): Where[] => stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Where)
    .sort((a, b) => a.rank - b.rank);
  const hosts = ['--host', 'm4h2:2,m4h3:2', '--ssh', c.ssh];
  const plain = await c.run([...hosts], program('where.ts'), { args: ['ONLY_HERE'], env: { ONLY_HERE: 'launcher' } }).result;
  assert.equal(plain.code, 0, plain.stderr);
  assert.deepEqual(ranks(plain.stdout).map((w) => w.env.ONLY_HERE), [null, null, null, null], 'ssh gives remote ranks their login environment');
  const outDir = join(c.dir, 'flags-out');
  const r = await c.run([...hosts, '-genvall', '-genv', 'SET', 'by genv', '-wdir', '/tmp', '--bind-to', 'core', '--report-bindings',
    '-errfile-pattern', join(outDir, 'err.%h.%r')], program('where.ts'), { args: ['ONLY_HERE', 'SET', 'HOME'], env: { ONLY_HERE: 'launcher' } }).result;
  assert.equal(r.code, 0, r.stderr);
  const seen = ranks(r.stdout);
  assert.equal(seen.length, 4);
  for (const w of seen) {
    assert.equal(w.env.ONLY_HERE, 'launcher', `-genvall forwards to rank ${w.rank}`);
    assert.equal(w.env.SET, 'by genv');
    assert.notEqual(w.env.HOME, null, 'HOME is the remote login\'s, not forwarded');
    assert.equal(w.cwd, '/tmp');
    assert.match(w.cpus, /^\d+$/, `rank ${w.rank} is bound to one CPU`);
    assert.deepEqual(w.threadCpus, [w.cpus]);
  }
  // Each host places its own ranks: the first rank of each host on its first core.
  assert.equal(seen[0]!.cpus, seen[2]!.cpus);
  assert.notEqual(seen[0]!.cpus, seen[1]!.cpus);
  for (const [rank, host] of [[0, 'm4h2'], [1, 'm4h2'], [2, 'm4h3'], [3, 'm4h3']] as const) {
    const err = readFileSync(join(outDir, `err.${host}.${rank}`), 'utf8');
    assert.match(err, new RegExp(`rank ${rank} bound to core \\d+: CPUs \\d+`));
    assert.match(err, new RegExp(`stderr of rank ${rank}\\n`));
  }
});

clusterTest('remote ranks end by themselves when the launcher is killed outright', async (c) => {
  const job = c.run(['--host', 'm4h1,m4h2,m4h3', '--ssh', c.ssh], program('fail.ts'), { args: ['hang', '0'] });
  await job.lines(/^ready \d$/, 3);
  process.kill(job.pid, 'SIGKILL');
  const r = await job.result;
  assert.equal(r.signal, 'SIGKILL');
  assert.deepEqual(await c.leftovers(20_000), []);
  assert.deepEqual(await strays(r.marker), []);
});

clusterGroup('long computations (concurrently, on separate hosts)', [
  ['compute phases of 12 s between collectives and point-to-point exchanges, across hosts', computeAcrossHosts],
], [
  ['remote ranks in the middle of a computation are gone within 5 s of the launcher being killed', killedWhileComputing],
]);

async function computeAcrossHosts(c: Cluster): Promise<void> {
  const r = await c.run(['--host', 'm4h1:2,m4h2:2', '--ssh', c.ssh], program('compute.ts'), { args: ['12', 'wait'], killAfterMs: 180_000 }).result;
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\n').filter((l) => l.startsWith('ok ')).sort(), ['ok 0', 'ok 1', 'ok 2', 'ok 3']);
}

async function killedWhileComputing(c: Cluster): Promise<void> {
  // The launcher on m4h4, ranks there and on m4h3: the hosts computeAcrossHosts leaves alone.
  const job = c.run(['--host', 'm4h4,m4h3:2', '--ssh', c.ssh], program('block.ts'), { args: ['120', 'busy'], on: 'm4h4' });
  await job.lines(/^computing \d$/, 3);
  process.kill(job.pid, 'SIGKILL');
  const r = await job.result;
  assert.equal(r.signal, 'SIGKILL');
  assert.deepEqual(await c.leftovers(5000, ['m4h3', 'm4h4']), []);
}

clusterGroup('failures (concurrently, on separate hosts)', [
  ['a link cut mid-job (ip link set down) ends the job with an error, within the keep-alive bound', linkCut],
  ['Ctrl-C (SIGINT to the launcher) stops the ranks on every host, exit code 130', ctrlC],
], [
  ['an unreachable host and a failed ssh login are reported as such', unreachable],
  ['bad hostfile lines and too few slots are clear errors', badHostLists],
  ['strangers with garbage, a wrong key proof or silence at the ranks\' ports do not harm the job', strangers],
]);

async function linkCut(c: Cluster): Promise<void> {
  // Hosts of its own (launcher on m4h4), so the other failure tests run meanwhile.
  const job = c.run(['--host', 'm4h4,m4h3', '--ssh', c.ssh], program('fail.ts'), { args: ['hang', '0'], on: 'm4h4' });
  await job.lines(/^ready \d$/, 2);
  const cut = Date.now();
  spawnSync('ip', ['-n', 'm4hsw', 'link', 'set', 'm4h3s', 'down']);
  try {
    const r = await job.result;
    assert.equal(r.signal, null, 'the launcher ended by itself');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /lost the control connection to rank 1 on host "m4h3" \(host down or network cut\?\); stopping the job|lost the ssh session to host "m4h3" running rank 1/);
    // The bound is about 15 s of keep-alive plus 5 s of grace; allow for a loaded machine.
    assert.ok(Date.now() - cut < 60_000, `the job took ${Date.now() - cut} ms to notice`);
  } finally {
    spawnSync('ip', ['-n', 'm4hsw', 'link', 'set', 'm4h3s', 'up']);
  }
  assert.deepEqual(await c.leftovers(30_000, ['m4h3', 'm4h4']), []);
}

async function ctrlC(c: Cluster): Promise<void> {
  // Launcher on m4h4 with one rank, two ranks on m4h3: the hosts linkCut has just left clean.
  const job = c.run(['--host', 'm4h4,m4h3:2', '--ssh', c.ssh], program('fail.ts'), { args: ['hang', '0'], on: 'm4h4' });
  await job.lines(/^ready \d$/, 3);
  process.kill(job.pid, 'SIGINT');
  const r = await job.result;
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /interrupted by SIGINT; stopping 3 rank\(s\)/);
  assert.deepEqual(await c.leftovers(15_000, ['m4h3', 'm4h4']), []);
  assert.deepEqual(await strays(r.marker), []);
}

async function unreachable(c: Cluster): Promise<void> {
  const unreachable = await c.run(['--host', 'm4h1,10.77.0.99', '--ssh', c.ssh, '--ssh-timeout', '3'], example('helloworld.ts')).result;
  assert.equal(unreachable.code, 255, unreachable.stderr);
  assert.match(unreachable.stderr, /mpi4ts: cannot start rank 1 on host "10\.77\.0\.99" over ssh \(ssh exited with code 255\): ssh: connect to host 10\.77\.0\.99 port 22: (No route to host|Connection timed out); check that "ssh 10\.77\.0\.99 true" works without a password/);
  assert.doesNotMatch(unreachable.stderr, /\n\s+at /, 'no stack trace');
  const badConfig = join(c.dir, 'ssh_config-nokey');
  writeFileSync(badConfig, `Host *\n  User root\n  IdentityFile ${join(c.dir, 'no-such-key')}\n  IdentitiesOnly yes\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n`);
  const denied = await c.run(['--host', 'm4h1,10.77.0.2', '--ssh', `ssh -F ${badConfig}`], example('helloworld.ts')).result;
  assert.equal(denied.code, 255, denied.stderr);
  assert.match(denied.stderr, /cannot start rank 1 on host "10\.77\.0\.2" over ssh \(ssh exited with code 255\): root@10\.77\.0\.2: Permission denied \(publickey\)/);
  assert.deepEqual(await c.leftovers(15_000, ['m4h1', 'm4h2']), []);
}

async function badHostLists(c: Cluster): Promise<void> {
  const machines = join(c.dir, 'machines-bad');
  writeFileSync(machines, 'm4h1:2\nm4h2 slots=two\n');
  const bad = await c.run(['--machinefile', machines, '--ssh', c.ssh], example('helloworld.ts')).result;
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^mpi4ts: .*machines-bad:2: expected slots to be a whole number from 1 to 1000000, got "two"\n$/);
  const full = await c.run(['-n', '9', '--host', 'm4h1:4,m4h2:4', '--ssh', c.ssh], example('helloworld.ts')).result;
  assert.equal(full.code, 2);
  assert.match(full.stderr, /-n 9 needs 9 slots but the hosts offer 8 \(m4h1:4, m4h2:4\); .* --oversubscribe/);
}

async function strangers(c: Cluster): Promise<void> {
  const job = c.run(['--host', 'm4h1,m4h2:2', '--ssh', c.ssh, '--port-range', '41000-41099'], program('gate.ts'));
  await job.lines(/^ready \d m4h\d$/, 3);
  const targets = ['m4h1', 'm4h2'].flatMap((host) => listeningPorts(host, job.marker));
  for (const t of targets) {
    const port = Number(t.address.slice(t.address.lastIndexOf(':') + 1));
    assert.ok(port >= 41000 && port <= 41099, `${t.address} is outside --port-range 41000-41099`);
  }
  assert.ok(targets.filter((t) => !t.launcher).length >= 2, `rank ports found: ${JSON.stringify(targets)}`);
  const out = await c.exec('m4h1', [process.execPath, join(ROOT, 'test', 'cluster', 'stranger.mjs'),
    ...targets.map((t) => `${t.launcher ? 'launcher' : 'rank'}:${t.address}`)]);
  const pokes = JSON.parse(out) as { target: string; role: string; garbage: Poke; wrongKey: Poke; silent: Poke | null }[];
  assert.equal(pokes.length, targets.length);
  for (const poke of pokes) {
    assert.ok(poke.garbage.closedByRank, `${poke.role} ${poke.target} kept a garbage connection`);
    assert.ok(poke.wrongKey.closedByRank, `${poke.role} ${poke.target} kept a connection with a wrong key proof`);
    if (poke.role === 'rank') assert.ok(poke.silent?.closedByRank, `${poke.target} kept a silent connection past the handshake timeout`);
  }
  job.write('go\n');
  const r = await job.result;
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\n').filter((l) => l.startsWith('ok ')).sort(), ['ok 0', 'ok 1', 'ok 2']);
}

interface Poke {
  closedByRank: boolean;
  received: number;
}

/** TCP ports that processes of job `marker` listen on in `host`, as ADDRESS:PORT. */
function listeningPorts(host: string, marker: string): { address: string; launcher: boolean }[] {
  const ss = spawnSync('ip', ['netns', 'exec', host, 'ss', '-ltnpH'], { encoding: 'utf8' }).stdout;
  return ss.split('\n').flatMap((line) => {
    const pid = /pid=(\d+)/.exec(line)?.[1];
    const address = line.trim().split(/\s+/)[3];
    if (pid === undefined || address === undefined) return [];
    const args = spawnSync('ps', ['-o', 'args=', '-p', pid], { encoding: 'utf8' }).stdout;
    if (!args.includes(marker)) return [];
    return [{ address, launcher: args.includes(' run ') }];
  });
}
