/**
 * The remote side of an ssh-started rank (`mpi4ts _remote-rank`). It reads
 * what to run from stdin (see remote-protocol.ts), starts the rank in its own
 * process group, forwards its output, and ties the rank's life to the ssh
 * session: when stdin closes (the launcher died or the session dropped), the
 * whole group gets SIGTERM and, two seconds later, SIGKILL. Signals the
 * launcher sends, and those sshd or a user sends to the wrapper, go to the
 * group too; when the rank ends, so does anything it left behind.
 *
 * # Unfinished features
 * - One wrapper and one ssh session per rank: no daemon per host and no
 *   launch tree (as Hydra's proxies), so 64 ranks on a host are 64 logins.
 * - A wrapper killed with SIGKILL cannot stop its rank: nothing on the
 *   remote host watches it (the watchdog runs on the launcher's host only),
 *   and the rank ends when it notices its connections closed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { createInterface } from 'node:readline';
import { constants as osConstants } from 'node:os';
import { killGroup } from './process-group.js';
import { WRAPPER_MARK, type RemoteInput, type RemoteStart, type RemoteStatus } from './remote-protocol.js';
import { nodeStripSupport } from './typescript.js';

const KILL_GRACE_MS = 2000;

export function remoteRankMain(): Promise<number> {
  return new Promise((resolve) => {
    const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
    let child: ChildProcess | null = null;
    let requested = false;
    lines.on('line', (line) => {
      if (!requested) {
        requested = true;
        child = startRank(line, resolve);
        return;
      }
      if (child?.pid !== undefined) handleInput(child, line);
    });
    lines.on('close', () => {
      if (child === null) {
        if (!requested) report({ error: `no start request arrived on stdin on ${hostname()}` });
        resolve(2);
        return;
      }
      // The ssh session is gone: nobody can stop or hear this rank any more.
      stopGroup(child);
    });
  });
}

function startRank(line: string, done: (code: number) => void): ChildProcess | null {
  let request: RemoteStart;
  try {
    request = JSON.parse(line) as RemoteStart;
  } catch {
    report({ error: `the start request on ${hostname()} is not JSON` });
    done(2);
    return null;
  }
  // The launcher chose Node alone for a .ts program; a host whose Node cannot strip types runs the tsx form.
  const command = request.fallback !== undefined && nodeStripSupport().strip === null ? request.fallback : request.command;
  const [program, ...args] = command;
  const child = spawn(program!, args, {
    cwd: request.cwd,
    env: { ...process.env, ...request.env },
    stdio: [request.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.once('error', (err: NodeJS.ErrnoException) => {
    const what = err.code === 'ENOENT' ? `"${program}" or the directory "${request.cwd}" does not exist` : err.message;
    report({ error: `cannot start the rank on ${hostname()}: ${what}` });
    done(127);
  });
  child.stdin?.on('error', () => {});
  child.once('spawn', () => {
    report({ started: child.pid!, host: hostname() });
    forwardSignals(child);
  });
  const outputs = [pipeOut(child.stdout!, process.stdout), pipeOut(child.stderr!, process.stderr)];
  child.once('exit', (code, signal) => {
    // Let the output drain, but not for ever: a leftover grandchild may hold the pipes.
    const drained = Promise.race([Promise.all(outputs), new Promise((r) => setTimeout(r, 1000))]);
    void drained.then(() => {
      killGroup(child.pid, 'SIGKILL');
      report({ exit: { code, signal } });
      done(code ?? 128 + (osConstants.signals[signal!] ?? 0));
    });
  });
  return child;
}

function handleInput(child: ChildProcess, line: string): void {
  let input: RemoteInput;
  try {
    input = JSON.parse(line) as RemoteInput;
  } catch {
    return;
  }
  if ('in' in input) child.stdin?.write(Buffer.from(input.in, 'base64'));
  else if ('eof' in input) child.stdin?.end();
  else if ('signal' in input && input.signal in osConstants.signals) killGroup(child.pid, input.signal);
}

function forwardSignals(child: ChildProcess): void {
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => killGroup(child.pid, signal));
}

function stopGroup(child: ChildProcess): void {
  killGroup(child.pid, 'SIGTERM');
  setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS).unref();
}

/** Copies output and remembers whether it ended mid-line, so a status line starts on its own line. */
let stderrMidLine = false;
function pipeOut(from: NodeJS.ReadableStream, to: NodeJS.WriteStream): Promise<void> {
  to.on('error', () => {});
  from.on('data', (chunk: Buffer) => {
    if (to === process.stderr && chunk.length > 0) stderrMidLine = chunk[chunk.length - 1] !== 0x0a;
    to.write(chunk);
  });
  return new Promise((resolve) => {
    from.once('end', resolve);
    from.once('error', () => resolve());
  });
}

function report(status: RemoteStatus): void {
  const line = `${stderrMidLine ? '\n' : ''}${WRAPPER_MARK}${JSON.stringify(status)}\n`;
  stderrMidLine = false;
  process.stderr.write(line);
}
