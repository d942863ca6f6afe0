/**
 * How a rank's process is started. The launcher plans ranks, then asks a
 * starter for each: locally with child_process.spawn, remotely over ssh.
 */
import type { Readable, Writable } from 'node:stream';

export interface RankSpec {
  rank: number;
  /** Host the rank runs on, as named in the host list ('localhost' for local ranks). */
  host: string;
  /** Program and arguments, e.g. [node, --import, tsx, app.ts, ...]. */
  command: string[];
  /**
   * The command to run instead on a host whose Node cannot strip types (the
   * tsx form of a .ts program `command` runs on Node alone); absent otherwise.
   * Local ranks run on the launcher's Node, which decided: only the remote
   * wrapper looks at it.
   */
  fallback?: string[];
  /** Variables to set on top of the inherited environment. */
  env: Record<string, string>;
  cwd: string;
}

export interface RankExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why the rank could not run or was lost, when the starter knows better than an exit code. */
  message?: string;
}

export interface RankProcess {
  readonly rank: number;
  readonly host: string;
  readonly pid: number | undefined;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly stdin: Writable | null;
  readonly exited: Promise<RankExit>;
  /**
   * The process group on this host that holds the rank, or its ssh session,
   * once started (undefined if it never starts): what the watchdog kills if
   * the launcher dies.
   */
  readonly localGroup: Promise<number | undefined>;
  /** Signals the rank (and whatever it started). */
  kill(signal: NodeJS.Signals): void;
}

export interface Starter {
  start(spec: RankSpec, withStdin: boolean): RankProcess;
}
