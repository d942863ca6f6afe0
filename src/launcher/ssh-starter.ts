/**
 * Starts ranks on other hosts with the system's ssh client, as Hydra's ssh
 * launcher does: BatchMode (a password prompt would hang the job), no tty,
 * a bounded connect time, and keep-alives so a dead link ends the session.
 * The user's ~/.ssh/config applies; `--ssh "ssh -F file -p 2222"` or
 * MPI4TS_SSH replaces the command. On the far side `mpi4ts _remote-rank`
 * (remote-rank.ts) gets the rank's command, environment and job key on
 * stdin: they never appear on a command line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PassThrough, Writable } from 'node:stream';
import { createInterface } from 'node:readline';
import { UsageError } from '../base/index.js';
import type { RankExit, RankProcess, RankSpec, Starter } from './starter.js';
import { REMOTE_RANK_COMMAND, WRAPPER_MARK, type RemoteInput, type RemoteStart, type RemoteStatus } from './remote-protocol.js';

export interface SshOptions {
  /** The ssh command and its own options, e.g. ['ssh', '-F', 'cfg']. */
  ssh: string[];
  /** Seconds ssh may take to connect (ssh -o ConnectTimeout). */
  connectTimeoutSeconds: number;
}

/** ssh exits 255 when ssh itself failed (connect, login), not the remote command. */
const SSH_FAILED = 255;

/** Options that make ssh fit to run unattended; they come after the user's, which win (ssh keeps the first value). */
export function unattendedOptions(connectTimeoutSeconds: number): string[] {
  return ['-T', '-o', 'BatchMode=yes', '-o', `ConnectTimeout=${connectTimeoutSeconds}`,
    '-o', 'ServerAliveInterval=5', '-o', 'ServerAliveCountMax=3'];
}

/** The launcher's own entry point: the same path on every host, like the program. */
const MAIN_SCRIPT = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/**
 * sshd drops connections beyond MaxStartups (10 by default) that have not
 * logged in yet, so a host gets at most this many ssh sessions in the middle
 * of logging in at once; the next starts when one of them has started its rank.
 */
export const SSH_LOGINS_PER_HOST = 8;

export class SshStarter implements Starter {
  private readonly gates = new Map<string, LoginGate>();

  constructor(private readonly opts: SshOptions) {}

  start(spec: RankSpec, withStdin: boolean): RankProcess {
    const node = spec.command[0]!;
    const remote = `exec ${[node, MAIN_SCRIPT, REMOTE_RANK_COMMAND].map(shellQuote).join(' ')}`;
    const [program, ...sshArgs] = this.opts.ssh;
    const argv = [...sshArgs, ...unattendedOptions(this.opts.connectTimeoutSeconds), spec.host, remote];
    const request: RemoteStart = { command: spec.command, fallback: spec.fallback, cwd: spec.cwd, env: spec.env, stdin: withStdin };
    const launch = (): ChildProcess => {
      const child = spawn(program!, argv, {
        stdio: ['pipe', 'pipe', 'pipe'],
        // Its own group: Ctrl-C at the terminal reaches the launcher, which stops ranks in order.
        detached: true,
      });
      child.stdin!.on('error', () => {});
      child.stdin!.write(`${JSON.stringify(request)}\n`);
      return child;
    };
    let gate = this.gates.get(spec.host);
    if (gate === undefined) {
      gate = new LoginGate(SSH_LOGINS_PER_HOST);
      this.gates.set(spec.host, gate);
    }
    return new SshRank(spec, withStdin, gate, launch);
  }
}

/** Lets at most `limit` logins run at once; the rest wait in order. */
class LoginGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  enter(go: () => void): void {
    if (this.running < this.limit) {
      this.running++;
      go();
    } else {
      this.waiting.push(go);
    }
  }

  leave(): void {
    const next = this.waiting.shift();
    if (next !== undefined) next();
    else this.running--;
  }
}

class SshRank implements RankProcess {
  readonly rank: number;
  readonly host: string;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly stdin: Writable | null;
  readonly exited: Promise<RankExit>;
  readonly localGroup: Promise<number | undefined>;
  private resolveGroup: (pgid: number | undefined) => void = () => {};
  private child: ChildProcess | null = null;
  /** Input for the wrapper written before ssh was started. */
  private readonly pending: string[] = [];
  /** Stopped before ssh was even started. */
  private cancelled: NodeJS.Signals | null = null;
  private inGate = true;
  private remotePid: number | undefined;
  private status: RemoteStatus | null = null;
  /** ssh's own words before the rank started: why a login failed. */
  private readonly sshSaid: string[] = [];
  private resolveExit: (exit: RankExit) => void = () => {};

  constructor(spec: RankSpec, withStdin: boolean, private readonly gate: LoginGate, launch: () => ChildProcess) {
    this.rank = spec.rank;
    this.host = spec.host;
    this.stdin = withStdin ? this.stdinForwarder() : null;
    this.exited = new Promise((resolve) => {
      this.resolveExit = resolve;
    });
    this.localGroup = new Promise((resolve) => {
      this.resolveGroup = resolve;
    });
    gate.enter(() => this.launched(launch));
  }

  get pid(): number | undefined {
    return this.remotePid;
  }

  kill(signal: NodeJS.Signals): void {
    const child = this.child;
    if (child === null) {
      // Still waiting for its turn to log in: it never starts.
      if (this.cancelled === null) this.cancelled = signal;
      return;
    }
    if (child.exitCode !== null || child.signalCode !== null) return;
    this.send({ signal });
    if (signal === 'SIGKILL') {
      // The wrapper kills the group when the session closes, even if this line never arrives.
      child.stdin!.end();
      setTimeout(() => child.kill('SIGKILL'), 1000).unref();
    }
  }

  private launched(launch: () => ChildProcess): void {
    if (this.cancelled !== null) {
      this.resolveGroup(undefined);
      this.leaveGate();
      this.stdout.end();
      this.stderr.end();
      this.resolveExit({ code: null, signal: this.cancelled, message: `rank ${this.rank} on host "${this.host}" was stopped before it started` });
      return;
    }
    const child = launch();
    this.child = child;
    // ssh runs detached: it leads its own group.
    this.resolveGroup(child.pid);
    for (const line of this.pending.splice(0)) child.stdin!.write(line);
    child.stdout!.pipe(this.stdout);
    const stderrDone = this.readStderr(child);
    child.once('error', (err) => {
      this.leaveGate();
      this.stdout.end();
      this.resolveExit({ code: 127, signal: null, message: `cannot run the ssh command "${this.host}": ${err.message}` });
    });
    child.once('exit', (code, signal) => {
      this.leaveGate();
      void stderrDone.then(() => this.resolveExit(this.exitOf(code, signal)));
    });
  }

  private leaveGate(): void {
    if (!this.inGate) return;
    this.inGate = false;
    this.gate.leave();
  }

  private send(input: RemoteInput): void {
    const line = `${JSON.stringify(input)}\n`;
    if (this.child === null) this.pending.push(line);
    else if (this.child.stdin!.writable) this.child.stdin!.write(line);
  }

  private stdinForwarder(): Writable {
    return new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        this.send({ in: chunk.toString('base64') });
        callback();
      },
      final: (callback) => {
        // End of the user's input, not of the session: the session's end stops the rank.
        this.send({ eof: true });
        callback();
      },
    });
  }

  /** Splits ssh's stderr into the wrapper's status lines and the rank's own output. */
  private readStderr(child: ChildProcess): Promise<void> {
    const lines = createInterface({ input: child.stderr!, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (line.startsWith(WRAPPER_MARK)) {
        this.onStatus(line.slice(WRAPPER_MARK.length));
      } else if (this.remotePid === undefined && this.status === null) {
        this.sshSaid.push(line);
      } else {
        this.stderr.write(`${line}\n`);
      }
    });
    return new Promise((resolve) => lines.once('close', () => {
      this.stderr.end();
      resolve();
    }));
  }

  private onStatus(json: string): void {
    let status: RemoteStatus;
    try {
      status = JSON.parse(json) as RemoteStatus;
    } catch {
      return;
    }
    if ('started' in status) {
      this.remotePid = status.started;
      this.leaveGate();
      // Whatever came before the start (a login banner, a warning) is shown, not lost.
      for (const line of this.sshSaid.splice(0)) this.stderr.write(`${line}\n`);
      return;
    }
    this.status = status;
  }

  private exitOf(code: number | null, signal: NodeJS.Signals | null): RankExit {
    const status = this.status;
    if (status !== null && 'exit' in status) return status.exit;
    if (status !== null && 'error' in status) {
      return { code: 127, signal: null, message: `rank ${this.rank}: ${status.error} (same paths are needed on every host)` };
    }
    const said = this.sshSaid.join(' / ').trim().replace(/\.$/, '');
    if (this.remotePid === undefined) {
      return {
        code: code === 0 || code === null ? SSH_FAILED : code, signal: null,
        message: `cannot start rank ${this.rank} on host "${this.host}" over ssh (ssh exited with ${signal ?? `code ${code}`})` +
          `${said === '' ? '' : `: ${said}`}; check that "ssh ${this.host} true" works without a password ` +
          '(keys, BatchMode), that Node and mpi4ts are at the same paths there, or set the ssh command with --ssh',
      };
    }
    return {
      code: code === 0 || code === null ? SSH_FAILED : code, signal: null,
      message: `lost the ssh session to host "${this.host}" running rank ${this.rank} (pid ${this.remotePid}; ssh exited with ` +
        `${signal ?? `code ${code}`})${said === '' ? '' : `: ${said}`}`,
    };
  }
}

/** `'it'\''s'`: safe for the remote login shell, whatever the path holds. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Splits `--ssh "ssh -F cfg -p 2222"` into words; quotes group words, as a shell would. */
export function splitCommand(text: string, what: string): string[] {
  const words: string[] = [];
  const pattern = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) words.push(m[1] ?? m[2] ?? m[3]!);
  if (words.length === 0) throw new UsageError(`${what} must name an ssh command, got "${text}"`);
  return words;
}
