/**
 * The checks that judge one host's probe facts (probe.ts): hostname,
 * resolve, ssh-key (the remote half), node, mpi4ts, program, clock, power,
 * mpi. Each is a pure function of what was seen, so its texts are tested
 * without a cluster.
 */
import { isIP } from 'node:net';
import { fail, ok, warn, type Check } from './check.js';
import type { Facts } from './probe.js';

/** RFC 1123: labels of letters, digits and '-', not starting or ending with '-', at most 63 each, 253 in all. */
export function isValidHostName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  return name.split('.').every((label) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label));
}

export function hostnameCheck(host: string, facts: Facts): Check {
  const name = facts.hostname;
  if (!isValidHostName(name)) {
    return fail(host, 'hostname', `the host calls itself "${name}", which is not a valid host name (RFC 1123)`,
      `host names may hold only letters, digits, '-' and '.'; '_' is invalid (the old advice to replace '-' by '_' is wrong: '-' is fine). ` +
      `Rename it on ${host}: sudo hostnamectl set-hostname ${suggestName(name)}, and change the name in /etc/hosts to match`);
  }
  const own = facts.resolved[name];
  if (typeof own === 'string' || own === undefined) {
    return fail(host, 'hostname', `the host's own name "${name}" does not resolve there (${own ?? 'not looked up'})`,
      `programs that look up their own host name fail or hang ("hostname not resolved"); add a line "127.0.1.1 ${name}" ` +
      `(or its network address) to /etc/hosts on ${host}`);
  }
  return ok(host, 'hostname', `"${name}" resolves there to ${own.join(', ')}`);
}

function suggestName(name: string): string {
  const fixed = name.replace(/_/g, '-').replace(/[^A-Za-z0-9.-]/g, '').replace(/^-+|-+$/g, '');
  return fixed === '' ? 'node1' : fixed;
}

/** Names that are this (launching) machine, whose addresses differ from host to host by nature (localhost, 127.0.0.1). */
export function isLoopbackName(name: string): boolean {
  return name === 'localhost' || name.startsWith('127.') || name === '::1';
}

/**
 * `resolve` for one host: every other name of the machinefile resolves there
 * to an address the launcher also has for it. `launcher` is the launcher's
 * own resolution; a name missing from it failed there already (the launcher row).
 */
export function resolveCheck(host: string, facts: Facts | null, names: string[], launcher: Record<string, string[] | string>): Check {
  const problems: string[] = [];
  const fixes: string[] = [];
  for (const name of names) {
    if (isIP(name) !== 0 || isLoopbackName(name)) continue;
    const expected = launcher[name];
    if (facts === null) {
      // This row is the launcher's own view.
      if (typeof expected === 'string') {
        problems.push(`this host cannot resolve "${name}" (${expected})`);
        fixes.push(`add "ADDRESS ${name}" to /etc/hosts on this host (or to DNS)`);
      }
      continue;
    }
    if (name === host) continue;
    const seen = facts.resolved[name];
    if (typeof seen === 'string' || seen === undefined) {
      problems.push(`"${name}" does not resolve (${seen ?? 'not looked up'})`);
      fixes.push(`add "${typeof expected === 'string' ? 'ADDRESS' : expected?.[0] ?? 'ADDRESS'} ${name}" to /etc/hosts on ${host}`);
    } else if (Array.isArray(expected) && !seen.some((a) => expected.includes(a))) {
      problems.push(`"${name}" resolves to ${seen.join(', ')} there but to ${expected.join(', ')} on the launching host`);
      fixes.push(`make the line for ${name} in /etc/hosts on ${host} read "${expected[0]} ${name}"`);
    }
  }
  if (problems.length === 0) return ok(host, 'resolve', facts === null ? 'this host resolves every host name' : 'every host name resolves there as on the launching host');
  return fail(host, 'resolve', problems.join('; '),
    `ssh and the ranks reach hosts by these names, and a name that resolves differently reaches another machine or none; ${[...new Set(fixes)].join('; ')}`);
}

/** The remote half of `ssh-key`: what sshd's StrictModes refuses (home or ~/.ssh writable by others, authorized_keys writable by others). */
export function remoteKeyProblems(host: string, facts: Facts): { problems: string[]; fixes: string[] } {
  const problems: string[] = [];
  const fixes: string[] = [];
  const home = facts.home;
  const sshDir = `${home}/.ssh`;
  const keys = `${sshDir}/authorized_keys`;
  const check = (path: string, bad: number, want: string): void => {
    const mode = facts.modes[path];
    if (mode === null || mode === undefined || (mode & bad) === 0) return;
    problems.push(`${path} on ${host} has mode ${octal(mode)}`);
    fixes.push(`on ${host}: chmod ${want} ${path}`);
  };
  check(home, 0o022, 'go-w');
  check(sshDir, 0o077, '700');
  check(keys, 0o022, '600');
  return { problems, fixes };
}

/** The launcher's half of `ssh-key`: ~/.ssh and private keys must not be readable by group or others. */
export function localKeyProblems(modes: Record<string, number | null>, sshDir: string, keyFiles: string[]): { problems: string[]; fixes: string[] } {
  const problems: string[] = [];
  const fixes: string[] = [];
  const dirMode = modes[sshDir];
  if (dirMode !== null && dirMode !== undefined && (dirMode & 0o077) !== 0) {
    problems.push(`${sshDir} on this host has mode ${octal(dirMode)}`);
    fixes.push(`chmod 700 ${sshDir}`);
  }
  for (const key of keyFiles) {
    const mode = modes[key];
    if (mode === null || mode === undefined || (mode & 0o077) === 0) continue;
    problems.push(`private key ${key} has mode ${octal(mode)} (ssh says "UNPROTECTED PRIVATE KEY FILE" and ignores it)`);
    fixes.push(`chmod 600 ${key}`);
  }
  return { problems, fixes };
}

export function sshKeyCheck(host: string, local: { problems: string[]; fixes: string[] }, remote: { problems: string[]; fixes: string[] } | null): Check {
  const problems = [...local.problems, ...(remote?.problems ?? [])];
  const fixes = [...local.fixes, ...(remote?.fixes ?? [])];
  if (problems.length === 0) {
    return ok(host, 'ssh-key', remote === null ? 'keys and ~/.ssh of this host are private' : 'keys private here, ~ and ~/.ssh there as sshd requires');
  }
  if (local.problems.length === 0) {
    // Remote modes only: ssh just logged in, so this sshd accepts them (StrictModes off, or keys kept
    // elsewhere); another sshd, or this one configured as Debian ships it, would not.
    return warn(host, 'ssh-key', problems.join('; '),
      `ssh to ${host} works now, but an sshd with StrictModes (the default) refuses keys when ~, ~/.ssh or authorized_keys ` +
      `can be written by others; ${fixes.join('; ')}`);
  }
  return fail(host, 'ssh-key', problems.join('; '),
    `ssh ignores a private key others can read, and sshd (StrictModes) refuses keys when ~, ~/.ssh or authorized_keys can be written by others, ` +
    `so logins ask for a password, which batch mode cannot give; ${fixes.join('; ')}`);
}

export function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}

export function nodeCheck(host: string, facts: Facts, launcherNode: string): Check {
  const major = (v: string): string => v.replace(/^v/, '').split('.')[0] ?? '';
  if (major(facts.node) !== major(launcherNode)) {
    return fail(host, 'node', `${facts.nodePath} is Node ${facts.node}; the launcher runs Node ${launcherNode}`,
      `ranks of different Node majors may disagree on structured clone and start-up; install Node ${major(launcherNode)}.x at ${facts.nodePath} on ${host}, ` +
      'or point mpi4ts at another Node there with --node PATH');
  }
  return ok(host, 'node', `${facts.nodePath} is Node ${facts.node}`);
}

export function nodeMissing(host: string, nodePath: string, said: string): Check {
  return fail(host, 'node', `cannot run ${nodePath} on ${host}${said === '' ? '' : `: ${said}`}`,
    `ranks are started with this Node; install Node at the same path on ${host} (as on this host), or name its path there with --node PATH`);
}

export function mpi4tsCheck(host: string, facts: Facts, version: string, packagePath: string): Check {
  if (facts.mpi4tsVersion === null) {
    return fail(host, 'mpi4ts', `no mpi4ts at ${packagePath} on ${host}`,
      `ranks start the launcher's own mpi4ts path on every host; install mpi4ts ${version} there (the same directory as on this host, e.g. rsync -a ${packagePath.replace(/\/package\.json$/, '')}/ ${host}:${packagePath.replace(/\/package\.json$/, '')}/)`);
  }
  if (facts.mpi4tsVersion !== version) {
    return fail(host, 'mpi4ts', `mpi4ts ${facts.mpi4tsVersion} at ${packagePath} on ${host}; the launcher is ${version}`,
      `ranks of two versions may not speak the same control protocol; install mpi4ts ${version} at that path on ${host}`);
  }
  return ok(host, 'mpi4ts', `mpi4ts ${version} at ${packagePath}`);
}

export function programCheck(host: string, facts: Facts, program: string): Check {
  if (facts.program !== 'file') {
    return fail(host, 'program', `${program} ${facts.program === 'not a file' ? 'is not a file' : 'does not exist'} on ${host}`,
      `every rank runs the program at the same path; copy it there: rsync -a ${program} ${host}:${program} (or share the directory over NFS)`);
  }
  if (facts.tsx === false) {
    return fail(host, 'program', `${program} is there, but the tsx loader mpi4ts starts .ts programs with is missing on ${host}`,
      `install mpi4ts with its dependencies (npm install) at the same path on ${host}, or run a compiled .js program`);
  }
  return ok(host, 'program', `${program} is there${facts.tsx === true ? ', and tsx to run it' : ''}`);
}

/** Skew against the launcher: the host's time less the middle of the round trip. */
export function clockCheck(host: string, facts: Facts, sentAt: number, receivedAt: number): Check {
  // The host read its clock somewhere between our sending the probe and our getting its answer
  // (node's start-up on a loaded host is much of that): only what lies outside that window is skew.
  const skewMs = facts.time > receivedAt ? facts.time - receivedAt : facts.time < sentAt ? facts.time - sentAt : 0;
  const seconds = (Math.abs(skewMs) / 1000).toFixed(1);
  if (Math.abs(skewMs) > 1000) {
    return warn(host, 'clock', `the clock of ${host} is ${seconds} s ${skewMs > 0 ? 'ahead of' : 'behind'} the launching host`,
      `time-outs and MPI.Wtime() across hosts disagree, and make or rsync copies misjudge what is new; keep clocks in step: ` +
      `sudo timedatectl set-ntp true on ${host} (or install chrony)`);
  }
  return ok(host, 'clock', `within ${seconds} s of the launching host`);
}

const UNDER_VOLTAGE = 1 << 0;
const THROTTLED_NOW = (1 << 1) | (1 << 2) | (1 << 3);
const UNDER_VOLTAGE_SINCE_BOOT = 1 << 16;
const THROTTLED_SINCE_BOOT = (1 << 17) | (1 << 18) | (1 << 19);

export function powerCheck(host: string, facts: Facts): Check {
  const power = facts.power;
  if (!power.pi) return ok(host, 'power', 'not a Raspberry Pi');
  const supplyFix = 'an under-powered Pi slows down, resets or drops USB and Ethernet in the middle of a job; ' +
    'use the official supply (5 V 3 A for a Pi 4, 5 A for a Pi 5) and a short, thick cable, and do not power it from a hub';
  if (power.throttled === null) {
    if (power.underVoltageNow === true) return fail(host, 'power', `under-voltage now (${power.source} is 1)`, supplyFix);
    if (power.underVoltageNow === false) return ok(host, 'power', `no under-voltage now (${power.source})`);
    return warn(host, 'power', 'a Raspberry Pi, but neither vcgencmd nor the firmware\'s get_throttled could be read',
      `install vcgencmd on ${host} (sudo apt install libraspberrypi-bin) so power problems can be seen`);
  }
  const bits = power.throttled;
  const hex = `0x${bits.toString(16)}`;
  if ((bits & UNDER_VOLTAGE) !== 0) return fail(host, 'power', `under-voltage now (get_throttled=${hex}, from ${power.source})`, supplyFix);
  if ((bits & THROTTLED_NOW) !== 0) {
    return warn(host, 'power', `throttled or frequency-capped now (get_throttled=${hex}, from ${power.source})`,
      `a throttled Pi is the slow rank every other rank waits for; ${(bits & UNDER_VOLTAGE_SINCE_BOOT) !== 0 ? supplyFix : 'cool it (a heat sink or fan)'}`);
  }
  if ((bits & (UNDER_VOLTAGE_SINCE_BOOT | THROTTLED_SINCE_BOOT)) !== 0) {
    const what = (bits & UNDER_VOLTAGE_SINCE_BOOT) !== 0 ? 'under-voltage' : 'throttling';
    return warn(host, 'power', `${what} since boot, not now (get_throttled=${hex}, from ${power.source})`, supplyFix);
  }
  return ok(host, 'power', `no under-voltage or throttling since boot (get_throttled=${hex})`);
}

/** The MPI implementation a launcher's --version output or link target names. */
export function mpiImplementation(version: string, real: string): string {
  const text = `${version} ${real}`;
  if (/Open MPI|OpenRTE|orterun|openmpi|prterun|PRRTE/i.test(text)) return 'Open MPI';
  if (/Intel\(R\) MPI/i.test(text)) return 'Intel MPI';
  if (/mpich|HYDRA/i.test(text)) return 'MPICH';
  if (/mvapich/i.test(text)) return 'MVAPICH';
  if (/mpi4ts/i.test(text)) return 'mpi4ts';
  return 'unknown';
}

export function mpiCheck(host: string, facts: Facts): Check {
  if (facts.mpi.length === 0) return ok(host, 'mpi', 'no mpiexec or mpirun on PATH');
  const found = facts.mpi.map((m) => ({ ...m, impl: mpiImplementation(m.version, m.real) }));
  const detail = found.map((m) => `${m.name} is ${m.impl} (${m.real})`).join('; ');
  const impls = new Set(found.map((m) => m.impl));
  if (impls.size > 1) {
    return warn(host, 'mpi', detail,
      'two MPI implementations on one PATH are the "overlapping MPI" trouble: mpiexec of one starts programs built for the other and they crash; ' +
      'mpi4ts run needs neither, but for other MPI programs keep one: sudo update-alternatives --config mpirun (and mpi), or remove the other package');
  }
  return ok(host, 'mpi', `${detail} (informational: mpi4ts run needs neither)`);
}
