/**
 * Test harness: runs real jobs through the real launcher (dist/cli/main.js),
 * in real processes, and checks that none is left behind.
 */
import { spawn, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import assert from 'node:assert/strict';
import { track } from './teardown.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');

export interface JobResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** A token passed to every rank as its last argument, to find stray processes. */
  marker: string;
  ms: number;
}

export interface JobRun {
  /** Arguments for the script. */
  args?: string[];
  /** Options for `mpi4ts run` before the script. */
  launcher?: string[];
  env?: Record<string, string>;
  stdin?: string;
  /** Kill the launcher after this many ms (a test safety net, not a test of speed). */
  killAfterMs?: number;
  cwd?: string;
  /** Called with the launcher process once started (to signal it). */
  onStart?: (pid: number) => void;
  /** Called with each piece of the launcher's stdout as it comes. */
  onStdout?: (text: string) => void;
  /** A command that runs the launcher (e.g. setpriv with its options): the launcher is started as its arguments. */
  wrap?: string[];
}

/** `mpi4ts run -n np [launcher...] program [args...] <marker>` */
export function mpirun(np: number, program: string, run: JobRun = {}): Promise<JobResult> {
  const marker = `mpi4ts-test-${randomUUID()}`;
  const argv = [CLI, 'run', '-n', String(np), ...(run.launcher ?? []), program, ...(run.args ?? []), marker];
  return runNode(argv, run, marker);
}

/** `mpi4ts <argv...>` as a user types it. */
export function mpi4ts(argv: string[], run: JobRun = {}): Promise<JobResult> {
  return runNode([CLI, ...argv], run, '');
}

function runNode(argv: string[], run: JobRun, marker: string): Promise<JobResult> {
  const started = Date.now();
  const [command, ...args] = run.wrap === undefined ? [process.execPath, ...argv] : [...run.wrap, process.execPath, ...argv];
  const child = spawn(command!, args, {
    cwd: run.cwd ?? ROOT,
    env: { ...process.env, ...run.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // Interrupted, the file stops the job rather than leave it running without it.
  track(child);
  if (run.onStart !== undefined && child.pid !== undefined) run.onStart(child.pid);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    run.onStdout?.(d);
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  child.stdin.on('error', () => {});
  child.stdin.end(run.stdin ?? '');
  const killer = setTimeout(() => child.kill('SIGKILL'), run.killAfterMs ?? 120_000);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, marker, ms: Date.now() - started });
    });
  });
}

/** Processes whose command line holds `marker`, after a moment for exits to settle. */
export async function strays(marker: string, settleMs = 300): Promise<string[]> {
  await new Promise((r) => setTimeout(r, settleMs));
  const ps = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return ps.split('\n').filter((line) => line.includes(marker) && !line.includes('ps -eo'));
}

/** Path of a test program. */
/** The checks of test/programs/p2p.ts. */
export const P2P_CHECKS = ['ordering', 'wildcards', 'tagSelection', 'probes', 'ssendWaitsForMatch', 'bigTypedArray',
  'valueTypes', 'requests', 'specialRanks', 'recvIntoChecks', 'badInput'];
/** The communicators p2p.ts runs its checks on, in turn (as mpi4py binds its test classes to several). */
export const P2P_COMMUNICATORS = ['COMM_WORLD', 'dup', 'COMM_SELF'];
/** Checks of the transport rather than of a communicator, run on COMM_WORLD only. */
const P2P_WORLD_ONLY = new Set(['bigTypedArray']);

/** The ok lines p2p.ts prints when `checks` pass: every check on every communicator it runs on. */
export function p2pPassed(checks: readonly string[] = P2P_CHECKS): string[] {
  return P2P_COMMUNICATORS.flatMap((comm) => checks.filter((c) => comm === 'COMM_WORLD' || !P2P_WORLD_ONLY.has(c)).map((c) => `${c} on ${comm}`));
}

/**
 * The collective checks of test/programs/coll.ts that other launchers and the
 * multi-host cluster run: the main algorithms, without coll.test.ts's long op matrix.
 */
/** What test/programs/buffers.ts checks (the buffer and nonblocking collectives). */
export const BUFFER_CHECKS = ['rooted', 'everywhere', 'nonblocking', 'everyNonblocking', 'badInput'];

export const CORE_COLL_CHECKS = ['barrier', 'bcast', 'allgather', 'allreduce', 'bigAllreduce', 'scatterGather', 'alltoall', 'isolation'];

export function program(name: string): string {
  return join(ROOT, 'test', 'programs', name);
}

export function example(name: string): string {
  return join(ROOT, 'examples', name);
}

/** The checks a test program reported passing: its "ok <check>" lines, in order. */
/**
 * Runs `program` on `np` ranks and checks that the job ended 0 and printed
 * exactly the "ok ..." lines `ok`; the result, for what a test checks besides.
 */
export async function passes(np: number, program: string, ok: readonly string[], run: JobRun = {}): Promise<JobResult> {
  const r = await mpirun(np, program, run);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(okLines(r.stdout), ok);
  return r;
}

export function okLines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l.startsWith('ok ')).map((l) => l.slice(3));
}

/** Lines of output, sorted, for comparing output of ranks that print in any order. */
export function sortedLines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '').sort();
}
