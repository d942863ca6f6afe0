/**
 * A rank's hang report: what it waits for, what arrived that nothing has
 * matched, and what else could wake it. The rank makes it (comm/world.ts,
 * from the p2p registry), sends it over the control connection when the
 * launcher asks (control-protocol.ts, REPORT and PENDING) or prints it
 * itself under other launchers on SIGUSR1; the launcher prints every rank's
 * and builds the wait-for graph from them (launcher/deadlock.ts). Here, below
 * both, are its shape and its words.
 */
import type { PendingOperation, UnmatchedMessage } from '../base/index.js';

/** One pending operation, as it travels (base/diagnostics.ts PendingOperation). */
export type ReportedOperation = PendingOperation;

/** A message no receive has matched, as it travels (base/diagnostics.ts UnmatchedMessage). */
export type ReportedMessage = UnmatchedMessage;

export interface RankReport {
  rank: number;
  host: string;
  pid: number;
  /** The first pending operations (a rank lists at most 64), and how many there are. */
  pending: ReportedOperation[];
  pendingCount: number;
  unexpected: ReportedMessage[];
  unexpectedCount: number;
  /** Work in flight the registry cannot describe (a send waiting for room, a rendezvous's data): not stuck. */
  otherPending: number;
  /** `[peer, sent, received]` frame counts of this rank's engine (empty when omitted). */
  frames: [number, number, number][];
  /** The counts were left out (too many peers for one control line): nobody can tell what is in flight. */
  framesOmitted?: boolean;
  /** The rank is in MPI_Finalize, waiting for the others. */
  finalizing: boolean;
  /** What of the program's own could wake it (a timer, a file, a socket, a child): it is not stuck in mpi4ts. */
  userActivity: string[];
}

/** Whether a rank that answered is stuck in mpi4ts: waiting there, and on nothing that could move by itself. */
export function isBlocked(report: RankReport): boolean {
  if (report.userActivity.length > 0 || report.otherPending > 0) return false;
  return report.finalizing || report.pendingCount > 0;
}

/** An operation in words: `recv(source=1, tag=2)`, `bcast (call 3 on COMM_WORLD) for rank 2`. */
export function operationWords(op: ReportedOperation): string {
  const on = op.comm === 'COMM_WORLD' ? '' : ` on ${op.comm}`;
  if (op.wait === 'board') {
    const who = op.peerInComm < 0 ? 'the call ahead of it' : `rank ${op.peerInComm} to join it`;
    return `${op.call} (call ${op.tag} on ${op.comm}, in shared memory), waiting for ${who}`;
  }
  if (op.collective !== null) {
    const what = op.wait === 'receiver' ? `its message to rank ${op.peerInComm} to be received` : `a message from rank ${op.peerInComm}`;
    return `${op.call} (call ${op.tag} on ${op.comm}), waiting for ${what}`;
  }
  const tag = op.tag < 0 ? 'ANY_TAG' : String(op.tag);
  if (op.wait === 'receiver') return `${op.call}(dest=${op.peerInComm}, tag=${tag})${on}, waiting for the receive to match`;
  const source = op.peerInComm < 0 ? 'ANY_SOURCE' : String(op.peerInComm);
  return `${op.call}(source=${source}, tag=${tag})${on}`;
}

/** ` at app.ts:12`, or '' when the place is not known. */
export function siteWords(op: ReportedOperation): string {
  return op.site === null ? '' : ` at ${op.site}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** "1.2 s", or "1.2 to 9.8 s" when the program computed while it was posted (the start is known only that far). */
function waitedWords(op: ReportedOperation): string {
  const upTo = op.waitedUpToMs;
  return upTo - op.waitedMs < 100 ? seconds(op.waitedMs)
    : `${(op.waitedMs / 1000).toFixed(1)} to ${seconds(upTo)} (posted while the program computed)`;
}

/**
 * A rank's report as lines for a person, indented under a heading the
 * caller writes: each pending operation with how long it has waited and
 * where it was called, then the messages that arrived unmatched (the one it
 * expects may be among them, under another tag).
 */
export function reportLines(report: RankReport, siteHint: boolean, name = `rank ${report.rank}`): string[] {
  const lines: string[] = [];
  const head = `${name} (${report.host}, pid ${report.pid})`;
  if (report.finalizing) lines.push(`${head}: in finalize, waiting for the other ranks to finish`);
  else if (report.pendingCount === 0) lines.push(`${head}: not in an MPI call (nothing of mpi4ts pending)`);
  else lines.push(`${head}: waits in ${report.pendingCount} operation(s):`);
  for (const op of report.pending) lines.push(`    ${operationWords(op)} for ${waitedWords(op)}${siteWords(op)}`);
  if (report.pendingCount > report.pending.length) lines.push(`    ... and ${report.pendingCount - report.pending.length} more`);
  if (report.otherPending > 0) lines.push(`    and ${report.otherPending} send(s) or receive(s) with data in flight`);
  if (report.userActivity.length > 0) lines.push(`    the program has its own work pending (${report.userActivity.join(', ')}): not stuck in mpi4ts`);
  if (report.unexpectedCount > 0) {
    lines.push(`    arrived, not matched by any receive (${report.unexpectedCount}):`);
    for (const m of report.unexpected) {
      const what = m.collective === null ? `tag ${m.tag}` : `${m.collective} call ${m.tag}`;
      const on = m.comm === 'COMM_WORLD' ? '' : ` on ${m.comm}`;
      lines.push(`      from rank ${m.source}, ${what}, ${m.bytes} bytes${on}`);
    }
    if (report.unexpectedCount > report.unexpected.length) lines.push(`      ... and ${report.unexpectedCount - report.unexpected.length} more`);
  }
  if (siteHint && report.pending.some((op) => op.site === null)) {
    lines.push('    (run with --debug-calls, or MPI4TS_DEBUG_CALLS=1, to see where each call was made)');
  }
  return lines;
}
