// What a test run left behind, removed: test/run.mjs calls sweep() once
// `node --test` has exited, however it exited; `node test/sweep.mjs` does the
// state half (2 below) by hand, after a run that was killed outright.
//
// 1. The run's processes. test/run.mjs gives the runner MPI4TS_TEST_RUN, a
//    fresh id; every test file, job, rank, sshd and Slurm daemon the run
//    starts inherits it, and no other process on the machine has it (ranks
//    that ssh starts inside a namespace host do not, but they go with the
//    host in 2). The test files of an interrupted run are still taking down
//    what they built (test/teardown.ts): the sweep gives them 20 s. What is
//    left then is a leak (a file SIGKILLed, a daemon it can no longer stop):
//    it gets SIGTERM (a launcher then stops its ranks, a daemon exits), and
//    SIGKILL 10 s later; these are the processes the sweep reports. Never
//    dpkg or apt-get (a test may be installing packages): killed half-way
//    they leave a broken package database, and they end by themselves.
// 2. State whose owner is gone: `cluster.sh sweep` and the Slurm script's
//    `sweep` take down namespace clusters and Slurms whose owner file
//    (test/owner.sh) names a process that has gone: this run's, now that 1
//    ended its test files, and those of earlier runs that were killed. Never
//    one whose owner still runs (another test run on this machine), nor one
//    built by hand (it has no owner file). Root only: only root builds them.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const SCRIPTS = [join(root, 'test', 'cluster', 'cluster.sh'), join(root, 'test', 'interop', 'slurm', 'cluster.sh')];
/** For the test files to finish their own teardowns, then for what got SIGTERM to end. */
const SETTLE_MS = 20_000;
const GRACE_MS = 10_000;

/**
 * Removes what the run `runId` left (no id: only state whose owner is gone)
 * and resolves with one line per thing removed; nothing left, no lines.
 */
export async function sweep({ runId } = {}) {
  const removed = [];
  if (runId !== undefined && process.platform === 'linux') removed.push(...(await stopProcesses(runId)));
  if (process.getuid?.() === 0) {
    for (const script of SCRIPTS) removed.push(...(await sweepScript(script)));
  }
  return removed;
}

/** Processes whose environment holds MPI4TS_TEST_RUN=runId, but this one, zombies, and package installs. */
function processesOf(runId) {
  const needle = `MPI4TS_TEST_RUN=${runId}`;
  const found = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${name}/environ`, 'latin1').split('\0');
      if (!environ.includes(needle) || environ.some((v) => v.startsWith('DPKG_MAINTSCRIPT_NAME='))) continue;
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      // After "pid (comm) ": state is field 3, the start time field 22.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z' || /^(apt|dpkg)/.test(comm)) continue;
      const command = readFileSync(`/proc/${name}/cmdline`, 'latin1').replace(/[\0\s]+/g, ' ').trim() || `[${comm}]`;
      found.push({ pid: Number(name), start: fields[19], command });
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}

/** Still the same process (a pid may be reused), and no zombie. */
function running(p) {
  try {
    const stat = readFileSync(`/proc/${p.pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] !== 'Z' && fields[19] === p.start;
  } catch {
    return false;
  }
}

function signal(p, name) {
  try {
    if (running(p)) process.kill(p.pid, name);
  } catch {
    // Gone.
  }
}

async function stopProcesses(runId) {
  // Interrupted, the test files are still taking down what they built (their
  // teardowns run processes of their own, which carry the id too): what ends
  // by itself meanwhile was no leak.
  if (!(await settled(runId, SETTLE_MS))) {
    const left = processesOf(runId);
    for (const p of left) signal(p, 'SIGTERM');
    await settled(runId, GRACE_MS);
    const killed = processesOf(runId);
    for (const p of killed) signal(p, 'SIGKILL');
    return left.map((p) => `process ${p.pid} (${p.command.slice(0, 160)})${killed.some((k) => k.pid === p.pid) ? ', SIGKILL' : ''}`);
  }
  return [];
}

/** Resolves true once no process of the run is left, false if some still are after `ms`. */
async function settled(runId, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (processesOf(runId).length === 0) return true;
    if (Date.now() > deadline) return false;
    await delay(200);
  }
}

/**
 * `sh SCRIPT sweep`, in a process group of its own: a second Ctrl-C at the
 * terminal must not end it half-way. Resolves with the lines it printed.
 */
function sweepScript(script) {
  return new Promise((resolve) => {
    const child = spawn('sh', [script, 'sweep'], { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { err += d; });
    child.on('error', (error) => resolve([`${script} sweep could not start: ${error.message}`]));
    child.on('close', (code) => {
      const lines = out.split('\n').filter((l) => l !== '');
      if (code !== 0) lines.push(`${script} sweep exited with ${code}: ${err.trim()}`);
      resolve(lines);
    });
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const at = process.argv.indexOf('--run');
  const runId = at > 0 ? process.argv[at + 1] : undefined;
  const removed = await sweep({ runId });
  for (const line of removed) console.log(`removed ${line}`);
  if (removed.length === 0) console.log('nothing to remove');
}
