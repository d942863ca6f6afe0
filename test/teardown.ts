/**
 * Teardown that runs however a test file ends.
 *
 * node:test's after() runs only when a file ends by itself. `node --test` runs
 * each file as a child process and, when it is interrupted itself (SIGINT,
 * SIGTERM) or a file outlives --test-timeout, sends that file SIGTERM; Ctrl-C
 * also sends every process of the terminal's group SIGINT. A file without a
 * handler dies of either at once, and the namespaces, sshds and Slurm daemons
 * it started outlive it: they are daemons, in no process group of ours.
 *
 * So whatever starts something that outlives its starter registers its
 * teardown here. Each runs once, at the first of: its own run() (from an
 * after() hook), SIGINT, SIGTERM, SIGHUP, or the process's exit. Teardowns are
 * synchronous (spawnSync): a signal handler that returned to the event loop
 * could be cut short by the next signal, and an 'exit' listener has no later.
 * After a signal the file exits with 128 + the signal's number.
 *
 * What even this cannot catch (the file SIGKILLed) test/sweep.mjs removes after
 * the run.
 */
import type { ChildProcess } from 'node:child_process';
import { after } from 'node:test';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// Not helpers.ts's ROOT: helpers.ts imports this module.
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface Teardown {
  /** Runs the teardown now, unless it ran already; it is then forgotten. */
  run(): void;
}

interface Entry {
  what: () => string;
  fn: () => void;
}

const pending: Entry[] = [];
let installed = false;
let interrupted = false;

/** Registers `fn` (synchronous) to run once when the file ends, however it ends; `what` names it in messages. */
export function onTeardown(what: string | (() => string), fn: () => void): Teardown {
  install();
  const entry: Entry = { what: typeof what === 'string' ? () => what : what, fn };
  pending.push(entry);
  return { run: () => runEntry(entry) };
}

function runEntry(entry: Entry): void {
  const at = pending.indexOf(entry);
  if (at < 0) return;
  pending.splice(at, 1);
  try {
    entry.fn();
  } catch (error) {
    say(`teardown of ${entry.what()} failed: ${(error as Error).message}`);
  }
}

/** Last registered first: a job goes before the cluster it runs on. */
function runAll(): void {
  while (pending.length > 0) runEntry(pending[pending.length - 1]!);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      // A second Ctrl-C, or the runner's SIGTERM after the terminal's SIGINT, while tearing down.
      if (interrupted) return;
      interrupted = true;
      const what = pending.map((e) => e.what()).filter((w) => w !== '').reverse();
      if (what.length > 0) say(`${signal}: taking down ${what.join(', ')}`);
      runAll();
      process.exit(128 + constants.signals[signal]);
    });
  }
}

/** To stderr, when anyone still reads it: once the runner has gone, the pipe has no reader. */
function say(text: string): void {
  try {
    process.stderr.write(`${relative(ROOT, process.argv[1] ?? '?')}: ${text}\n`);
  } catch {
    // Nobody to tell.
  }
}

const children = new Set<ChildProcess>();
let childrenTeardown: Teardown | null = null;

// Once every test of the file is done, a job still running has no test left to
// serve: one whose test timed out (node:test fails the test but cannot stop
// what it started), which would keep the file, and its after() hooks, waiting
// until the job's own kill timer. Registered as this module loads, so on the
// file's root and before the file's own after() hooks (they run in order): the
// jobs go before the cluster they run on.
after(() => stopChildren());

/**
 * Stops `child` (a launcher, srun, mpiexec) if it still runs when the file is
 * interrupted: SIGTERM (a launcher then stops its ranks: SIGTERM, SIGKILL after
 * its grace of 3 s), and SIGKILL for what still runs 5 s later.
 */
export function track(child: ChildProcess): void {
  if (child.pid === undefined) return;
  children.add(child);
  child.once('exit', () => children.delete(child));
  childrenTeardown ??= onTeardown(() => (children.size === 0 ? '' : `${children.size} running job(s)`), stopChildren);
}

function stopChildren(): void {
  const running = [...children].filter((c) => c.exitCode === null && c.signalCode === null);
  for (const child of running) child.kill('SIGTERM');
  const deadline = Date.now() + 5000;
  while (running.some((c) => !gone(c.pid!)) && Date.now() < deadline) sleep(50);
  for (const child of running) if (!gone(child.pid!)) child.kill('SIGKILL');
}

/**
 * Exited, as far as a synchronous caller can tell: the event loop does not run,
 * so nobody reaps the child, and a zombie counts as gone.
 */
function gone(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
