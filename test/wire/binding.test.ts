// CPU binding's shared part (src/wire/binding.ts): the request's encoding,
// topology from a /sys tree, and which CPUs each place gets, on made-up
// machines larger than this one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bindingFor, bindingPicture, bindRequestEnv, bindRequestOf, formatCpuList, objectsOf, parseCpuList, readTopology,
  type BindRequest, type Cpu } from '../../src/wire/index.js';

/** sockets x cores x threads, Linux numbering: thread t of core c of socket s is cpu t*(S*C) + s*C + c. */
function machine(sockets: number, cores: number, threads: number, numaPerSocket = 1): Cpu[] {
  const cpus: Cpu[] = [];
  for (let t = 0; t < threads; t++) {
    for (let s = 0; s < sockets; s++) {
      for (let c = 0; c < cores; c++) {
        cpus.push({ id: t * sockets * cores + s * cores + c, core: c, socket: s, numa: s * numaPerSocket + Math.floor(c / (cores / numaPerSocket)) });
      }
    }
  }
  return cpus.sort((a, b) => a.id - b.id);
}

function request(over: Partial<BindRequest>): BindRequest {
  return { bindTo: 'core', mapBy: 'core', localIndex: 0, localCount: 1, overload: false, report: false, ...over };
}

function cpusOf(cpus: Cpu[], over: Partial<BindRequest>, count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const b = bindingFor(request({ ...over, localIndex: i, localCount: count }), cpus);
    return b === null ? 'none' : `${b.what}=${formatCpuList(b.cpus)}`;
  });
}

test('CPU lists parse and print as the kernel writes them', () => {
  assert.deepEqual(parseCpuList('0-3,8,10-11\n'), [0, 1, 2, 3, 8, 10, 11]);
  assert.deepEqual(parseCpuList(''), []);
  assert.equal(formatCpuList([11, 0, 1, 2, 3, 8, 10]), '0-3,8,10-11');
  assert.throws(() => parseCpuList('0-x'), /bad CPU list "0-x"/);
});

test('objects: cores pair their hyperthreads; sockets and NUMA nodes group theirs', () => {
  const cpus = machine(2, 2, 2);
  assert.deepEqual(objectsOf(cpus, 'core'), [[0, 4], [1, 5], [2, 6], [3, 7]]);
  assert.deepEqual(objectsOf(cpus, 'socket'), [[0, 1, 4, 5], [2, 3, 6, 7]]);
  assert.deepEqual(objectsOf(cpus, 'hwthread').length, 8);
  assert.deepEqual(objectsOf(machine(1, 4, 1, 2), 'numa'), [[0, 1], [2, 3]]);
});

test('--map-by core: rank i on core i, bound to it, its socket or its first hardware thread', () => {
  const cpus = machine(2, 2, 2);
  assert.deepEqual(cpusOf(cpus, { bindTo: 'core', mapBy: 'core' }, 4), ['core 0=0,4', 'core 1=1,5', 'core 2=2,6', 'core 3=3,7']);
  assert.deepEqual(cpusOf(cpus, { bindTo: 'socket', mapBy: 'core' }, 3), ['socket 0=0-1,4-5', 'socket 0=0-1,4-5', 'socket 1=2-3,6-7']);
  assert.deepEqual(cpusOf(cpus, { bindTo: 'hwthread', mapBy: 'core' }, 2), ['hwthread 0=0', 'hwthread 1=1']);
  assert.deepEqual(cpusOf(cpus, { bindTo: 'none', mapBy: 'core' }, 2), ['none', 'none']);
});

test('--map-by socket: round robin over sockets, the k-th pass taking each socket\'s k-th core', () => {
  const cpus = machine(2, 2, 1);
  assert.deepEqual(cpusOf(cpus, { bindTo: 'core', mapBy: 'socket' }, 4), ['core 0=0', 'core 2=2', 'core 1=1', 'core 3=3']);
  assert.deepEqual(cpusOf(cpus, { bindTo: 'socket', mapBy: 'socket' }, 3), ['socket 0=0-1', 'socket 1=2-3', 'socket 0=0-1']);
});

test('more ranks than places: a JobError naming the counts and the way out, or shared places with overload allowed', () => {
  const cpus = machine(1, 2, 1);
  assert.throws(() => cpusOf(cpus, { bindTo: 'core', mapBy: 'core' }, 3),
    /--bind-to core --map-by core: 3 ranks on this host but only 2 cores \(usable CPUs 0-1\); start fewer ranks per host, use --bind-to none, or let ranks share them with --oversubscribe/);
  assert.deepEqual(cpusOf(cpus, { bindTo: 'core', mapBy: 'core', overload: true }, 3), ['core 0=0', 'core 1=1', 'core 0=0']);
  assert.throws(() => cpusOf(machine(2, 1, 1), { bindTo: 'core', mapBy: 'socket' }, 3), /3 ranks on this host but only 2 cores/);
  // --bind-to none never runs out.
  assert.deepEqual(cpusOf(cpus, { bindTo: 'none', mapBy: 'core' }, 5).length, 5);
});

test('the picture of a binding is Open MPI\'s: a bracket per socket, B for each bound core', () => {
  const cpus = machine(2, 2, 2);
  assert.equal(bindingPicture(cpus, [1, 5]), '[./B][./.]');
  assert.equal(bindingPicture(cpus, [2, 3, 6, 7]), '[./.][B/B]');
});

test('topology from a /sys tree and the allowed CPUs of /proc/self/status (a cpuset leaves some out)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mpi4ts-sys-'));
  try {
    for (const [cpu, core, socket] of [[0, 0, 0], [1, 1, 0], [2, 0, 1], [3, 1, 1]]) {
      mkdirSync(join(dir, 'cpu', `cpu${cpu}`, 'topology'), { recursive: true });
      writeFileSync(join(dir, 'cpu', `cpu${cpu}`, 'topology', 'core_id'), `${core}\n`);
      writeFileSync(join(dir, 'cpu', `cpu${cpu}`, 'topology', 'physical_package_id'), `${socket}\n`);
    }
    mkdirSync(join(dir, 'node', 'node1'), { recursive: true });
    writeFileSync(join(dir, 'node', 'node1', 'cpulist'), '2-3\n');
    const status = join(dir, 'status');
    writeFileSync(status, 'Name:\tnode\nCpus_allowed_list:\t1-3\n');
    assert.deepEqual(readTopology({ sys: dir, status }), [
      { id: 1, core: 1, socket: 0, numa: 0 }, { id: 2, core: 0, socket: 1, numa: 1 }, { id: 3, core: 1, socket: 1, numa: 1 }]);
    writeFileSync(status, 'Name:\tnode\n');
    assert.throws(() => readTopology({ sys: dir, status }), /has no Cpus_allowed_list/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('MPI4TS_BIND round-trips, and a malformed one is named with what is allowed', () => {
  const sent = request({ bindTo: 'socket', mapBy: 'numa', localIndex: 2, localCount: 5, overload: true, report: true });
  assert.deepEqual(bindRequestOf(bindRequestEnv(sent)), sent);
  assert.deepEqual(bindRequestEnv(request({})), { MPI4TS_BIND: 'core:core:0:1' });
  assert.equal(bindRequestOf({}), null);
  for (const bad of ['core', 'board:core:0:1', 'core:core:1:1', 'core:core:-1:2', 'core:core:0:2:maybe', 'core:core:0:2:overload:x']) {
    assert.throws(() => bindRequestOf({ MPI4TS_BIND: bad }), new RegExp(`MPI4TS_BIND="${bad}" must be BIND:MAP:INDEX:COUNT\\[:overload\\]`));
  }
});
