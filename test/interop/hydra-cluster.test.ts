/**
 * MPICH's mpiexec.hydra across the namespace cluster (test/cluster/cluster.sh):
 * Hydra's ssh launcher starts one hydra_pmi_proxy per host, each proxy starts
 * that host's mpi4ts ranks, and the ranks find each other through the PMI-1
 * store; comm.spawn goes through Hydra's PMI-1 spawn to the other hosts.
 * Every host also has a `docker0` bridge with the same address, listed
 * before eth0, as on hosts running Docker: a rank that advertised the first
 * address it finds would give its peers one they cannot reach.
 * Needs root (network namespaces) and mpich; skipped otherwise, saying why.
 */
import { before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, CORE_COLL_CHECKS, example, okLines, p2pPassed, program } from '../helpers.js';
import { buildCluster, clusterTestOn, downAtExit, type Cluster, type RunOptions } from '../cluster/cluster.js';
import { ensureMpich, MPIEXEC, nodeArgs } from './programs.js';
import type { JobResult } from '../helpers.js';

/** Not m4h: test/multihost builds its own cluster, maybe at the same time. */
const PREFIX = 'hyd';
const HOSTS = 4;

let cluster: Cluster | string = 'not built yet';
before(async () => {
  const noMpich = ensureMpich();
  cluster = noMpich !== false ? noMpich : await buildCluster(HOSTS, PREFIX);
  if (typeof cluster !== 'string') await addDockerBridges(cluster);
});
downAtExit(() => cluster);

async function addDockerBridges(c: Cluster): Promise<void> {
  for (const host of c.hosts) {
    await c.exec(host, ['sh', '-c', 'ip link add docker0 type bridge && ip addr add 172.17.0.1/16 dev docker0 && ip link set docker0 up']);
  }
}

/** A Hydra machine file: each host with `slots` processes. */
function machineFile(c: Cluster, slots: number): string {
  const path = join(c.dir, `machinefile-${slots}`);
  writeFileSync(path, c.hosts.map((h) => `${h}:${slots}\n`).join(''));
  return path;
}

/** `mpiexec.hydra -launcher ssh ... -f <machinefile> -n np node <args...>` on the cluster's first host. */
function mpiexec(c: Cluster, np: number, slots: number, hydraOptions: string[], nodeArgv: string[], opts: RunOptions = {}): Promise<JobResult> {
  const command = [MPIEXEC, '-launcher', 'ssh', '-launcher-exec', c.sshProgram, ...hydraOptions,
    '-f', machineFile(c, slots), '-n', String(np), process.execPath, ...nodeArgv];
  return c.start(command, opts).result;
}

function clusterTest(name: string, body: (c: Cluster) => Promise<void>): void {
  clusterTestOn(() => cluster, name, body, async (c) => assert.deepEqual(await c.leftovers(), [], 'no process may be left on any host'));
}

clusterTest('helloworld: 8 ranks on 4 hosts, 2 each, placed by the machine file', async (c) => {
  const r = await mpiexec(c, 8, 2, [], nodeArgs(example('helloworld.ts'), []));
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => l !== '').sort((a, b) => rankOf(a) - rankOf(b));
  assert.deepEqual(lines, Array.from({ length: 8 }, (_, rank) => `Hello, World! I am process ${rank} of 8 on ${PREFIX}${Math.floor(rank / 2) + 1}.`));
});

function rankOf(line: string): number {
  return Number(/process (\d+) of/.exec(line)?.[1] ?? NaN);
}

clusterTest('mpi4ts info under -iface eth0: shared memory to the rank on the same host, TCP to the others', async (c) => {
  const r = await mpiexec(c, 4, 2, ['-iface', 'eth0'], [CLI, 'info']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  for (let rank = 0; rank < 4; rank++) {
    assert.ok(lines.includes(`bootstrap pmi1: rank ${rank} of 4 on ${PREFIX}${Math.floor(rank / 2) + 1}`), r.stdout);
  }
  for (const expected of ['0:self 1:shm 2:tcp 3:tcp', '0:shm 1:self 2:tcp 3:tcp', '0:tcp 1:tcp 2:self 3:shm', '0:tcp 1:tcp 2:shm 3:self']) {
    assert.ok(lines.includes(`transport per peer: ${expected}`), `${expected}\n${r.stdout}`);
  }
});

clusterTest('the p2p checks pass with 4 ranks, one per host', async (c) => {
  const r = await mpiexec(c, 4, 1, [], nodeArgs(program('p2p.ts'), []));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(okLines(r.stdout).length, p2pPassed().length, r.stdout);
});

clusterTest('the core collective checks pass with 4 ranks on 2 hosts, 2 each (shared memory and TCP)', async (c) => {
  const r = await mpiexec(c, 4, 2, [], nodeArgs(program('coll.ts'), CORE_COLL_CHECKS));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(okLines(r.stdout), CORE_COLL_CHECKS);
});

clusterTest('a rank that throws on a remote host ends the job non-zero, with its error shown', async (c) => {
  const r = await mpiexec(c, 4, 1, [], nodeArgs(program('fail.ts'), ['throw', '3']), { killAfterMs: 60_000 });
  assert.equal(r.signal, null, `the job had to be killed:\n${r.stdout}\n${r.stderr}`);
  assert.notEqual(r.code, 0, r.stderr);
  // Once: the rank prints it before asking for the abort, and Node must not print it again.
  assert.equal(r.stderr.match(/Error: boom from rank 3/g)?.length, 1, r.stderr);
});

clusterTest('comm.spawn through Hydra\'s PMI-1 spawn across hosts: the children run on other hosts and reach their parent root there', async (c) => {
  const r = await mpiexec(c, 1, 1, ['-iface', 'eth0'], nodeArgs(program('spawn.ts'), ['where', '3']));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(okLines(r.stdout), ['where']);
  const hosts = (/^hosts: (\S+)$/m.exec(r.stdout)?.[1] ?? '').split(',');
  assert.equal(hosts.length, 3, r.stdout);
  assert.ok(hosts.every((h) => c.hosts.includes(h)) && hosts.some((h) => h !== c.hosts[0]), r.stdout);
});
