// comm.spawn under Hydra's PMI-1 (src/runtime/pmi1-spawn.ts): the spawn command's lines, the
// parent root's rendezvous with child 0 (proofs both ways, strangers dropped), the preput's checks.
// The real thing runs under mpiexec.hydra in test/interop/hydra.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { joinParents, parentPreputOf, spawnCommandLines, SpawnRendezvous, type ParentPreput } from '../../src/runtime/pmi1-spawn.js';
import type { PeerAddress, SpawnCommand } from '../../src/wire/index.js';

const command = (over: Partial<SpawnCommand> = {}): SpawnCommand =>
  ({ script: 'w.ts', path: '/job/w.ts', args: ['a b', 'x=1'], maxprocs: 2, env: {}, hosts: [], ...over });
const node = { execPath: '/usr/bin/node', execArgv: ['--import', 'tsx'] };

test('spawnCommandLines: one segment per command, args, preputs, wdir and host as info keys, env through env', () => {
  const got = spawnCommandLines([command(), command({ path: '/job/v.ts', args: [], maxprocs: 1, env: { K: 'v' }, hosts: ['h1', 'h2'] })],
    [['p-0-n', '1'], ['p-0-0', 'abc']], '/job', node);
  assert.deepEqual(got, { lines: [
    'mcmd=spawn', 'nprocs=2', 'execname=/usr/bin/node', 'totspawns=2', 'spawnssofar=1', 'argcnt=5',
    'arg1=--import', 'arg2=tsx', 'arg3=/job/w.ts', 'arg4=a b', 'arg5=x=1',
    'preput_num=2', 'preput_key_0=p-0-n', 'preput_val_0=1', 'preput_key_1=p-0-0', 'preput_val_1=abc',
    'info_num=1', 'info_key_0=wdir', 'info_val_0=/job', 'endcmd',
    'mcmd=spawn', 'nprocs=1', 'execname=env', 'totspawns=2', 'spawnssofar=2', 'argcnt=5',
    'arg1=K=v', 'arg2=/usr/bin/node', 'arg3=--import', 'arg4=tsx', 'arg5=/job/v.ts',
    'preput_num=2', 'preput_key_0=p-0-n', 'preput_val_0=1', 'preput_key_1=p-0-0', 'preput_val_1=abc',
    'info_num=2', 'info_key_0=wdir', 'info_val_0=/job', 'info_key_1=host', 'info_val_1=h1,h2', 'endcmd',
  ] });
  assert.deepEqual(spawnCommandLines([command({ args: ['two\nlines'] })], [], '/job', node),
    { problem: 'a line break in "two\\nlines": PMI-1\'s spawn command is one word a line' });
});

function address(rank: number): PeerAddress {
  return { rank, host: `h${rank}`, hostId: 'x', tcpHost: '127.0.0.1', tcpPort: 1000 + rank, unixPath: '', pid: 1 };
}

test('the rendezvous: a stranger failing the proof is dropped, child 0 proves the key, sends its table, gets the parents\' back', async () => {
  const key = randomBytes(32);
  const rendezvous = await SpawnRendezvous.open('127.0.0.1', null, key, 5, 2);
  const children = rendezvous.children(5000);
  // A stranger: wrong proof, dropped without a word; the wait goes on.
  const stranger = connect({ host: '127.0.0.1', port: rendezvous.port });
  stranger.on('error', () => {});
  stranger.write(`${'00'.repeat(32)}\n[]\n`);
  await new Promise((resolve) => stranger.once('close', resolve));
  const preput: ParentPreput = { key: key.toString('hex'), base: 5, group: [0, 3], context: 4, host: '127.0.0.1', port: rendezvous.port, nonce: rendezvous.nonce };
  const joined = joinParents(preput, key, [address(5), address(6)]);
  assert.deepEqual((await children).map((a) => a.rank), [5, 6]);
  rendezvous.go([address(0), address(3)]);
  assert.deepEqual((await joined).map((a) => a.rank), [0, 3]);
});

test('the rendezvous: a child with another key is refused by the root; no child in time is an error naming the wait', async () => {
  const key = randomBytes(32);
  const rendezvous = await SpawnRendezvous.open('127.0.0.1', null, key, 2, 1);
  const children = rendezvous.children(300);
  const preput: ParentPreput = { key: key.toString('hex'), base: 2, group: [0], context: 4, host: '127.0.0.1', port: rendezvous.port, nonce: rendezvous.nonce };
  await assert.rejects(joinParents(preput, randomBytes(32), [address(2)]), /sent no parents' addresses/);
  await assert.rejects(children, { code: 'MPI4TS_ERR_JOB', message: 'the 1 child process(es) did not report to their parents within 0.3 s (does their program import mpi4ts? MPI4TS_SPAWN_TIMEOUT sets the limit)' });
});

test('parentPreputOf: a malformed preput is an error quoting it', () => {
  assert.throws(() => parentPreputOf('not json'), /^JobError: PMI-1: the spawn's mpi4ts-parent is not JSON/);
  assert.throws(() => parentPreputOf('{"key":"ab","base":1}'), { message: 'PMI-1: the spawn\'s mpi4ts-parent is malformed: {"key":"ab","base":1}' });
  const ok = { key: 'a'.repeat(64), base: 2, group: [0, 1], context: 6, host: 'h', port: 1, nonce: 'n' };
  assert.deepEqual(parentPreputOf(JSON.stringify(ok)), ok);
});

test('the rendezvous listens in MPI4TS_PORT_RANGE, and says so when no port there is free', async () => {
  const key = randomBytes(32);
  const taken = await SpawnRendezvous.open('127.0.0.1', null, key, 1, 1);
  const inRange = await SpawnRendezvous.open('127.0.0.1', [taken.port, taken.port + 1], key, 1, 1);
  assert.equal(inRange.port, taken.port + 1);
  await assert.rejects(SpawnRendezvous.open('127.0.0.1', [taken.port, taken.port], key, 1, 1),
    { message: new RegExp(`^cannot listen on 127\\.0\\.0\\.1, ports ${taken.port}-${taken.port} \\(MPI4TS_PORT_RANGE\\) for the children: listen EADDRINUSE`) });
  taken.close();
  inRange.close();
});
