/**
 * mpi4ts doctor's checks, each text exact: ssh-key (the launcher's keys and
 * ~/.ssh, IdentityFile from `ssh -G`, the remote StrictModes modes), power from
 * vcgencmd, the firmware file and hwmon's in0_lcrit_alarm, mpi, node, mpi4ts
 * and program. A fake Runner stands in for ssh.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runDoctor, type Check, type DoctorOptions, type ExecResult, type Runner } from '../../src/doctor/index.js';
import { doctorOptions } from './fakes.js';
import { PROBE, parseFacts, type Facts } from '../../src/doctor/probe.js';
import { mpi4tsCheck, mpiCheck, nodeCheck, powerCheck, programCheck, remoteKeyProblems, sshKeyCheck } from '../../src/doctor/facts-checks.js';
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

/** Answers `true`, `ssh -G` (with `sshG`), the probe and the port probes; records every `ssh -G` asked. */
function fakeRunner(hostFacts: Record<string, Facts | 'key-refused'>, sshG = 'identityfile ~/.ssh/id_ed25519\n', asked: string[] = []): Runner {
  return {
    async exec(host, argv) {
      const f = hostFacts[host] ?? facts({ hostname: 'launcher' });
      if (argv[0] === 'true') return f === 'key-refused' ? done('', 255, `root@${host}: Permission denied (publickey).`) : done('');
      if (argv.includes('-G')) {
        asked.push(argv.join(' '));
        return done(`user me\nhostname ${argv.at(-1)}\n${sshG}port 22\n`);
      }
      if (argv[1] === '-e' && argv[2]!.includes('net.connect')) {
        const targets = JSON.parse(argv[3]!) as { to: string }[];
        return done(JSON.stringify(targets.map((t) => ({ to: t.to, error: null }))));
      }
      return done(JSON.stringify(f));
    },
    open() {
      return { firstLine: Promise.resolve('{"port":40001}'), close() {} };
    },
  };
}

function options(hosts: string[], runner: Runner, over: Partial<DoctorOptions> = {}): DoctorOptions {
  return doctorOptions(hosts, runner, { ssh: ['ssh', '-F', '/cfg'], ...over });
}

/** statMode from a table; every other path is absent. */
const modes = (table: Record<string, number>) => (p: string): number | null => table[p] ?? null;

const row = (checks: Check[], host: string, check: string): Check => {
  const found = checks.find((c) => c.host === host && c.check === check);
  assert.ok(found !== undefined, `no ${host} ${check} row`);
  return found;
};

const KEY_WHY = 'ssh ignores a private key others can read, and sshd (StrictModes) refuses keys when ~, ~/.ssh or authorized_keys can be written by others, ' +
  'so logins ask for a password, which batch mode cannot give; ';

test('ssh-key, this host: a private key readable by others and a ~/.ssh others can enter are each named with their chmod', async () => {
  const statMode = modes({ '/home/me/.ssh': 0o755, '/home/me/.ssh/id_ed25519': 0o644, '/home/me/.ssh/id_rsa': 0o600, '/home/me/.ssh/id_ecdsa': 0o640 });
  const report = await runDoctor(options([], fakeRunner({}), { statMode }));
  assert.deepEqual(row(report.checks, 'localhost', 'ssh-key'), {
    host: 'localhost', check: 'ssh-key', status: 'fail',
    detail: '/home/me/.ssh on this host has mode 0755; ' +
      'private key /home/me/.ssh/id_ecdsa has mode 0640 (ssh says "UNPROTECTED PRIVATE KEY FILE" and ignores it); ' +
      'private key /home/me/.ssh/id_ed25519 has mode 0644 (ssh says "UNPROTECTED PRIVATE KEY FILE" and ignores it)',
    fix: `${KEY_WHY}chmod 700 /home/me/.ssh; chmod 600 /home/me/.ssh/id_ecdsa; chmod 600 /home/me/.ssh/id_ed25519`,
  });
  assert.equal(report.ok, false);
  // Only ~/.ssh: group-readable (0750) is as bad as world-readable for ssh.
  const dirOnly = await runDoctor(options([], fakeRunner({}), { statMode: modes({ '/home/me/.ssh': 0o750, '/home/me/.ssh/id_ed25519': 0o600 }) }));
  const keys = row(dirOnly.checks, 'localhost', 'ssh-key');
  assert.equal(keys.detail, '/home/me/.ssh on this host has mode 0750');
  assert.equal(keys.fix, `${KEY_WHY}chmod 700 /home/me/.ssh`);
  const fine = await runDoctor(options([], fakeRunner({}), { statMode: modes({ '/home/me/.ssh': 0o700, '/home/me/.ssh/id_ed25519': 0o600 }) }));
  assert.deepEqual(row(fine.checks, 'localhost', 'ssh-key'),
    { host: 'localhost', check: 'ssh-key', status: 'ok', detail: 'keys and ~/.ssh of this host are private', fix: '' });
});

test('ssh-key, a remote host: the keys are the IdentityFile lines of ssh -G HOST (~ expanded), not the default names', async () => {
  const asked: string[] = [];
  const sshG = 'identityfile ~/.ssh/cluster_key\nidentityfile /keys/pi2_key\n';
  // id_ed25519 is unprotected too, but ssh -G says ssh offers pi2 other keys: it is not named.
  const statMode = modes({ '/home/me/.ssh': 0o700, '/home/me/.ssh/cluster_key': 0o604, '/keys/pi2_key': 0o600, '/home/me/.ssh/id_ed25519': 0o644 });
  const report = await runDoctor(options(['pi2'], fakeRunner({ pi2: facts({ hostname: 'pi2' }) }, sshG, asked), { statMode }));
  assert.deepEqual(asked, ['ssh -F /cfg -G pi2']);
  const keys = row(report.checks, 'pi2', 'ssh-key');
  assert.equal(keys.status, 'fail');
  assert.equal(keys.detail, 'private key /home/me/.ssh/cluster_key has mode 0604 (ssh says "UNPROTECTED PRIVATE KEY FILE" and ignores it)');
  assert.equal(keys.fix, `${KEY_WHY}chmod 600 /home/me/.ssh/cluster_key`);
  // Without IdentityFile lines, ssh offers the default keys.
  const none = await runDoctor(options(['pi2'], fakeRunner({ pi2: facts({ hostname: 'pi2' }) }, ''), { statMode }));
  assert.equal(row(none.checks, 'pi2', 'ssh-key').detail,
    'private key /home/me/.ssh/id_ed25519 has mode 0644 (ssh says "UNPROTECTED PRIVATE KEY FILE" and ignores it)');
});

test('ssh-key when ssh itself fails: an unprotected key is named (the likely cause), not skipped', async () => {
  const statMode = modes({ '/home/me/.ssh': 0o700, '/home/me/.ssh/id_ed25519': 0o644 });
  const report = await runDoctor(options(['pi2'], fakeRunner({ pi2: 'key-refused' }), { statMode }));
  assert.equal(row(report.checks, 'pi2', 'ssh').status, 'fail');
  const keys = row(report.checks, 'pi2', 'ssh-key');
  assert.equal(keys.status, 'fail');
  assert.equal(keys.detail, 'private key /home/me/.ssh/id_ed25519 has mode 0644 (ssh says "UNPROTECTED PRIVATE KEY FILE" and ignores it)');
  assert.equal(keys.fix, `${KEY_WHY}chmod 600 /home/me/.ssh/id_ed25519`);
  const clean = await runDoctor(options(['pi2'], fakeRunner({ pi2: 'key-refused' })));
  assert.equal(row(clean.checks, 'pi2', 'ssh-key').detail, 'skipped: ssh to pi2 failed');
});

const REMOTE_WHY = 'ssh to pi2 works now, but an sshd with StrictModes (the default) refuses keys when ~, ~/.ssh or authorized_keys can be written by others; ';

test('ssh-key, StrictModes on a remote host that still let us in: a home, ~/.ssh or authorized_keys others can write is a warning, named there with its chmod', async () => {
  const bad = facts({ hostname: 'pi2', modes: { '/home/pi': 0o775, '/home/pi/.ssh': 0o755, '/home/pi/.ssh/authorized_keys': 0o664 } });
  const report = await runDoctor(options(['pi1', 'pi2'], fakeRunner({ pi1: facts(), pi2: bad })));
  assert.deepEqual(row(report.checks, 'pi2', 'ssh-key'), {
    host: 'pi2', check: 'ssh-key', status: 'warn',
    detail: '/home/pi on pi2 has mode 0775; /home/pi/.ssh on pi2 has mode 0755; /home/pi/.ssh/authorized_keys on pi2 has mode 0664',
    fix: `${REMOTE_WHY}on pi2: chmod go-w /home/pi; on pi2: chmod 700 /home/pi/.ssh; on pi2: chmod 600 /home/pi/.ssh/authorized_keys`,
  });
  assert.deepEqual(row(report.checks, 'pi1', 'ssh-key'),
    { host: 'pi1', check: 'ssh-key', status: 'ok', detail: 'keys private here, ~ and ~/.ssh there as sshd requires', fix: '' });
  assert.equal(report.ok, true, 'a warning is no failure');
  // One at a time, each with only its own fix; world-writable counts as group-writable does.
  const one = (m: Record<string, number | null>): Check => sshKeyCheck('pi2', { problems: [], fixes: [] }, remoteKeyProblems('pi2', facts({ modes: m })));
  const home = one({ '/home/pi': 0o757, '/home/pi/.ssh': 0o700, '/home/pi/.ssh/authorized_keys': 0o600 });
  assert.equal(home.detail, '/home/pi on pi2 has mode 0757');
  assert.equal(home.fix, `${REMOTE_WHY}on pi2: chmod go-w /home/pi`);
  const dir = one({ '/home/pi': 0o755, '/home/pi/.ssh': 0o770 });
  assert.equal(dir.detail, '/home/pi/.ssh on pi2 has mode 0770');
  assert.equal(dir.fix, `${REMOTE_WHY}on pi2: chmod 700 /home/pi/.ssh`);
  const keys = one({ '/home/pi': 0o755, '/home/pi/.ssh': 0o700, '/home/pi/.ssh/authorized_keys': 0o620 });
  assert.equal(keys.detail, '/home/pi/.ssh/authorized_keys on pi2 has mode 0620');
  assert.equal(keys.fix, `${REMOTE_WHY}on pi2: chmod 600 /home/pi/.ssh/authorized_keys`);
  // What sshd accepts: a readable home and authorized_keys (0755, 0644), absent files; the local and remote halves together.
  assert.equal(one({ '/home/pi': 0o755, '/home/pi/.ssh': 0o700, '/home/pi/.ssh/authorized_keys': 0o644 }).status, 'ok');
  assert.equal(one({ '/home/pi': 0o755, '/home/pi/.ssh': null, '/home/pi/.ssh/authorized_keys': null }).status, 'ok');
  const both = sshKeyCheck('pi2', { problems: ['L'], fixes: ['chmod 600 K'] }, remoteKeyProblems('pi2', facts({ modes: { '/home/pi': 0o775 } })));
  assert.equal(both.detail, 'L; /home/pi on pi2 has mode 0775');
  assert.equal(both.fix, `${KEY_WHY}chmod 600 K; on pi2: chmod go-w /home/pi`);
});

test('ssh refused with "Permission denied": the fix names a missing key and, as sshd says no more, StrictModes', () => {
  assert.deepEqual(sshCheck('pi2', done('', 255, 'root@pi2: Permission denied (publickey).'), 10), { host: 'pi2', check: 'ssh', status: 'fail',
    detail: 'ssh pi2 true failed (exit 255): root@pi2: Permission denied (publickey).',
    fix: 'mpi4ts starts every rank of pi2 with ssh in batch mode, so it must log in without a password; ' +
      'no key is accepted: run ssh-copy-id pi2 (after ssh-keygen -t ed25519 if you have no key); ' +
      'if the key is there already, sshd (StrictModes) refuses it when ~, ~/.ssh or ~/.ssh/authorized_keys on pi2 can be written by others: ' +
      'there, chmod go-w ~; chmod 700 ~/.ssh; chmod 600 ~/.ssh/authorized_keys' });
});

const SUPPLY = 'an under-powered Pi slows down, resets or drops USB and Ethernet in the middle of a job; ' +
  'use the official supply (5 V 3 A for a Pi 4, 5 A for a Pi 5) and a short, thick cable, and do not power it from a hub';

test('power: throttled now, the hwmon alarm, and a Pi with no source', () => {
  const pi = (throttled: number | null, underVoltageNow: boolean | null = null, source = '/fake'): Facts =>
    facts({ power: { pi: true, throttled, source, underVoltageNow } });
  assert.deepEqual(powerCheck('pi1', pi(0x2)), { host: 'pi1', check: 'power', status: 'warn',
    detail: 'throttled or frequency-capped now (get_throttled=0x2, from /fake)',
    fix: 'a throttled Pi is the slow rank every other rank waits for; cool it (a heat sink or fan)' });
  assert.deepEqual(powerCheck('pi1', pi(0x10004)), { host: 'pi1', check: 'power', status: 'warn',
    detail: 'throttled or frequency-capped now (get_throttled=0x10004, from /fake)',
    fix: `a throttled Pi is the slow rank every other rank waits for; ${SUPPLY}` });
  assert.deepEqual(powerCheck('pi1', pi(0x20000)), { host: 'pi1', check: 'power', status: 'warn',
    detail: 'throttling since boot, not now (get_throttled=0x20000, from /fake)', fix: SUPPLY });
  assert.equal(powerCheck('pi1', pi(0x50005)).fix, SUPPLY);
  const alarm = '/sys/class/hwmon/hwmon1/in0_lcrit_alarm';
  assert.deepEqual(powerCheck('pi1', pi(null, true, alarm)),
    { host: 'pi1', check: 'power', status: 'fail', detail: `under-voltage now (${alarm} is 1)`, fix: SUPPLY });
  assert.deepEqual(powerCheck('pi1', pi(null, false, alarm)),
    { host: 'pi1', check: 'power', status: 'ok', detail: `no under-voltage now (${alarm})`, fix: '' });
  assert.deepEqual(powerCheck('pi1', pi(null, null, '')), { host: 'pi1', check: 'power', status: 'warn',
    detail: 'a Raspberry Pi, but neither vcgencmd nor the firmware\'s get_throttled could be read',
    fix: 'install vcgencmd on pi1 (sudo apt install libraspberrypi-bin) so power problems can be seen' });
});

/** `mpi4ts doctor --json` on this machine alone; its power row. */
async function powerRow(env: Record<string, string>): Promise<{ code: number | null; power: Check }> {
  const r = await mpi4ts(['doctor', '--json'], { env });
  const doc = JSON.parse(r.stdout) as { checks: Check[] };
  return { code: r.code, power: doc.checks.find((c) => c.check === 'power')! };
}

test('power through MPI4TS_DOCTOR_VCGENCMD: vcgencmd get_throttled is read first; unreadable output falls back to the firmware file', async () => {
  const dir = mkdtempSync('/tmp/doctor-vc-');
  const vcgencmd = join(dir, 'vcgencmd');
  writeFileSync(vcgencmd, '#!/bin/sh\n[ "$1" = get_throttled ] && echo throttled=0x50000\n');
  chmodSync(vcgencmd, 0o755);
  writeFileSync(join(dir, 'get_throttled'), '50005\n');
  const since = await powerRow({ MPI4TS_DOCTOR_VCGENCMD: vcgencmd, MPI4TS_DOCTOR_THROTTLED_FILE: join(dir, 'get_throttled') });
  assert.deepEqual(since.power, { host: 'localhost', check: 'power', status: 'warn',
    detail: `under-voltage since boot, not now (get_throttled=0x50000, from ${vcgencmd} get_throttled)`, fix: SUPPLY });
  const broken = join(dir, 'vcgencmd-broken');
  writeFileSync(broken, '#!/bin/sh\necho "VCHI initialization failed" >&2\nexit 255\n');
  chmodSync(broken, 0o755);
  const fallback = await powerRow({ MPI4TS_DOCTOR_VCGENCMD: broken, MPI4TS_DOCTOR_THROTTLED_FILE: join(dir, 'get_throttled') });
  assert.equal(fallback.code, 1);
  assert.deepEqual(fallback.power, { host: 'localhost', check: 'power', status: 'fail',
    detail: `under-voltage now (get_throttled=0x50005, from ${join(dir, 'get_throttled')})`, fix: SUPPLY });
});

// The probe's last source, /sys/class/hwmon/*/in0_lcrit_alarm, in a mount namespace of its own
// (a tmpfs over /sys/class), with a firmware file that does not exist.
const canUnshare = spawnSync('unshare', ['-m', 'true']).status === 0;
test('power through hwmon in0_lcrit_alarm, when there is neither vcgencmd nor the firmware file', { skip: canUnshare ? false : 'needs unshare -m (root)' }, () => {
  const probeIn = (alarm: string | null): Facts => {
    const input = JSON.stringify({ names: [], program: null, mpi4tsPackage: '/nonexistent/package.json', tsx: null,
      throttledFile: '/nonexistent/get_throttled', vcgencmd: null });
    const setup = 'mount -t tmpfs none /sys/class && mkdir -p /sys/class/hwmon/hwmon0 /sys/class/hwmon/hwmon1' +
      (alarm === null ? '' : ` && echo ${alarm} >/sys/class/hwmon/hwmon1/in0_lcrit_alarm`);
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `${setup} && exec "$0" -e "$1" "$2"`, process.execPath, PROBE, input],
      { encoding: 'utf8', env: { ...process.env, MPI4TS_DOCTOR_VCGENCMD: '', MPI4TS_DOCTOR_THROTTLED_FILE: '' } });
    const f = parseFacts(r.stdout);
    assert.ok(f !== null, `the probe printed no facts: ${r.stdout} ${r.stderr}`);
    return f;
  };
  const alarm = '/sys/class/hwmon/hwmon1/in0_lcrit_alarm';
  assert.deepEqual(powerCheck('pi1', probeIn('1')), { host: 'pi1', check: 'power', status: 'fail', detail: `under-voltage now (${alarm} is 1)`, fix: SUPPLY });
  assert.deepEqual(powerCheck('pi1', probeIn('0')), { host: 'pi1', check: 'power', status: 'ok', detail: `no under-voltage now (${alarm})`, fix: '' });
  assert.equal(powerCheck('pi1', probeIn(null)).status, 'warn');
});

test('mpi: mpiexec and mpirun of two implementations warn with the fix; one implementation twice is informational', () => {
  const two = mpiCheck('pi1', facts({ mpi: [
    { name: 'mpiexec', path: '/usr/bin/mpiexec', real: '/usr/bin/mpiexec.openmpi', version: 'mpiexec (Open MPI) 4.1.4' },
    { name: 'mpirun', path: '/usr/bin/mpirun', real: '/usr/bin/mpirun.mpich', version: 'HYDRA build details:' }] }));
  assert.deepEqual(two, { host: 'pi1', check: 'mpi', status: 'warn',
    detail: 'mpiexec is Open MPI (/usr/bin/mpiexec.openmpi); mpirun is MPICH (/usr/bin/mpirun.mpich)',
    fix: 'two MPI implementations on one PATH are the "overlapping MPI" trouble: mpiexec of one starts programs built for the other and they crash; ' +
      'mpi4ts run needs neither, but for other MPI programs keep one: sudo update-alternatives --config mpirun (and mpi), or remove the other package' });
  const one = mpiCheck('pi1', facts({ mpi: [
    { name: 'mpiexec', path: '/usr/bin/mpiexec', real: '/usr/bin/orterun', version: 'mpiexec (Open MPI) 4.1.4' },
    { name: 'mpirun', path: '/usr/bin/mpirun', real: '/usr/bin/orterun', version: 'mpirun (Open MPI) 4.1.4' }] }));
  assert.deepEqual(one, { host: 'pi1', check: 'mpi', status: 'ok',
    detail: 'mpiexec is Open MPI (/usr/bin/orterun); mpirun is Open MPI (/usr/bin/orterun) (informational: mpi4ts run needs neither)', fix: '' });
  assert.equal(mpiCheck('pi1', facts()).detail, 'no mpiexec or mpirun on PATH');
});

test('node: another major fails with the install and --node fixes; another minor is fine', () => {
  assert.deepEqual(nodeCheck('pi1', facts({ node: 'v18.20.4' }), 'v20.5.0'), { host: 'pi1', check: 'node', status: 'fail',
    detail: '/usr/bin/node is Node v18.20.4; the launcher runs Node v20.5.0',
    fix: 'ranks of different Node majors may disagree on structured clone and start-up; install Node 20.x at /usr/bin/node on pi1, ' +
      'or point mpi4ts at another Node there with --node PATH' });
  assert.equal(nodeCheck('pi1', facts({ node: 'v22.0.0' }), 'v20.5.0').status, 'fail');
  assert.deepEqual(nodeCheck('pi1', facts({ node: 'v20.1.0' }), 'v20.5.0'),
    { host: 'pi1', check: 'node', status: 'ok', detail: '/usr/bin/node is Node v20.1.0', fix: '' });
});

test('mpi4ts: missing, or another version, at the launcher\'s path fails', () => {
  assert.deepEqual(mpi4tsCheck('pi1', facts({ mpi4tsVersion: null }), '0.1.0', '/opt/mpi4ts/package.json'), { host: 'pi1', check: 'mpi4ts', status: 'fail',
    detail: 'no mpi4ts at /opt/mpi4ts/package.json on pi1',
    fix: 'ranks start the launcher\'s own mpi4ts path on every host; install mpi4ts 0.1.0 there (the same directory as on this host, e.g. rsync -a /opt/mpi4ts/ pi1:/opt/mpi4ts/)' });
  assert.deepEqual(mpi4tsCheck('pi1', facts({ mpi4tsVersion: '0.0.9' }), '0.1.0', '/opt/mpi4ts/package.json'), { host: 'pi1', check: 'mpi4ts', status: 'fail',
    detail: 'mpi4ts 0.0.9 at /opt/mpi4ts/package.json on pi1; the launcher is 0.1.0',
    fix: 'ranks of two versions may not speak the same control protocol; install mpi4ts 0.1.0 at that path on pi1' });
  assert.deepEqual(mpi4tsCheck('pi1', facts(), '0.1.0', '/opt/mpi4ts/package.json'),
    { host: 'pi1', check: 'mpi4ts', status: 'ok', detail: 'mpi4ts 0.1.0 at /opt/mpi4ts/package.json', fix: '' });
});

test('program: missing, not a file, or a .ts program without tsx fails', async () => {
  const copy = 'every rank runs the program at the same path; copy it there: rsync -a /home/pi/a.ts pi1:/home/pi/a.ts (or share the directory over NFS)';
  assert.deepEqual(programCheck('pi1', facts({ program: 'missing' }), '/home/pi/a.ts'),
    { host: 'pi1', check: 'program', status: 'fail', detail: '/home/pi/a.ts does not exist on pi1', fix: copy });
  assert.deepEqual(programCheck('pi1', facts({ program: 'not a file' }), '/home/pi/a.ts'),
    { host: 'pi1', check: 'program', status: 'fail', detail: '/home/pi/a.ts is not a file on pi1', fix: copy });
  assert.deepEqual(programCheck('pi1', facts({ program: 'file', tsx: false }), '/home/pi/a.ts'), { host: 'pi1', check: 'program', status: 'fail',
    detail: '/home/pi/a.ts is there, but the tsx loader mpi4ts starts .ts programs with is missing on pi1',
    fix: 'install mpi4ts with its dependencies (npm install) at the same path on pi1, or run a compiled .js program' });
  assert.equal(programCheck('pi1', facts({ program: 'file', tsx: true }), '/home/pi/a.ts').detail, '/home/pi/a.ts is there, and tsx to run it');
  assert.equal(programCheck('pi1', facts({ program: 'file', tsx: null }), '/home/pi/a.js').detail, '/home/pi/a.js is there');
  // Through runDoctor: the probe is asked for tsx only for a .ts program.
  const inputs: string[] = [];
  const runner = fakeRunner({ pi1: facts({ program: 'file', tsx: false }) });
  const spy: Runner = { ...runner, exec: (h, argv, o) => { if (argv[1] === '-e' && !argv[2]!.includes('net.connect')) inputs.push(argv[3]!); return runner.exec(h, argv, o); } };
  await runDoctor(options(['pi1'], spy, { program: '/home/pi/a.js', tsx: '/opt/mpi4ts/node_modules/tsx/dist/loader.mjs' }));
  await runDoctor(options(['pi1'], spy, { program: '/home/pi/a.ts', tsx: '/opt/mpi4ts/node_modules/tsx/dist/loader.mjs' }));
  assert.deepEqual(inputs.map((i) => (JSON.parse(i) as { tsx: string | null }).tsx),
    [null, null, '/opt/mpi4ts/node_modules/tsx/dist/loader.mjs', '/opt/mpi4ts/node_modules/tsx/dist/loader.mjs']);
});
