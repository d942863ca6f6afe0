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
import { UsageError } from '../errors.js';
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
function unattendedOptions(connectTimeoutSeconds: number): string[] {
  return ['-T', '-o', 'BatchMode=yes', '-o', `ConnectTimeout=${connectTimeoutSeconds}`,
    '-o', 'ServerAliveInterval=5', '-o', 'ServerAliveCountMax=3'];
}

/** The launcher's own entry point: the same path on every host, like the program. */
const MAIN_SCRIPT = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export class SshStarter implements Starter {
  constructor(private readonly opts: SshOptions) {}

  start(spec: RankSpec, withStdin: boolean): RankProcess {
    const node = spec.command[0]!;
    const remote = `exec ${[node, MAIN_SCRIPT, REMOTE_RANK_COMMAND].map(shellQuote).join(' ')}`;
    const [program, ...sshArgs] = this.opts.ssh;
    const child = spawn(program!, [...sshArgs, ...unattendedOptions(this.opts.connectTimeoutSeconds), spec.host, remote], {
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own group: Ctrl-C at the terminal reaches the launcher, which stops ranks in order.
      detached: true,
    });
    child.stdin!.on('error', () => {});
    const request: RemoteStart = { command: spec.command, cwd: spec.cwd, env: spec.env, stdin: withStdin };
    child.stdin!.write(`${JSON.stringify(request)}\n`);
    return new SshRank(spec, child, withStdin);
  }
}

class SshRank implements RankProcess {
  readonly rank: number;
  readonly host: string;
  readonly stdout;
  readonly stderr = new PassThrough();
  readonly stdin: Writable | null;
  readonly exited: Promise<RankExit>;
  private remotePid: number | undefined;
  private status: RemoteStatus | null = null;
  /** ssh's own words before the rank started: why a login failed. */
  private readonly sshSaid: string[] = [];

  constructor(spec: RankSpec, private readonly child: ChildProcess, withStdin: boolean) {
    this.rank = spec.rank;
    this.host = spec.host;
    this.stdout = child.stdout!;
    this.stdin = withStdin ? this.stdinForwarder() : null;
    const stderrDone = this.readStderr();
    this.exited = new Promise((resolve) => {
      child.once('error', (err) => {
        resolve({ code: 127, signal: null, message: `cannot run the ssh command "${spec.host}": ${err.message}` });
      });
      child.once('exit', (code, signal) => {
        void stderrDone.then(() => resolve(this.exitOf(code, signal)));
      });
    });
  }

  get pid(): number | undefined {
    return this.remotePid;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.send({ signal });
    if (signal === 'SIGKILL') {
      // The wrapper kills the group when the session closes, even if this line never arrives.
      this.child.stdin!.end();
      setTimeout(() => this.child.kill('SIGKILL'), 1000).unref();
    }
  }

  private send(input: RemoteInput): void {
    if (this.child.stdin!.writable) this.child.stdin!.write(`${JSON.stringify(input)}\n`);
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
  private readStderr(): Promise<void> {
    const lines = createInterface({ input: this.child.stderr!, crlfDelay: Infinity });
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
