/**
 * `mpi4ts doctor` on a real cluster of namespace hosts (test/cluster/cluster.sh,
 * prefix `dr` so it never meets the other multi-host tests' m4h cluster): one
 * clean run, then one fault at a time (cluster.sh fault/heal), each run checking
 * that the doctor names exactly that host and that check as failed, and that
 * every other row reads as on the clean cluster. The doctor runs inside dr1,
 * under dr1's name, as a user on the first node would run it.
 * Needs root (network namespaces); elsewhere every test here is skipped and says why.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, ROOT } from '../helpers.js';
import { buildCluster, downAtExit, type Cluster, type FaultKind } from '../cluster/cluster.js';

const PREFIX = 'dr';
const SCRIPT = join(ROOT, 'test', 'cluster', 'cluster.sh');
const PROGRAM = join(ROOT, 'examples', 'helloworld.ts');
const RANGE = '41000-41099';
const FAKE_NODE = 'v18.20.4';

const cluster = await buildCluster(4, PREFIX);
downAtExit(() => cluster);

/** Why `mpi4ts doctor` cannot be run from dist, or null when it can. */
function doctorMissing(): string | null {
  if (!existsSync(CLI)) return `mpi4ts doctor is not built: ${CLI} is missing (npm run build)`;
  const help = spawnSync(process.execPath, [CLI, 'doctor', '--help'], { encoding: 'utf8', timeout: 10_000 });
  if (help.status !== 0 || !/doctor/.test(help.stdout)) {
    return `mpi4ts doctor is not built (node dist/cli/main.js doctor --help exited with ${help.status}: ${help.stderr.trim()}); run npm run build`;
  }
  return null;
}
const missing = typeof cluster === 'string' ? null : doctorMissing();

interface Row {
  host: string;
  check: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix: string;
}

interface DoctorRun {
  code: number | null;
  ok: boolean;
  checks: Row[];
  stderr: string;
  ms: number;
}

const CHECKS = ['hostname', 'resolve', 'ssh', 'ssh-key', 'node', 'mpi4ts', 'program', 'ports', 'clock', 'power', 'mpi'];

/** The machinefile, one form per line as a tutorial writes them. */
function machinefile(c: Cluster): string {
  const file = join(c.dir, 'machines');
  writeFileSync(file, '# the doctor cluster\ndr1:2\ndr2:2\ndr3 slots=2\n\ndr4:2\n');
  return file;
}

/** The fake firmware file the power check reads on every host ("0": never under-voltage). */
function throttledFile(c: Cluster): string {
  const file = join(c.dir, 'throttled');
  if (!existsSync(file)) writeFileSync(file, '0\n');
  return file;
}

const timings: number[] = [];

/** `mpi4ts doctor --json` over the whole cluster, run on dr1 under its name. */
function doctor(c: Cluster): Promise<DoctorRun> {
  if (missing !== null) assert.fail(missing);
  const argv = [SCRIPT, 'run', c.hosts[0]!, process.execPath, CLI, 'doctor', '--machinefile', machinefile(c),
    '--ssh', c.ssh, '--port-range', RANGE, '--json', PROGRAM];
  const started = Date.now();
  const child = spawn('sh', argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MPI4TS_DOCTOR_THROTTLED_FILE: throttledFile(c) } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  // A safety net: a doctor that hangs fails this test instead of the whole file's time budget.
  const killer = setTimeout(() => child.kill('SIGKILL'), 45_000);
  return new Promise((resolve, reject) => child.on('close', (code, signal) => {
    clearTimeout(killer);
    const ms = Date.now() - started;
    timings.push(ms);
    if (signal !== null) return reject(new Error(`mpi4ts doctor was killed by ${signal} after ${ms} ms (hung?)\n${stdout}\n${stderr}`));
    let report: { ok: boolean; checks: Row[] };
    try {
      report = JSON.parse(stdout) as { ok: boolean; checks: Row[] };
    } catch {
      return reject(new Error(`mpi4ts doctor --json printed no JSON document (exit ${code}):\n${stdout}\n${stderr}`));
    }
    resolve({ code, ok: report.ok, checks: report.checks, stderr, ms });
  }));
}

/** One line per row: host, check, status, and the detail when the row was skipped. */
function line(host: string, check: string, status: string, detail = ''): string {
  return `${host} ${check} ${status}${detail.startsWith('skipped: ') ? ` (${detail})` : ''}`;
}

function lines(run: DoctorRun): string[] {
  return run.checks.map((r) => line(r.host, r.check, r.status, r.detail));
}

let clean: DoctorRun | undefined;

async function baseline(c: Cluster): Promise<DoctorRun> {
  clean ??= await doctor(c);
  return clean;
}

interface Expected {
  host: string;
  check: string;
  status: 'ok' | 'warn' | 'fail';
  detail?: RegExp | string;
  fix?: RegExp | string;
}

/**
 * Asserts that `run` has exactly the rows of the clean run, each with the
 * clean run's status, but for `faults` (that status, detail and fix) and, on
 * every host of `unreachable` (ssh to it failed), every other check failed as
 * "skipped: ssh to HOST failed".
 */
function expectRows(run: DoctorRun, clean: DoctorRun, faults: Expected[], unreachable: string[] = []): void {
  const expected = clean.checks.map((r) => {
    const fault = faults.find((f) => f.host === r.host && f.check === r.check);
    if (fault !== undefined) return line(r.host, r.check, fault.status);
    if (unreachable.includes(r.host)) return line(r.host, r.check, 'fail', `skipped: ssh to ${r.host} failed`);
    return line(r.host, r.check, r.status, r.detail);
  });
  assert.deepEqual(lines(run), expected, `doctor's rows (exit ${run.code}):\n${JSON.stringify(run.checks, null, 1)}\n${run.stderr}`);
  for (const f of faults) {
    const row = run.checks.find((r) => r.host === f.host && r.check === f.check)!;
    if (f.detail !== undefined) matches(row.detail, f.detail, `${f.host} ${f.check} detail`);
    if (f.fix !== undefined) matches(row.fix, f.fix, `${f.host} ${f.check} fix`);
    if (f.status !== 'ok') assert.notEqual(row.fix, '', `${f.host} ${f.check} says how to fix it`);
  }
  const failed = expected.some((l) => / fail( |$)/.test(l));
  assert.equal(run.ok, !failed, 'ok is true exactly when no check failed');
  assert.equal(run.code, failed ? 1 : 0, `exit code\n${run.stderr}`);
}

function matches(text: string, want: RegExp | string, what: string): void {
  if (typeof want === 'string') assert.ok(text.includes(want), `${what} ${JSON.stringify(text)} should contain ${JSON.stringify(want)}`);
  else assert.match(text, want, what);
}

function doctorTest(name: string, body: (c: Cluster, t: TestContext) => Promise<void>): void {
  test(name, async (t) => {
    if (typeof cluster === 'string') {
      t.skip(cluster);
      return;
    }
    await body(cluster, t);
  });
}

/** A doctor run with one fault on, compared with the clean run. */
function faultTest(name: string, host: string, kind: FaultKind, args: string[], faults: (c: Cluster) => Expected[], unreachable: string[] = []): void {
  doctorTest(name, async (c, t) => {
    const before = await baseline(c);
    const run = await c.withFault(host, kind, args, () => doctor(c));
    t.diagnostic(`doctor over ${c.hosts.length} hosts with ${kind} on ${host}: ${run.ms} ms`);
    expectRows(run, before, faults(c), unreachable);
  });
}

doctorTest('a clean cluster: every check of every host is there and none fails, ok: true, exit 0', async (c, t) => {
  const run = await doctor(c);
  clean = run;
  t.diagnostic(`one doctor run over the clean cluster of ${c.hosts.length} hosts took ${run.ms} ms`);
  const warned = run.checks.filter((r) => r.status === 'warn').map((r) => `${r.host} ${r.check}: ${r.detail}`);
  if (warned.length > 0) t.diagnostic(`warnings on the clean cluster: ${warned.join('; ')}`);
  assert.deepEqual(run.checks.map((r) => `${r.host} ${r.check}`), c.hosts.flatMap((h) => CHECKS.map((id) => `${h} ${id}`)),
    'one row per host and check, hosts in machinefile order');
  assert.deepEqual(run.checks.filter((r) => r.status === 'fail'), [], run.stderr);
  assert.equal(run.ok, true);
  assert.equal(run.code, 0, run.stderr);
  for (const r of run.checks) {
    assert.ok(['ok', 'warn'].includes(r.status), `${r.host} ${r.check}: ${r.status}`);
    assert.equal(typeof r.detail, 'string');
    assert.equal(typeof r.fix, 'string');
  }
});

faultTest('an invalid host name (dr_3) fails hostname on dr3 alone', 'dr3', 'name', ['dr_3'], () => [
  { host: 'dr3', check: 'hostname', status: 'fail', detail: '"dr_3"', fix: /hostnamectl set-hostname dr-3/ },
]);

faultTest('a host calling itself "(none)" fails hostname on dr2 alone', 'dr2', 'name', ['(none)'], () => [
  { host: 'dr2', check: 'hostname', status: 'fail', detail: '"(none)"' },
]);

faultTest('a host whose own name does not resolve there fails hostname on dr4 alone', 'dr4', 'unresolvable', [], () => [
  { host: 'dr4', check: 'hostname', status: 'fail', detail: /"dr4" does not resolve/, fix: /\/etc\/hosts on dr4/ },
]);

// dr4 cannot resolve dr2: only dr4's resolve row fails. dr2's ports are open, so its ports
// row stays ok (a name dr4 cannot resolve is dr4's resolve problem, not a firewall on dr2).
faultTest('a host where another host\'s name does not resolve fails resolve on that host alone', 'dr4', 'unresolvable', ['dr2'], () => [
  { host: 'dr4', check: 'resolve', status: 'fail', detail: /"dr2" does not resolve/, fix: /"10\.77\.0\.2 dr2" to \/etc\/hosts on dr4/ },
]);

faultTest('a stopped sshd fails ssh on dr3, and every other check there is skipped', 'dr3', 'sshd-down', [], () => [
  { host: 'dr3', check: 'ssh', status: 'fail', detail: /Connection refused/, fix: /sshd is not running on dr3/ },
], ['dr3']);

faultTest('an sshd that does not accept the key fails ssh on dr2, and every other check there is skipped', 'dr2', 'key-refused', [], () => [
  { host: 'dr2', check: 'ssh', status: 'fail', detail: /Permission denied \(publickey\)/, fix: /ssh-copy-id dr2/ },
], ['dr2']);

// A stock sshd (StrictModes=yes) refuses the key when the home there is writable by others, and says
// only "Permission denied": ssh fails, the doctor cannot look inside, so the ssh row names that cause with its chmods.
faultTest('a home others can write on dr3, behind an sshd with StrictModes, fails ssh on dr3 with the StrictModes fix', 'dr3', 'home-mode', [], () => [
  { host: 'dr3', check: 'ssh', status: 'fail', detail: 'ssh dr3 true failed (exit 255): root@10.77.0.3: Permission denied (publickey).',
    fix: 'if the key is there already, sshd (StrictModes) refuses it when ~, ~/.ssh or ~/.ssh/authorized_keys on dr3 can be written by others: ' +
      'there, chmod go-w ~; chmod 700 ~/.ssh; chmod 600 ~/.ssh/authorized_keys' },
], ['dr3']);

faultTest('a private key readable by others (chmod 644) fails ssh and ssh-key on every remote host, naming the file and chmod 600',
  'client', 'key-mode', [], (c) => ['dr2', 'dr3', 'dr4'].flatMap((host) => [
    { host, check: 'ssh', status: 'fail' as const, detail: /Permission denied \(publickey\)/ },
    { host, check: 'ssh-key', status: 'fail' as const, detail: `private key ${join(c.dir, 'client_key')} has mode 0644`, fix: `chmod 600 ${join(c.dir, 'client_key')}` },
  ]), ['dr2', 'dr3', 'dr4']);

faultTest(`a host whose firewall drops TCP on ${RANGE} fails ports on dr4 alone, naming who could not connect`, 'dr4', 'ports', [RANGE], () => [
  { host: 'dr4', check: 'ports', status: 'fail', detail: /dr1 -> dr4 \(10\.77\.0\.4\):410\d\d timed out.*dr2 -> dr4 \(10\.77\.0\.4\):410\d\d timed out.*dr3 -> dr4 \(10\.77\.0\.4\):410\d\d timed out/, fix: `--port-range ${RANGE}` },
]);

faultTest('a host where the program does not exist fails program on dr3 alone', 'dr3', 'path', [join(ROOT, 'examples')], () => [
  { host: 'dr3', check: 'program', status: 'fail', detail: `${PROGRAM} does not exist on dr3`, fix: `rsync -a ${PROGRAM} dr3:${PROGRAM}` },
]);

faultTest(`a host whose Node is ${FAKE_NODE} fails node on dr2 alone`, 'dr2', 'node', [FAKE_NODE], () => [
  { host: 'dr2', check: 'node', status: 'fail', detail: `is Node ${FAKE_NODE}; the launcher runs Node ${process.version}` },
]);

doctorTest('under-voltage now (fake get_throttled 0x50005 on dr4) fails power on dr4 alone', async (c, t) => {
  const before = await baseline(c);
  const run = await c.withFault('dr4', 'file', [throttledFile(c), '50005'], () => doctor(c));
  t.diagnostic(`doctor with under-voltage on dr4: ${run.ms} ms`);
  expectRows(run, before, [{ host: 'dr4', check: 'power', status: 'fail', detail: /under-voltage now \(get_throttled=0x50005/, fix: /official supply/ }]);
});

doctorTest('every fault healed: the cluster is clean again, ok: true, exit 0', async (c, t) => {
  const before = await baseline(c);
  const run = await doctor(c);
  expectRows(run, before, []);
  const sorted = [...timings].sort((a, b) => a - b);
  t.diagnostic(`${timings.length} doctor runs over ${c.hosts.length} hosts: median ${sorted[Math.floor(sorted.length / 2)]} ms, ` +
    `slowest ${sorted.at(-1)} ms, all ${timings.reduce((a, b) => a + b, 0)} ms`);
});
