/**
 * The facts of one host, gathered in one ssh session: `node -e PROBE INPUT`
 * prints one JSON line (Facts). It is plain CommonJS that any Node >= 12 can
 * run, because its job is also to find out which Node the host has. Every
 * fact it cannot get is null, never an exception: one broken fact must not
 * hide the others.
 */

export interface ProbeInput {
  /** Every host name of the machinefile, to resolve there. */
  names: string[];
  /** The program to look for, as an absolute path, or null. */
  program: string | null;
  /** package.json of the mpi4ts the ranks load (the launcher's path). */
  mpi4tsPackage: string;
  /** The tsx loader file a .ts program is started with, or null. */
  tsx: string | null;
  /** Test overrides (MPI4TS_DOCTOR_THROTTLED_FILE, MPI4TS_DOCTOR_VCGENCMD). */
  throttledFile: string | null;
  vcgencmd: string | null;
}

export interface MpiLauncher {
  name: string;
  path: string;
  /** The file the name leads to after every link (update-alternatives). */
  real: string;
  /** The first lines of `NAME --version`. */
  version: string;
}

export interface Facts {
  hostname: string;
  /** Addresses of each name of ProbeInput.names and of the host's own name; a string is the error code. */
  resolved: Record<string, string[] | string>;
  node: string;
  nodePath: string;
  /** The version in the mpi4ts package.json at the launcher's path, or null when there is none. */
  mpi4tsVersion: string | null;
  program: 'file' | 'missing' | 'not a file' | null;
  tsx: boolean | null;
  /** Date.now() on the host. */
  time: number;
  home: string;
  /** Permission bits (st_mode & 0o777) of ~, ~/.ssh, ~/.ssh/authorized_keys and the default private keys, null when absent. */
  modes: Record<string, number | null>;
  /** Whether the host is a Raspberry Pi, and the throttled bits where found. */
  power: { pi: boolean; throttled: number | null; source: string; underVoltageNow: boolean | null };
  mpi: MpiLauncher[];
}

/** Reads the facts; kept free of backticks and template syntax so it sits in this string. */
export const PROBE = String.raw`
const fs = require('fs'), os = require('os'), path = require('path'), cp = require('child_process'), dns = require('dns');
const input = JSON.parse(process.argv[1]);
// The launcher's overrides win; a host's own (sent by ssh SendEnv, or set there) apply when the launcher has none.
input.throttledFile = input.throttledFile || process.env.MPI4TS_DOCTOR_THROTTLED_FILE || null;
input.vcgencmd = input.vcgencmd || process.env.MPI4TS_DOCTOR_VCGENCMD || null;
function mode(p) { try { return fs.statSync(p).mode & 511; } catch (e) { return null; } }
function run(cmd, args) { try { return cp.execFileSync(cmd, args, { encoding: 'utf8', timeout: 3000, stdio: ['ignore', 'pipe', 'pipe'] }); } catch (e) { return e.stdout ? String(e.stdout) + String(e.stderr || '') : null; } }
function which(name) {
  for (const dir of (process.env.PATH || '').split(':')) {
    const p = path.join(dir || '.', name);
    try { fs.accessSync(p, fs.constants.X_OK); return p; } catch (e) {}
  }
  return null;
}
function lookup(name) {
  return new Promise(function (resolve) {
    dns.lookup(name, { all: true }, function (err, list) { resolve(err ? err.code || 'error' : list.map(function (a) { return a.address; })); });
  });
}
function power() {
  let model = '';
  try { model = fs.readFileSync('/proc/device-tree/model', 'utf8'); } catch (e) {}
  const pi = /Raspberry Pi/.test(model) || input.throttledFile !== null || input.vcgencmd !== null;
  const out = { pi: pi, throttled: null, source: '', underVoltageNow: null };
  if (!pi) return out;
  const vcgencmd = input.vcgencmd || (input.throttledFile === null ? which('vcgencmd') : null);
  if (vcgencmd) {
    const text = run(vcgencmd, ['get_throttled']);
    const m = /throttled=(0x[0-9a-fA-F]+)/.exec(text || '');
    if (m) { out.throttled = Number(m[1]); out.source = vcgencmd + ' get_throttled'; return out; }
  }
  const file = input.throttledFile || '/sys/devices/platform/soc/soc:firmware/get_throttled';
  try { out.throttled = parseInt(fs.readFileSync(file, 'utf8').trim(), 16); out.source = file; return out; } catch (e) {}
  try {
    for (const h of fs.readdirSync('/sys/class/hwmon')) {
      const alarm = path.join('/sys/class/hwmon', h, 'in0_lcrit_alarm');
      try { out.underVoltageNow = fs.readFileSync(alarm, 'utf8').trim() === '1'; out.source = alarm; return out; } catch (e) {}
    }
  } catch (e) {}
  return out;
}
function mpi() {
  const found = [];
  for (const name of ['mpiexec', 'mpirun']) {
    const p = which(name);
    if (p === null) continue;
    let real = p;
    try { real = fs.realpathSync(p); } catch (e) {}
    const version = (run(p, ['--version']) || '').split('\n').slice(0, 3).join(' ').trim();
    found.push({ name: name, path: p, real: real, version: version });
  }
  return found;
}
(async function () {
  const home = os.homedir();
  const host = os.hostname();
  const names = input.names.concat([host]);
  const resolved = {};
  await Promise.all(names.map(async function (n) { resolved[n] = await lookup(n); }));
  let version = null;
  try { version = JSON.parse(fs.readFileSync(input.mpi4tsPackage, 'utf8')).version || null; } catch (e) {}
  let program = null;
  if (input.program !== null) {
    try { program = fs.statSync(input.program).isFile() ? 'file' : 'not a file'; } catch (e) { program = 'missing'; }
  }
  const modes = {};
  for (const p of [home, path.join(home, '.ssh'), path.join(home, '.ssh', 'authorized_keys'),
    path.join(home, '.ssh', 'id_rsa'), path.join(home, '.ssh', 'id_ecdsa'), path.join(home, '.ssh', 'id_ed25519')]) modes[p] = mode(p);
  const facts = { hostname: host, resolved: resolved, node: process.version, nodePath: process.execPath,
    mpi4tsVersion: version, program: program, tsx: input.tsx === null ? null : fs.existsSync(input.tsx),
    time: Date.now(), home: home, modes: modes, power: power(), mpi: mpi() };
  process.stdout.write(JSON.stringify(facts) + '\n');
})();
`;

/** The last line of the probe's output that parses as Facts, or null. */
export function parseFacts(stdout: string): Facts | null {
  const lines = stdout.trim().split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const value = JSON.parse(lines[i]!) as Facts;
      if (typeof value === 'object' && value !== null && typeof value.hostname === 'string') return value;
    } catch {
      // a login banner or a shell's message: not the facts
    }
  }
  return null;
}
