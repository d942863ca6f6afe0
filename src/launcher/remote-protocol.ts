/**
 * What the launcher and the remote wrapper (`mpi4ts _remote-rank`, started by
 * ssh on the rank's host) say to each other. Launcher -> wrapper goes over
 * ssh's stdin, one JSON object a line, so the job key never appears on a
 * command line (where `ps` on the remote host would show it). Wrapper ->
 * launcher rides on ssh's stderr as lines starting with WRAPPER_MARK, which
 * the ssh starter removes before the rank's own stderr is forwarded.
 */

/** First line: what to run. */
export interface RemoteStart {
  command: string[];
  /** What to run instead where this host's Node does not strip types (RankSpec.fallback). */
  fallback?: string[];
  cwd: string;
  env: Record<string, string>;
  /** Whether the launcher forwards its stdin to this rank. */
  stdin: boolean;
}

/** Later lines: the rank's stdin, its end, or a signal for the rank's process group. */
export type RemoteInput =
  | { in: string }
  | { eof: true }
  | { signal: NodeJS.Signals };

/** Status lines from the wrapper. */
export type RemoteStatus =
  | { started: number; host: string }
  | { exit: { code: number | null; signal: NodeJS.Signals | null } }
  | { error: string };

/** Record separator + name: no program prints this at the start of a line by accident. */
export const WRAPPER_MARK = '\u001empi4ts-wrapper ';

/** The internal subcommand that runs the wrapper. */
export const REMOTE_RANK_COMMAND = '_remote-rank';
