import { test } from 'node:test';
import assert from 'node:assert/strict';
import { example, mpi4ts, sortedLines } from '../helpers.js';

const hello = example('helloworld.ts');
const badRuns: [string[], RegExp][] = [
  [['--map-by', 'board'], /--map-by must be one of slot, node, hwthread, core, numa, socket, got "board"/],
  [['--hostfile', 'machines', '--host', 'a'], /give either --hostfile or --host, not both/],
  [['-f', 'no/such/machines'], /cannot read hostfile "no\/such\/machines": ENOENT/],
  [['--host', 'a:2,b:x'], /--host "a:2,b:x": expected slots to be a whole number from 1 to 1000000, got "x"/],
  [['--ppn', '0', '--host', 'a'], /--ppn must be a whole number from 1 to 100000, got "0"/],
  [['-n', '3', '--host', 'localhost:2'], /-n 3 needs 3 slots but the hosts offer 2 \(localhost:2\); add hosts or slots, or allow more ranks than slots with --oversubscribe/],
  [['--host', '192.0.2.10', '--iface', 'nosuch0'], /--iface "nosuch0": no such network interface here \(interfaces: .*lo/],
  [['--host', '192.0.2.10', '--net', '300.1.1.1/8'], /--net "300.1.1.1\/8" must be an address block like 10.1.0.0\/16 or fd00::\/64/],
  [['--host', '192.0.2.10', '--net', '198.51.100.0/24'], /--net "198.51.100.0\/24": no address of this host is in it \(addresses here: .*127.0.0.1/],
  [['--port-range', '5-2'], /--port-range "5-2" must be LO-HI with 1 <= LO <= HI <= 65535/],
  [['--host', '192.0.2.10', '--ssh', '  '], /--ssh must name an ssh command, got " {2}"/],
  [['--host', '192.0.2.10', '--ssh-timeout', '0'], /--ssh-timeout must be a positive number of seconds, got "0"/],
];

for (const [options, message] of badRuns) {
  test(`mpi4ts run ${options.join(' ')}: a clear error, exit code 2`, async () => {
    const r = await mpi4ts(['run', ...options, hello]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace for a usage error');
  });
}

test('a host list naming only this machine runs every rank locally, one per slot', async () => {
  const r = await mpi4ts(['run', '--host', 'localhost:2,127.0.0.1', '--port-range', '42000-42999', hello]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(sortedLines(r.stdout).length, 3);
  assert.match(r.stdout, /I am process 2 of 3/);
});

test('run --help documents the multi-host options', async () => {
  const r = await mpi4ts(['run', '--help']);
  for (const option of ['--hostfile', '--machinefile', '--host', '--map-by', '--ppn', '--oversubscribe', '--ssh', '--node', '--iface', '--net', '--port-range']) {
    assert.ok(r.stdout.includes(option), `--help lacks ${option}`);
  }
});
