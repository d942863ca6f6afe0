/**
 * How the doctor runs a command on a host: here for this machine, through
 * ssh for the others, with the same unattended options the ssh starter uses
 * (BatchMode: a password prompt would hang; a bounded ConnectTimeout). Unit
 * tests pass their own Runner.
 */
import { spawn } from 'node:child_process';
import { shellQuote, unattendedOptions } from '../launcher/index.js';

export interface ExecResult {
  /** Exit code; 255 from ssh means ssh itself failed; null when killed by the time-out. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** The command ran out of time and was killed. */
  timedOut: boolean;
}

/** A command left running (a port listener): its first line of output, and a way to end it. */
export interface Session {
  firstLine: Promise<string | null>;
  close(): void;
}

export interface Runner {
  /** Runs argv on `host` (`localhost`: this machine), stdin written and closed, killed after timeoutMs. */
  exec(host: string, argv: string[], opts: { stdin?: string; timeoutMs: number; local: boolean }): Promise<ExecResult>;
  /** Starts argv on `host` and leaves it running until close(). */
  open(host: string, argv: string[], opts: { local: boolean }): Session;
}

export interface SystemRunnerOptions {
  /** The ssh command and its own options, e.g. ['ssh', '-F', 'cfg']. */
  ssh: string[];
  connectTimeoutSeconds: number;
}


export class SystemRunner implements Runner {
  constructor(private readonly opts: SystemRunnerOptions) {}

  /** The local argv that runs `argv` on `host`. */
  commandFor(host: string, argv: string[], local: boolean): string[] {
    if (local) return argv;
    // The launcher's own options for unattended ssh: what fails here fails for its ranks.
    return [...this.opts.ssh, ...unattendedOptions(this.opts.connectTimeoutSeconds), host, argv.map(shellQuote).join(' ')];
  }

  exec(host: string, argv: string[], opts: { stdin?: string; timeoutMs: number; local: boolean }): Promise<ExecResult> {
    const [program, ...args] = this.commandFor(host, argv, opts.local);
    return new Promise((resolve) => {
      const child = spawn(program!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, opts.timeoutMs);
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stdin.on('error', () => {});
      child.stdin.end(opts.stdin ?? '');
      child.once('error', (err) => {
        clearTimeout(timer);
        resolve({ code: 127, stdout, stderr: `${stderr}${err.message}`, timedOut });
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code: timedOut ? null : code, stdout, stderr, timedOut });
      });
    });
  }

  open(host: string, argv: string[], opts: { local: boolean }): Session {
    const [program, ...args] = this.commandFor(host, argv, opts.local);
    const child = spawn(program!, args, { stdio: ['pipe', 'pipe', 'ignore'] });
    child.stdin.on('error', () => {});
    const firstLine = new Promise<string | null>((resolve) => {
      let text = '';
      child.stdout.on('data', (d: Buffer) => {
        text += d.toString();
        const newline = text.indexOf('\n');
        if (newline >= 0) resolve(text.slice(0, newline));
      });
      child.once('error', () => resolve(null));
      child.once('close', () => resolve(null));
    });
    return {
      firstLine,
      close: () => {
        // The listener exits when its stdin ends (the session closes); the kill is the safety net.
        child.stdin.end();
        setTimeout(() => child.kill('SIGKILL'), 2000).unref();
      },
    };
  }
}
