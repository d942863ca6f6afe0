// Runs every test/**/*.test.ts with node's own test runner (TypeScript through
// tsx), then removes whatever the run left behind (test/sweep.mjs), also when
// it was interrupted.
//
// Ctrl-C sends SIGINT to the terminal's whole process group, the runner
// included; SIGTERM or SIGHUP to this process alone would reach nobody else.
// Either way the runner gets the signal, and this process stays: `node --test`
// sends each running test file SIGTERM and exits at once, without waiting for
// them; the files take down what they built (test/teardown.ts) and sweep()
// waits for them, and kills and removes what is left. So an interrupted run
// leaves no namespace, sshd or Slurm daemon behind, nor a job still running.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { constants } from 'node:os';
import { sweep } from './sweep.mjs';

const root = new URL('..', import.meta.url).pathname;
/**
 * Directories `npm test` leaves to `npm run test:hosts` (CI runs both): the
 * multi-host tests on network namespaces and the other engines' (Hydra,
 * Slurm, Open MPI), which build clusters and daemons and took about 370 s
 * of the 1180 s of test time, too much for npm test's 10 minutes on 2 cores.
 */
const APART = new Set(['test/multihost', 'test/interop']);
function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'programs' || APART.has(relative(root, path)) ? [] : find(path);
    return name.endsWith('.test.ts') ? [relative(root, path)] : [];
  });
}
const only = process.argv.slice(2);
const files = only.length > 0 ? only : find(join(root, 'test')).sort();
// What every process of this run inherits, and nothing else on the machine has: how sweep() finds them.
const runId = randomUUID();
const runner = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files],
  { cwd: root, stdio: 'inherit', env: { ...process.env, MPI4TS_TEST_RUN: runId } });

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let interruptedBy = null;
function forward(signal) {
  interruptedBy ??= signal;
  if (runner.exitCode === null && runner.signalCode === null) runner.kill(signal);
}
for (const signal of SIGNALS) process.on(signal, forward);

const [code] = await once(runner, 'exit');
if (interruptedBy !== null) process.stderr.write(`test/run.mjs: interrupted (${interruptedBy}); removing what the tests started...\n`);
const removed = await sweep({ runId });
if (removed.length > 0) {
  const what = interruptedBy === null ? 'left behind by the tests, now removed' : 'removed after the interruption';
  process.stderr.write(`test/run.mjs: ${what}:\n${removed.map((line) => `  ${line}\n`).join('')}`);
}
if (interruptedBy !== null) {
  // Ended by the signal, as the shell that started this expects of an interrupted command.
  for (const signal of SIGNALS) process.off(signal, forward);
  process.kill(process.pid, interruptedBy);
  process.exit(128 + constants.signals[interruptedBy]);
}
process.exit(code ?? 1);
