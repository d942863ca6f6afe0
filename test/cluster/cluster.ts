/**
 * The multi-host tests' view of test/cluster/cluster.sh: builds the cluster
 * (or says why it cannot), runs `mpi4ts run` (or another launcher) inside its first host under its own
 * host name, and looks for processes left on any host.
 */
import { spawn, spawnSync } from 'node:child_process';
import { after, test } from 'node:test';
import { mkdtempSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ROOT, type JobResult } from '../helpers.js';
import { onTeardown, type Teardown } from '../teardown.js';

const SCRIPT = join(ROOT, 'test', 'cluster', 'cluster.sh');

export interface ClusterJob {
  /** Token passed to every rank as its last argument, to find its processes. */
  marker: string;
  result: Promise<JobResult>;
  /** The launcher's pid. */
  pid: number;
  /** The launcher's stdin (rank 0's). */
  write(text: string): void;
  end(): void;
  /** Resolves once `count` stdout lines matched `pattern`, with those lines. */
  lines(pattern: RegExp, count: number): Promise<string[]>;
}

export interface RunOptions {
  /** Arguments for the program. */
  args?: string[];
  /** Extra environment for the launcher. */
  env?: Record<string, string>;
  /** Host the launcher runs on. */
  on?: string;
  /** Kill the launcher after this long (a safety net, not a test of speed). */
  killAfterMs?: number;
}

/** cluster.sh's fault kinds. */
export type FaultKind = 'name' | 'unresolvable' | 'sshd-down' | 'key-refused' | 'key-mode' | 'ports' | 'path' | 'node' | 'file' | 'home-mode';

export class Cluster {
  readonly hosts: string[];
  readonly sshConfig: string;

  /** An ssh program that uses sshConfig (for launchers that take a program, not a command line). */
  readonly sshProgram: string;

  /**
   * `prefix` is cluster.sh's CLUSTER_PREFIX: hosts are prefix1..prefixN.
   * `teardown`, when buildCluster registered one, is what down() runs.
   */
  constructor(readonly dir: string, size: number, readonly prefix = 'm4h', private readonly teardown?: Teardown) {
    this.hosts = Array.from({ length: size }, (_, i) => `${prefix}${i + 1}`);
    this.sshConfig = join(dir, 'ssh_config');
    this.sshProgram = join(dir, 'ssh');
  }

  /** `--ssh` value that reaches the cluster's hosts. */
  get ssh(): string {
    return `ssh -F ${this.sshConfig}`;
  }

  /** `mpi4ts run [launcher...] program [args...] <marker>` on host `on` (the first host unless told). */
  run(launcher: string[], program: string, opts: RunOptions = {}): ClusterJob {
    return this.start([process.execPath, CLI, 'run', ...launcher, program], opts);
  }

  /** `command [args...] <marker>` on host `on` (the first host unless told), e.g. another MPI's launcher. */
  start(command: string[], opts: RunOptions = {}): ClusterJob {
    const { args = [], env = {}, on = this.hosts[0], killAfterMs = 90_000 } = opts;
    const marker = `mpi4ts-test-${randomUUID()}`;
    const argv = [SCRIPT, 'run', on, ...command, ...args, marker];
    const started = Date.now();
    const child = spawn('sh', argv, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    const waiters: (() => void)[] = [];
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      for (const w of waiters) w();
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.stdin.on('error', () => {});
    const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    const result = new Promise<JobResult>((resolve) => {
      child.on('close', (code, signal) => {
        clearTimeout(killer);
        for (const w of waiters) w();
        resolve({ code, signal, stdout, stderr, marker, ms: Date.now() - started });
      });
    });
    return {
      marker,
      result,
      // cluster.sh and what it runs exec one another: this is the launcher.
      pid: child.pid!,
      write: (text) => child.stdin.write(text),
      end: () => child.stdin.end(),
      lines: (pattern, count) => new Promise((resolve, reject) => {
        const check = (): void => {
          const found = stdout.split('\n').filter((l) => pattern.test(l));
          if (found.length >= count) resolve(found);
          else if (child.exitCode !== null || child.signalCode !== null) reject(new Error(`job ended first:\n${stdout}\n${stderr}`));
        };
        waiters.push(check);
        check();
      }),
    };
  }

  /** Runs a command on a host (in its namespace, under its name) and resolves with its stdout. */
  exec(host: string, argv: string[]): Promise<string> {
    const child = spawn('sh', [SCRIPT, 'run', host, ...argv], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    return new Promise((resolve, reject) => child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${argv.join(' ')} on ${host} exited with ${code}`));
    }));
  }

  /** Processes on `hosts` other than their sshd listener, after up to `waitMs` for them to end. */
  async leftovers(waitMs = 15_000, hosts = this.hosts): Promise<string[]> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const left = hosts.flatMap((host) => this.pidsOn(host, this.hosts.indexOf(host) + 1));
      if (left.length === 0 || Date.now() > deadline) return left;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  private pidsOn(host: string, index: number): string[] {
    const listener = readFileSync(join(this.dir, `sshd-${index}.pid`), 'utf8').trim();
    const out = spawnSync('ip', ['netns', 'pids', host], { encoding: 'utf8' }).stdout;
    return out.split('\n').filter((pid) => pid !== '' && pid !== listener).map((pid) => {
      try {
        return `${host}: ${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')}`;
      } catch {
        return '';
      }
    }).filter((line) => line !== '');
  }

  /**
   * Breaks one thing on `host` with cluster.sh's `fault H KIND [ARG...]` (see
   * the list there: name, unresolvable, sshd-down, key-refused, key-mode with
   * host `client`, ports, path, node, file); undo it with heal().
   */
  fault(host: string, kind: FaultKind, ...args: string[]): void {
    this.script(['fault', host, kind, ...args]);
  }

  /** Undoes fault(host, kind). */
  heal(host: string, kind: FaultKind): void {
    this.script(['heal', host, kind]);
  }

  /** fault(), then body, then heal() however body ends. */
  async withFault<T>(host: string, kind: FaultKind, args: string[], body: () => Promise<T>): Promise<T> {
    this.fault(host, kind, ...args);
    try {
      return await body();
    } finally {
      this.heal(host, kind);
    }
  }

  private script(argv: string[]): void {
    const r = spawnSync('sh', [SCRIPT, ...argv], { encoding: 'utf8', env: { ...process.env, CLUSTER_PREFIX: this.prefix } });
    if (r.status !== 0) throw new Error(`cluster.sh ${argv.join(' ')} exited with ${r.status}: ${r.stderr.trim()}`);
  }

  /** Takes the cluster down (once: later calls, and the file's interruption, do nothing more). */
  down(): void {
    if (this.teardown !== undefined) this.teardown.run();
    else downScript(this.dir, this.prefix);
  }
}

/**
 * `cluster.sh down DIR`. Its output is collected, not inherited: interrupted,
 * this file may outlive the runner that reads its stderr, and a write to a pipe
 * nobody reads would kill the script half-way (SIGPIPE).
 */
function downScript(dir: string, prefix: string): void {
  const r = spawnSync('sh', [SCRIPT, 'down', dir], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CLUSTER_PREFIX: prefix } });
  const said = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  if (said !== '' || r.status !== 0) {
    try {
      process.stderr.write(`cluster.sh down ${dir} (${prefix}) exited with ${r.status}${said === '' ? '' : `: ${said}`}\n`);
    } catch {
      // Nobody reads stderr any more.
    }
  }
}

/**
 * Builds a cluster of `size` hosts named prefix1..prefixN, or returns why this
 * machine cannot. Test files that may run side by side use different prefixes.
 */
export async function buildCluster(size: number, prefix = 'm4h'): Promise<Cluster | string> {
  if (process.platform !== 'linux') return `multi-host tests need Linux network namespaces (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'multi-host tests need root to create network namespaces (run npm test as root to include them)';
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-cluster-`));
  // The owner: cluster.sh up refuses this prefix to others while this process
  // runs, and test/sweep.mjs takes the cluster down once it has gone.
  const env = { ...process.env, CLUSTER_PREFIX: prefix, MPI4TS_TEST_OWNER: String(process.pid) };
  // From before `up`: an interrupted `up` leaves half a cluster. (A signal that
  // comes during spawnSync waits for it; Ctrl-C ends `up` itself at once.)
  const teardown = onTeardown(`namespace cluster ${prefix} (${size} hosts)`, () => downScript(dir, prefix));
  const up = spawnSync('sh', [SCRIPT, 'up', String(size), dir], { cwd: ROOT, encoding: 'utf8', env });
  if (up.status !== 0) {
    // Refused (exit 4), `down DIR` removes only DIR: the prefix's hosts are another live run's.
    teardown.run();
    // A busy machine is no reason to skip: this file fails, saying who has the prefix.
    if (up.status === 4) throw new Error(up.stderr.trim());
    return `cannot build the namespace cluster here (network namespaces not permitted?): ${up.stderr.trim() || `exit ${up.status}`}`;
  }
  const cluster = new Cluster(dir, size, prefix, teardown);
  // sshd forked into the background; wait until every host answers.
  for (const host of cluster.hosts) {
    for (let attempt = 0; ; attempt++) {
      const probe = spawnSync('sh', [SCRIPT, 'run', cluster.hosts[0], 'ssh', '-F', cluster.sshConfig, '-o', 'BatchMode=yes', host, 'true'], { encoding: 'utf8' });
      if (probe.status === 0) break;
      if (attempt === 20) {
        cluster.down();
        return `the namespace cluster's sshd on ${host} does not answer: ${probe.stderr.trim()}`;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  return cluster;
}

/**
 * Takes `cluster` down when the test file ends (an after() hook). Interrupted
 * (SIGINT, SIGTERM, SIGHUP, a --test-timeout), the file takes it down anyway:
 * buildCluster registered that with test/teardown.ts. A string (why no cluster
 * was built) needs nothing.
 */
export function downAtExit(cluster: () => Cluster | string): void {
  after(() => {
    const c = cluster();
    if (typeof c !== 'string') c.down();
  });
}

/**
 * A test that runs on the cluster `current()` gives when the test starts
 * (a file may build it in a before hook), or is skipped saying why there is
 * none; `afterwards` runs once the body passed (a check every test of a file makes).
 */
export function clusterTestOn(current: () => Cluster | string, name: string, body: (c: Cluster) => Promise<void>,
  afterwards?: (c: Cluster) => Promise<void>): void {
  test(name, async (t) => {
    const cluster = current();
    if (typeof cluster === 'string') {
      t.skip(cluster);
      return;
    }
    await body(cluster);
    await afterwards?.(cluster);
  });
}
