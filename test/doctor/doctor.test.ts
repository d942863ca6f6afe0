/** mpi4ts doctor with a fake runner: each check's ok/warn/fail texts, skips, the JSON shape and exit codes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHECK_IDS, formatHuman, formatJson, runDoctor, type DoctorOptions, type ExecResult, type Runner } from '../../src/doctor/index.js';
import { doctorOptions } from './fakes.js';
import type { Facts } from '../../src/doctor/probe.js';
import { clockCheck, hostnameCheck, isValidHostName, mpiCheck, nodeCheck, powerCheck, programCheck, resolveCheck } from '../../src/doctor/facts-checks.js';
import { sshCheck } from '../../src/doctor/ssh-checks.js';
import { mpi4ts } from '../helpers.js';

function facts(over: Partial<Facts> = {}): Facts {
  return {
    hostname: 'pi1', resolved: { pi1: ['10.0.0.1'], pi2: ['10.0.0.2'] }, node: 'v20.1.0', nodePath: '/usr/bin/node',
    mpi4tsVersion: '0.1.0', program: null, tsx: null, time: 1000, home: '/home/pi',
    modes: { '/home/pi': 0o755, '/home/pi/.ssh': 0o700, '/home/pi/.ssh/authorized_keys': 0o600 },
    power: { pi: false, throttled: null, source: '', underVoltageNow: null }, mpi: [], ...over,
  };
}

const done = (stdout: string, code = 0, stderr = ''): ExecResult => ({ code, stdout, stderr, timedOut: false });

/** A runner that answers `true`, the probe, ssh -G and the port probes from a table of host facts. */
function fakeRunner(hostFacts: Record<string, Facts | 'ssh-fails' | 'no-node'>, refused: string[] = []): Runner {
  return {
    async exec(host, argv) {
      const f = hostFacts[host] ?? facts({ hostname: 'launcher' });
      if (argv[0] === 'true') return f === 'ssh-fails' ? done('', 255, `ssh: connect to host ${host} port 22: Connection refused`) : done('');
      if (argv.includes('-G')) return done('identityfile ~/.ssh/id_ed25519\n');
      if (argv[1] === '-e' && argv[2]!.includes('net.connect')) {
        const targets = JSON.parse(argv[3]!) as { to: string }[];
        return done(JSON.stringify(targets.map((t) => ({ to: t.to, error: refused.includes(t.to) ? 'ECONNREFUSED' : null }))));
      }
      if (f === 'no-node') return done('', 127, 'sh: 1: /usr/bin/node: not found');
      return done(JSON.stringify(f));
    },
    open() {
      return { firstLine: Promise.resolve('{"port":40001}'), close() {} };
    },
  };
}

function options(hosts: string[], runner: Runner, over: Partial<DoctorOptions> = {}): DoctorOptions {
  return doctorOptions(hosts, runner, over);
}

test('hostname: RFC 1123; "_" is invalid and the fix says "-" is fine', () => {
  assert.equal(isValidHostName('pi-01'), true);
  assert.equal(isValidHostName('akshay_001'), false);
  assert.equal(isValidHostName('-pi'), false);
  const bad = hostnameCheck('akshay_001', facts({ hostname: 'akshay_001', resolved: {} }));
  assert.equal(bad.status, 'fail');
  assert.equal(bad.detail, 'the host calls itself "akshay_001", which is not a valid host name (RFC 1123)');
  assert.match(bad.fix, /'_' is invalid \(the old advice to replace '-' by '_' is wrong: '-' is fine\)/);
  assert.match(bad.fix, /sudo hostnamectl set-hostname akshay-001/);
  const unresolved = hostnameCheck('pi1', facts({ resolved: { pi1: 'ENOTFOUND' } }));
  assert.equal(unresolved.detail, 'the host\'s own name "pi1" does not resolve there (ENOTFOUND)');
  assert.match(unresolved.fix, /add a line "127\.0\.1\.1 pi1"/);
  assert.equal(hostnameCheck('pi1', facts()).status, 'ok');
});

test('resolve: a name that does not resolve, or resolves elsewhere than on the launcher', () => {
  const launcher = { pi1: ['10.0.0.1'], pi2: ['10.0.0.2'] };
  assert.equal(resolveCheck('pi1', facts(), ['pi1', 'pi2'], launcher).status, 'ok');
  const other = resolveCheck('pi1', facts({ resolved: { pi2: ['10.9.9.9'] } }), ['pi1', 'pi2'], launcher);
  assert.equal(other.detail, '"pi2" resolves to 10.9.9.9 there but to 10.0.0.2 on the launching host');
  assert.match(other.fix, /make the line for pi2 in \/etc\/hosts on pi1 read "10\.0\.0\.2 pi2"/);
  const here = resolveCheck('pi3', null, ['pi3'], { pi3: 'ENOTFOUND' });
  assert.equal(here.detail, 'this host cannot resolve "pi3" (ENOTFOUND)');
});

test('ssh: the likely cause from ssh\'s own words', () => {
  assert.match(sshCheck('pi2', done('', 255, 'Permission denied (publickey,password).'), 10).fix, /ssh-copy-id pi2/);
  assert.match(sshCheck('pi2', done('', 255, 'ssh: connect to host pi2 port 22: Connection refused'), 10).fix, /sshd is not running on pi2/);
  assert.match(sshCheck('pi2', done('', 255, '@@@\nWARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!'), 10).fix, /ssh-keygen -R pi2/);
  const slow = sshCheck('pi2', { code: null, stdout: '', stderr: '', timedOut: true }, 10);
  assert.equal(slow.detail, 'ssh pi2 true did not finish within 10 s');
});

test('node, program, clock, mpi', () => {
  assert.equal(nodeCheck('pi1', facts({ node: 'v18.0.0' }), 'v20.5.0').detail, '/usr/bin/node is Node v18.0.0; the launcher runs Node v20.5.0');
  assert.equal(nodeCheck('pi1', facts(), 'v20.5.0').status, 'ok');
  assert.equal(programCheck('pi1', facts({ program: 'missing' }), '/home/pi/a.ts').detail, '/home/pi/a.ts does not exist on pi1');
  assert.equal(clockCheck('pi1', facts({ time: 5000 }), 1000, 1000).detail, 'the clock of pi1 is 4.0 s ahead of the launching host');
  assert.equal(clockCheck('pi1', facts({ time: 1500 }), 1000, 1000).status, 'ok');
  // Read anywhere between sending and answer: a slow probe (2.4 s) is not skew; outside it, the excess is.
  assert.equal(clockCheck('pi1', facts({ time: 3300 }), 1000, 3400).status, 'ok');
  assert.equal(clockCheck('pi1', facts({ time: 5000 }), 1000, 3400).detail, 'the clock of pi1 is 1.6 s ahead of the launching host');
  assert.equal(clockCheck('pi1', facts({ time: 0 }), 2000, 2500).detail, 'the clock of pi1 is 2.0 s behind the launching host');
  const two = mpiCheck('pi1', facts({ mpi: [
    { name: 'mpiexec', path: '/usr/bin/mpiexec', real: '/usr/bin/mpiexec.hydra', version: 'HYDRA build details:' },
    { name: 'mpirun', path: '/usr/bin/mpirun', real: '/usr/bin/orterun', version: 'mpirun (Open MPI) 4.1.4' }] }));
  assert.equal(two.status, 'warn');
  assert.equal(two.detail, 'mpiexec is MPICH (/usr/bin/mpiexec.hydra); mpirun is Open MPI (/usr/bin/orterun)');
});

test('power: not a Pi, under-voltage now, since boot', () => {
  assert.equal(powerCheck('x', facts()).detail, 'not a Raspberry Pi');
  const pi = (throttled: number): Facts => facts({ power: { pi: true, throttled, source: '/fake', underVoltageNow: null } });
  assert.equal(powerCheck('pi1', pi(0x50005)).status, 'fail');
  assert.equal(powerCheck('pi1', pi(0x50005)).detail, 'under-voltage now (get_throttled=0x50005, from /fake)');
  assert.equal(powerCheck('pi1', pi(0x50000)).detail, 'under-voltage since boot, not now (get_throttled=0x50000, from /fake)');
  assert.equal(powerCheck('pi1', pi(0)).status, 'ok');
});

test('a host whose ssh fails: every later check says "skipped: ssh to HOST failed"; exit status false', async () => {
  const report = await runDoctor(options(['pi1', 'pi2'], fakeRunner({ pi1: facts(), pi2: 'ssh-fails' }), { launcherNodeVersion: 'v20.5.0' }));
  assert.equal(report.ok, false);
  const pi2 = report.checks.filter((c) => c.host === 'pi2');
  assert.equal(pi2.find((c) => c.check === 'ssh')!.status, 'fail');
  for (const id of ['hostname', 'node', 'mpi4ts', 'ports', 'clock', 'power', 'mpi']) {
    assert.deepEqual(pi2.find((c) => c.check === id), { host: 'pi2', check: id, status: 'fail', detail: 'skipped: ssh to pi2 failed', fix: 'fix the ssh check of pi2 first' });
  }
  assert.ok(report.checks.filter((c) => c.host === 'pi1').every((c) => c.status === 'ok'), formatHuman(report, false));
});

test('a refused port is named with its host pair', async () => {
  // Dialled at the launcher's address for pi2, as ranks dial published addresses, never by name.
  const report = await runDoctor(options(['pi1', 'pi2'], fakeRunner({ pi1: facts(), pi2: facts({ hostname: 'pi2' }) }, ['10.0.0.2'])));
  const ports = report.checks.find((c) => c.host === 'pi2' && c.check === 'ports')!;
  assert.equal(ports.status, 'fail');
  assert.equal(ports.detail, 'pi1 -> pi2 (10.0.0.2):40001 refused (ECONNREFUSED: a firewall rejects it, or the address is another machine)');
  assert.match(ports.fix, /sudo ufw allow 40000:40100\/tcp/);
});

test('node missing: the node check fails, later ones are skipped', async () => {
  const report = await runDoctor(options(['pi1'], fakeRunner({ pi1: 'no-node' })));
  const node = report.checks.find((c) => c.check === 'node')!;
  assert.equal(node.detail, 'cannot run /usr/bin/node on pi1: sh: 1: /usr/bin/node: not found');
  assert.equal(report.checks.find((c) => c.check === 'mpi4ts')!.detail, 'skipped: node on pi1 failed');
});

test('the JSON document: ok and checks with exactly host, check, status, detail, fix', async () => {
  const report = await runDoctor(options(['pi1'], fakeRunner({ pi1: facts() })));
  const doc = JSON.parse(formatJson(report)) as { ok: boolean; checks: Record<string, string>[] };
  assert.equal(doc.ok, true);
  for (const c of doc.checks) {
    assert.deepEqual(Object.keys(c), ['host', 'check', 'status', 'detail', 'fix']);
    assert.ok((CHECK_IDS as readonly string[]).includes(c.check!));
  }
  assert.deepEqual(doc.checks.map((c) => c.check), CHECK_IDS.filter((id) => id !== 'program'));
});

test('mpi4ts doctor --json on this machine alone: exit 0 or 1, every check for localhost', async () => {
  const r = await mpi4ts(['doctor', '--json']);
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  const doc = JSON.parse(r.stdout) as { ok: boolean; checks: { host: string; check: string; status: string }[] };
  assert.equal(doc.ok, r.code === 0);
  assert.deepEqual(doc.checks.map((c) => c.check), CHECK_IDS.filter((id) => id !== 'program'));
  assert.ok(doc.checks.every((c) => c.host === 'localhost'));
});

test('power through MPI4TS_DOCTOR_THROTTLED_FILE: under-voltage now fails the run (exit 1)', async () => {
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const dir = mkdtempSync('/tmp/doctor-');
  writeFileSync(`${dir}/get_throttled`, '50005\n');
  const r = await mpi4ts(['doctor', '--json'], { env: { MPI4TS_DOCTOR_THROTTLED_FILE: `${dir}/get_throttled` } });
  assert.equal(r.code, 1);
  const power = (JSON.parse(r.stdout) as { checks: { check: string; status: string; detail: string }[] }).checks.find((c) => c.check === 'power')!;
  assert.equal(power.status, 'fail');
  assert.equal(power.detail, `under-voltage now (get_throttled=0x50005, from ${dir}/get_throttled)`);
});

const usageErrors: [string[], RegExp][] = [
  [['doctor', '--bogus'], /unknown option "--bogus" for "mpi4ts doctor"/],
  [['doctor', '--host', 'a', '-f', 'x'], /give either --hostfile or --host, not both/],
  [['doctor', '--port-range', '9-1'], /--port-range "9-1" must be LO-HI/],
  [['doctor', '--iface', 'nosuch0'], /--iface "nosuch0": no such network interface/],
  [['doctor', 'a.ts', 'b.ts'], /doctor takes at most one program/],
  [['doctor', '-f', '/no/such/hostfile'], /no\/such\/hostfile/],
];
for (const [argv, message] of usageErrors) {
  test(`mpi4ts ${argv.join(' ')}: usage error, exit 2`, async () => {
    const r = await mpi4ts(argv);
    assert.equal(r.code, 2);
    assert.match(r.stderr, message);
  });
}
