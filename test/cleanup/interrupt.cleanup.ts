/**
 * An interrupted test run leaves nothing behind: no namespace, veth, sshd,
 * Slurm daemon, slurmstepd, job or temp dir. Each case runs
 * test/cleanup/fixture.ts (a namespace cluster, a Slurm, a job across the
 * cluster, a local job and a Slurm step, all holding), interrupts it one way,
 * waits for the run to end, and looks for what the fixture built.
 *
 * Through test/run.mjs: Ctrl-C (SIGINT to the process group), SIGTERM to
 * run.mjs, SIGTERM to `node --test` (the file takes down what it built, in
 * its own process: test/teardown.ts), and SIGKILL to the test file (then
 * run.mjs's sweep does, test/sweep.mjs). Straight under `node --test`,
 * without run.mjs's sweep: a file that outlives --test-timeout (the runner
 * sends it SIGTERM) and a test that times out (the file goes on to its end).
 *
 * Minutes long, root only: `npm run test:cleanup`, not in npm test. The
 * cluster's prefix is `cln` (CLEANUP_PREFIX), the Slurm's ports 27917 and
 * 27918 (MPI4TS_SLURM_CTLD_PORT, MPI4TS_SLURM_SLURMD_PORT): not those of npm
 * test's files, so this may run beside a full suite.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers.js';

const PREFIX = process.env.CLEANUP_PREFIX ?? 'cln';
const FIXTURE = join('test', 'cleanup', 'fixture.ts');
const PORTS = {
  MPI4TS_SLURM_CTLD_PORT: process.env.MPI4TS_SLURM_CTLD_PORT ?? '27917',
  MPI4TS_SLURM_SLURMD_PORT: process.env.MPI4TS_SLURM_SLURMD_PORT ?? '27918',
};

const skip = process.platform !== 'linux' ? `needs Linux network namespaces (this is ${process.platform})`
  : process.getuid?.() !== 0 ? 'needs root: it builds namespace hosts and starts Slurm daemons (run npm run test:cleanup as root)'
    : false;

interface Built {
  pid: number;
  prefix: string;
  clusterDir: string;
  slurmDir: string;
  markers: string[];
}

interface Ending {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

interface Run {
  child: ChildProcess;
  report: string;
  ended: Promise<Ending>;
}

/** Starts `argv` in a process group of its own (as a terminal would start a command) with the fixture's environment. */
function start(argv: string[], extraEnv: Record<string, string> = {}): Run {
  const report = mkdtempSync(join(tmpdir(), 'mpi4ts-cleanup-'));
  // Without this file's NODE_TEST_CONTEXT: with it, a `node --test` inside refuses to run files.
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, argv, {
    cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...env, ...PORTS, ...extraEnv, FIXTURE_DIR: report, FIXTURE_PREFIX: PREFIX },
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { output += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { output += d; });
  const ended = new Promise<Ending>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, output })));
  return { child, report, ended };
}

/** What the fixture built, once all of it runs. */
async function built(run: Run): Promise<Built> {
  const file = join(run.report, 'built.json');
  const deadline = Date.now() + 240_000;
  while (!existsSync(file)) {
    if (run.child.exitCode !== null || run.child.signalCode !== null) assert.fail(`the fixture ended before it had built everything:\n${(await run.ended).output}`);
    if (Date.now() > deadline) {
      run.child.kill('SIGTERM');
      assert.fail(`the fixture had not built everything after 240 s:\n${(await run.ended).output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return JSON.parse(readFileSync(file, 'utf8')) as Built;
}

async function ending(run: Run, ms: number): Promise<Ending> {
  const timer = setTimeout(() => process.kill(-run.child.pid!, 'SIGKILL'), ms);
  const end = await run.ended;
  clearTimeout(timer);
  return end;
}

/** The pids of `pid`'s children. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).filter((n) => {
    try {
      const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] === String(pid);
    } catch {
      return false;
    }
  }).map(Number);
}

/** Not gone, nor a zombie (a container's bare init may never reap one). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** Running processes (no zombies) whose command line names one of `words`, or whose SLURM_CONF is `slurmConf`. */
function processesNaming(words: string[], slurmConf: string): string[] {
  const found: string[] = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n) || Number(n) === process.pid || !running(Number(n))) continue;
    try {
      const command = readFileSync(`/proc/${n}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const environ = readFileSync(`/proc/${n}/environ`, 'utf8').split('\0');
      if (words.some((w) => command.includes(w)) || environ.includes(`SLURM_CONF=${slurmConf}`)) found.push(`${n} ${command.slice(0, 160)}`);
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/** Everything the fixture built that is still there, one line each. */
function leftovers(b: Built): string[] {
  const left: string[] = [];
  const namespaces = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(' ')[0]!);
  left.push(...namespaces.filter((ns) => new RegExp(`^${b.prefix}(sw|\\d+)$`).test(ns)).map((ns) => `namespace ${ns}`));
  const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout.split('\n').map((l) => (l.split(': ')[1] ?? '').split('@')[0]!);
  left.push(...links.filter((l) => new RegExp(`^${b.prefix}\\d+[es]$`).test(l)).map((l) => `link ${l}`));
  const etc = existsSync('/etc/netns') ? readdirSync('/etc/netns') : [];
  left.push(...etc.filter((e) => new RegExp(`^${b.prefix}\\d+$`).test(e)).map((e) => `/etc/netns/${e}`));
  for (const path of [b.clusterDir, b.slurmDir, `/tmp/${b.prefix}-cluster.last`]) if (existsSync(path)) left.push(path);
  const slurmConf = join(b.slurmDir, 'slurm.conf');
  left.push(...processesNaming([b.clusterDir, b.slurmDir, ...b.markers], slurmConf).map((p) => `process ${p}`));
  if (running(b.pid)) left.push(`the fixture itself, pid ${b.pid}`);
  return left;
}

/** Whether the fixture's own teardowns ran (test/teardown.ts), in its own process. */
function tornDownInProcess(run: Run): boolean {
  return existsSync(join(run.report, 'teardown'));
}

interface Case {
  name: string;
  /** The command, through run.mjs or straight under `node --test`. */
  argv: string[];
  env?: Record<string, string>;
  /** How to interrupt it once everything is up (nothing: it ends by itself). */
  interrupt?: (run: Run, b: Built) => void;
  /** How the command must end. */
  check(end: Ending, run: Run, b: Built): void;
}

const RUN_MJS = ['test/run.mjs', FIXTURE];
const RUNNER = ['--import', 'tsx', '--test'];

/** run.mjs's sweep found no cluster or Slurm of the fixture's left: the file took them down itself. */
function sweptNothingOf(end: Ending, b: Built): void {
  assert.ok(!end.output.includes(`cluster ${b.prefix} (${b.clusterDir}`), end.output);
  assert.ok(!end.output.includes(`slurm ${b.slurmDir}`), end.output);
}

/** The file ran its own teardowns; with `b`, run.mjs's sweep also found none of its cluster or Slurm left. */
function tookItselfDown(end: Ending, run: Run, b?: Built): void {
  assert.ok(tornDownInProcess(run), `the file did not tear down by itself:\n${end.output}`);
  if (b !== undefined) sweptNothingOf(end, b);
}

const CASES: Case[] = [
  {
    name: 'Ctrl-C (SIGINT to the process group of test/run.mjs)',
    argv: RUN_MJS,
    interrupt: (run) => process.kill(-run.child.pid!, 'SIGINT'),
    check(end, run, b) {
      assert.equal(end.signal, 'SIGINT', end.output);
      tookItselfDown(end, run, b);
    },
  },
  {
    name: 'SIGTERM to test/run.mjs alone',
    argv: RUN_MJS,
    interrupt: (run) => run.child.kill('SIGTERM'),
    check(end, run, b) {
      assert.equal(end.signal, 'SIGTERM', end.output);
      tookItselfDown(end, run, b);
    },
  },
  {
    name: 'SIGTERM to node --test alone',
    argv: RUN_MJS,
    interrupt: (run) => {
      const runner = childrenOf(run.child.pid!);
      assert.equal(runner.length, 1, `run.mjs has one child, node --test: ${runner.join(' ')}`);
      process.kill(runner[0]!, 'SIGTERM');
    },
    check(end, run, b) {
      assert.notEqual(end.code, 0, end.output);
      tookItselfDown(end, run, b);
    },
  },
  {
    name: 'SIGKILL to the test file (no teardown of its own can run: test/run.mjs sweeps)',
    argv: RUN_MJS,
    interrupt: (_run, b) => process.kill(b.pid, 'SIGKILL'),
    check(end, run, b) {
      assert.equal(end.code, 1, end.output);
      assert.ok(!tornDownInProcess(run), 'a SIGKILLed file ran its teardowns?');
      assert.match(end.output, new RegExp(`cluster ${b.prefix} \\(${b.clusterDir}, owner ${b.pid} gone\\)`), end.output);
      assert.ok(end.output.includes(`slurm ${b.slurmDir} (owner ${b.pid} gone)`), end.output);
    },
  },
  {
    name: 'the file outlives --test-timeout (node --test alone, no sweep: the runner sends the file SIGTERM)',
    argv: [...RUNNER, '--test-timeout=60000', FIXTURE],
    check(end, run) {
      assert.equal(end.code, 1, end.output);
      assert.match(end.output, /test timed out after 60000ms/, end.output);
      tookItselfDown(end, run);
    },
  },
  {
    name: 'a test times out (node --test alone, no sweep: the file stops its jobs, then its after() hooks run)',
    argv: [...RUNNER, FIXTURE],
    env: { FIXTURE_TEST_TIMEOUT: '30000' },
    check(end, run) {
      assert.equal(end.code, 1, end.output);
      assert.match(end.output, /test timed out after 30000ms/, end.output);
      tookItselfDown(end, run);
    },
  },
];

for (const c of CASES) {
  test(`nothing is left after ${c.name}`, { skip, timeout: 600_000 }, async (t) => {
    const run = start(c.argv, c.env);
    try {
      const b = await built(run);
      assert.deepEqual(leftovers(b).filter((l) => l.startsWith('namespace ')).length, 3, 'the fixture\'s cluster is up (2 hosts and the switch)');
      const interrupted = Date.now();
      c.interrupt?.(run, b);
      const end = await ending(run, 180_000);
      t.diagnostic(`the run ended ${Date.now() - interrupted} ms after ${c.interrupt === undefined ? 'everything was up' : 'the interruption'}`);
      c.check(end, run, b);
      assert.deepEqual(leftovers(b), [], end.output);
    } finally {
      rmSync(run.report, { recursive: true, force: true });
    }
  });
}
