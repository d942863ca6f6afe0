/**
 * The pending-operation registry (DESIGN.md "Hang reports and deadlocks"):
 * what this rank waits for, described for a person and for the launcher's
 * wait-for graph. It adds no structure of its own to the hot path: the
 * engine's posted receives, probe waiters and rendezvous sends already are
 * the set of pending operations, and each carries the few fields a report
 * needs (when it started, and under MPI4TS_DEBUG_CALLS where the user called
 * it). `P2PEngine.pendingReport` walks them only when a report is asked for.
 *
 * The time an operation started is the progress engine's clock
 * (Progress.clock), a reading it takes anyway at every activity: stamping an
 * operation reads no clock of its own (a clock read is 3% of an 8-byte
 * round trip over shared memory).
 */

import type { PendingOperation, UnmatchedMessage } from '../base/index.js';
// The shapes are base's: the launcher's side of the report (wire/pending-report.ts) uses them too.
export type { PendingOperation, PendingWait, UnmatchedMessage } from '../base/index.js';

/** What the engine knows of this rank's pending work, for a report. */
export interface EngineReport {
  pending: PendingOperation[];
  /** The first unmatched messages (at most MAX_UNMATCHED), and how many there are in all. */
  unexpected: UnmatchedMessage[];
  unexpectedCount: number;
  /**
   * Operations the progress engine counts that the list cannot describe (a
   * send waiting for room in a ring or socket, a rendezvous's data on its
   * way): work in flight, so this rank is not stuck.
   */
  otherPending: number;
  /** Frames sent to and received from each peer by this engine: `[peer, sent, received]`, peers with any only. */
  frames: [number, number, number][];
}

/** Unmatched messages listed in a report; the count says how many more there were. */
export const MAX_UNMATCHED = 16;

/**
 * The file URL prefix of mpi4ts's own code (its dist folder): frames there
 * are the library's, and the user's call is the first frame outside it.
 */
const OWN_CODE = ((): string => {
  const url = import.meta.url;
  const dist = url.lastIndexOf('/dist/');
  return dist >= 0 ? url.slice(0, dist + 6) : new URL('..', url).href;
})();

/**
 * A stack for finding the user's call later (only under
 * MPI4TS_DEBUG_CALLS): capturing one costs about a microsecond, formatting
 * it several, so only the capture is paid per call and the text is made
 * when a report asks.
 */
export function captureCall(): Error {
  const limit = Error.stackTraceLimit;
  // Deep enough to climb out of the library's own frames (a collective's receive sits under several).
  Error.stackTraceLimit = 24;
  const err = new Error('call site');
  Error.stackTraceLimit = limit;
  return err;
}

/** The user's file:line in a captured stack: the first frame outside mpi4ts and Node, or null. */
export function callSiteOf(captured: Error | null): string | null {
  if (captured === null) return null;
  const lines = (captured.stack ?? '').split('\n').slice(1);
  for (const line of lines) {
    const where = /\(?((?:file:\/\/|\/)[^()\s]+):(\d+):\d+\)?\s*$/.exec(line.trim());
    if (where === null) continue;
    const file = where[1]!;
    const url = file.startsWith('file://') ? file : `file://${file}`;
    if (url.startsWith(OWN_CODE) || url.includes('/node_modules/')) continue;
    return `${relativeToCwd(url)}:${where[2]!}`;
  }
  return null;
}

function relativeToCwd(url: string): string {
  const path = decodeURIComponent(url.slice('file://'.length));
  const cwd = `${process.cwd()}/`;
  return path.startsWith(cwd) ? path.slice(cwd.length) : path;
}
