/**
 * The doctor: checks, for every host of a machinefile, what `mpi4ts run`
 * needs there (README "Checking a cluster"). Per host: ssh, then one probe
 * session (probe.ts) whose facts every other check judges; then the port
 * test across all hosts. Hosts go in parallel, a bounded number at a time.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CHECK_IDS, ok, skipped, type Check, type CheckId } from './check.js';
import { clockCheck, hostnameCheck, localKeyProblems, mpi4tsCheck, mpiCheck, nodeCheck, nodeMissing, powerCheck, programCheck,
  remoteKeyProblems, resolveCheck, sshKeyCheck } from './facts-checks.js';
import { parseFacts, PROBE, type Facts, type ProbeInput } from './probe.js';
import { portsChecks, type PortHost } from './ports.js';
import { sshCheck } from './ssh-checks.js';
import type { Runner } from './runner.js';

export interface DoctorOptions {
  /** Hosts as written in the machinefile; empty: this machine alone (`localhost`). */
  hosts: string[];
  isLocal: (host: string) => boolean;
  runner: Runner;
  /** The Node executable the launcher starts on a remote host (--node, or its own path). */
  remoteNode: string;
  /** This process's Node: path and version. */
  localNode: string;
  launcherNodeVersion: string;
  version: string;
  /** package.json of the mpi4ts ranks load. */
  mpi4tsPackage: string;
  tsx: string | null;
  /** Absolute path of the program to look for, or null. */
  program: string | null;
  portRange: [number, number] | null;
  sshTimeoutSeconds: number;
  /** The ssh command words, for `ssh -G HOST`. */
  ssh: string[];
  throttledFile: string | null;
  vcgencmd: string | null;
  /** Permission bits of a file on this host, or null when it is absent. */
  statMode: (path: string) => number | null;
  now: () => number;
  /** Hosts checked at once. */
  parallel?: number;
  home?: string;
}

export interface DoctorReport {
  ok: boolean;
  checks: Check[];
}

const DEFAULT_KEYS = ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk'];

export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  const hosts = opts.hosts.length === 0 ? ['localhost'] : opts.hosts;
  const input: ProbeInput = { names: hosts, program: opts.program, mpi4tsPackage: opts.mpi4tsPackage, tsx: opts.program?.match(/\.[cm]?tsx?$/) ? opts.tsx : null,
    throttledFile: opts.throttledFile, vcgencmd: opts.vcgencmd };
  const launcher = await probe(opts, 'localhost', true, opts.localNode, input);
  const launcherResolved = launcher.facts?.resolved ?? {};
  const home = opts.home ?? homedir();
  const sshDir = join(home, '.ssh');
  const checks: Check[] = [];
  const probed: { host: string; facts: Facts; local: boolean; node: string }[] = [];
  await eachLimited(hosts, opts.parallel ?? 16, async (host) => {
    const local = opts.isLocal(host);
    const node = local ? opts.localNode : opts.remoteNode;
    const keyFiles = local ? DEFAULT_KEYS.map((k) => join(sshDir, k)) : await identityFiles(opts, host, home);
    const modes = Object.fromEntries([sshDir, ...keyFiles].map((p) => [p, opts.statMode(p)]));
    const localKeys = localKeyProblems(modes, sshDir, keyFiles);
    const resolveHere = resolveCheck(host, null, [host], launcherResolved);
    if (!local) {
      const r = await opts.runner.exec(host, ['true'], { timeoutMs: (opts.sshTimeoutSeconds + 5) * 1000, local });
      const ssh = sshCheck(host, r, opts.sshTimeoutSeconds);
      checks.push(ssh);
      if (ssh.status === 'fail') {
        const cause = `ssh to ${host}`;
        const keys = sshKeyCheck(host, localKeys, null);
        checks.push(resolveHere.status === 'fail' ? resolveHere : skipped(host, 'resolve', cause));
        checks.push(keys.status === 'fail' ? keys : skipped(host, 'ssh-key', cause));
        for (const id of ['hostname', 'node', 'mpi4ts', 'program', 'ports', 'clock', 'power', 'mpi'] as const) {
          if (id !== 'program' || opts.program !== null) checks.push(skipped(host, id, cause));
        }
        return;
      }
    } else {
      checks.push(ok(host, 'ssh', 'this host: ranks start here without ssh'));
    }
    const result = local && launcher.facts !== null ? launcher : await probe(opts, host, local, node, input);
    const facts = result.facts;
    if (facts === null) {
      checks.push(nodeMissing(host, node, result.said));
      const keys = sshKeyCheck(host, localKeys, null);
      checks.push(keys.status === 'fail' ? keys : skipped(host, 'ssh-key', `node on ${host}`));
      checks.push(resolveHere.status === 'fail' ? resolveHere : skipped(host, 'resolve', `node on ${host}`));
      for (const id of ['hostname', 'mpi4ts', 'program', 'ports', 'clock', 'power', 'mpi'] as const) {
        if (id !== 'program' || opts.program !== null) checks.push(skipped(host, id, `node on ${host}`));
      }
      return;
    }
    probed.push({ host, facts, local, node });
    checks.push(hostnameCheck(host, facts));
    checks.push(resolveHere.status === 'fail' ? resolveHere : resolveCheck(host, facts, hosts, launcherResolved));
    checks.push(sshKeyCheck(host, localKeys, local ? null : remoteKeyProblems(host, facts)));
    checks.push(nodeCheck(host, facts, opts.launcherNodeVersion));
    checks.push(mpi4tsCheck(host, facts, opts.version, opts.mpi4tsPackage));
    if (opts.program !== null) checks.push(programCheck(host, facts, opts.program));
    checks.push(local ? ok(host, 'clock', 'the launching host itself') : clockCheck(host, facts, result.sentAt, result.receivedAt));
    checks.push(powerCheck(host, facts));
    checks.push(mpiCheck(host, facts));
  });
  const portHosts: PortHost[] = hosts.flatMap((h) => {
    const p = probed.find((x) => x.host === h);
    if (p === undefined) return [];
    const seen = launcherResolved[h];
    const address = Array.isArray(seen) && seen.length > 0 ? seen[0]! : h;
    return [{ name: h, address, local: p.local, node: p.node }];
  });
  if (portHosts.length > 0) checks.push(...await portsChecks(portHosts, opts.runner, opts.portRange));
  return { ok: checks.every((c) => c.status !== 'fail'), checks: sortChecks(checks, hosts) };
}

interface Probed {
  facts: Facts | null;
  said: string;
  sentAt: number;
  receivedAt: number;
}

async function probe(opts: DoctorOptions, host: string, local: boolean, node: string, input: ProbeInput): Promise<Probed> {
  const sentAt = opts.now();
  const r = await opts.runner.exec(host, [node, '-e', PROBE, JSON.stringify(input)], { timeoutMs: (opts.sshTimeoutSeconds + 20) * 1000, local });
  const receivedAt = opts.now();
  const said = r.timedOut ? 'the probe did not answer in time' : r.stderr.trim().split('\n').slice(-2).join(' / ');
  return { facts: parseFacts(r.stdout), said, sentAt, receivedAt };
}

/** The private keys ssh would offer to `host`: its IdentityFile lines from `ssh -G HOST`, ~ expanded. */
async function identityFiles(opts: DoctorOptions, host: string, home: string): Promise<string[]> {
  const [program, ...args] = opts.ssh;
  const r = await opts.runner.exec('localhost', [program!, ...args, '-G', host], { timeoutMs: 5000, local: true });
  const files = r.stdout.split('\n').flatMap((line) => {
    const m = /^identityfile\s+(.+)$/i.exec(line.trim());
    return m === null ? [] : [m[1]!.replace(/^~(?=\/|$)/, home)];
  });
  return files.length > 0 ? files : DEFAULT_KEYS.map((k) => join(home, '.ssh', k));
}

function sortChecks(checks: Check[], hosts: string[]): Check[] {
  const order = (id: CheckId): number => CHECK_IDS.indexOf(id);
  return [...checks].sort((a, b) => hosts.indexOf(a.host) - hosts.indexOf(b.host) || order(a.check) - order(b.check));
}

/** Runs `work` on every item, at most `limit` at once. */
async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
