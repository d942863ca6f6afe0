/**
 * The deadlock judgement over one round of hang reports (DESIGN.md "Hang
 * reports and deadlocks"): pure functions of what the ranks said.
 *
 * A job is stuck when every running rank answered, each is blocked in
 * mpi4ts (something pending there, nothing of the program's own that could
 * wake it: isBlocked), not all are merely finalizing, and no frame is in
 * flight between any two of them (each pair's sent and received counts
 * agree). Then no rank can ever send again: the messages that could match
 * have all arrived, and no receive matched them. The caller checks it twice,
 * with the same counts and the same pending calls (a collective on the
 * host's board moves on without a frame), before it believes it. The wait-for graph (a receive
 * from s waits for s, from ANY_SOURCE for anyone, a send by rendezvous for
 * its receiver, finalize for everyone not in it) only explains it: the
 * cycle it prints.
 */
import { isBlocked, operationWords, siteWords, type RankReport, type ReportedOperation } from '../wire/index.js';

/** One round: each running rank's answer (null: its world is not up), and those that did not answer. */
export interface ReportRound {
  answers: Map<number, RankReport | null>;
  silent: number[];
}

export interface RoundJudgement {
  /** Every running rank answered and is blocked in mpi4ts, and not all are just finalizing. */
  allBlocked: boolean;
  /** Some frame was sent and has not been received. */
  inFlight: boolean;
  /** The counts and pending work of every rank: two rounds with the same signature saw nothing move. */
  signature: string;
}

export function judgeRound(round: ReportRound): RoundJudgement {
  const reports = [...round.answers.entries()].sort((a, b) => a[0] - b[0]);
  // The pending calls are in it too: collectives on the host's board move without a frame.
  const signature = reports.map(([rank, r]) => (r === null ? `${rank}:-`
    : `${rank}:${r.pendingCount}/${r.otherPending}/${JSON.stringify(r.frames)}/${r.pending.map(pendingKey).join(',')}`)).join(';');
  const known = reports.filter((e): e is [number, RankReport] => e[1] !== null);
  const allBlocked = round.silent.length === 0 && known.length === reports.length && known.length > 0 &&
    known.every(([, r]) => isBlocked(r)) && !known.every(([, r]) => r.finalizing);
  // Counts left out: what is in flight is unknown, and unknown is never a deadlock.
  const inFlight = known.some(([, r]) => r.framesOmitted === true) || framesInFlight(new Map(known));
  return { allBlocked, inFlight, signature };
}

/** What tells one pending operation from the next: a board call's number moves with every call. */
function pendingKey(op: ReportedOperation): string {
  return `${op.wait}:${op.context}:${op.tag}:${op.peer}`;
}

/** Whether, between two ranks that both answered, one sent frames the other has not received. */
function framesInFlight(reports: Map<number, RankReport>): boolean {
  const counts = new Map<number, Map<number, [number, number]>>();
  for (const [rank, r] of reports) counts.set(rank, new Map(r.frames.map(([peer, sent, got]) => [peer, [sent, got]])));
  for (const [rank, mine] of counts) {
    for (const [peer, [sent, got]] of mine) {
      const theirs = counts.get(peer)?.get(rank);
      if (!counts.has(peer)) continue;
      if (sent !== (theirs?.[1] ?? 0) || got !== (theirs?.[0] ?? 0)) return true;
    }
  }
  return false;
}

/** The ranks each rank waits for, with the operation that waits. */
function waitsFor(report: RankReport, running: readonly number[], reports: Map<number, RankReport>): { rank: number; op: ReportedOperation | null }[] {
  if (report.finalizing) {
    return running.filter((r) => r !== report.rank && reports.get(r)?.finalizing !== true).map((rank) => ({ rank, op: null }));
  }
  const edges: { rank: number; op: ReportedOperation | null }[] = [];
  for (const op of report.pending) {
    if (op.peer >= 0) edges.push({ rank: op.peer, op });
    else for (const r of running) if (r !== report.rank) edges.push({ rank: r, op });
  }
  return edges;
}

/**
 * The words of a deadlock: a cycle of the wait-for graph, a line a rank
 * ("rank 0 waits in recv(source=1, tag=2) at app.ts:12"), then the others.
 */
export function deadlockLines(reports: Map<number, RankReport>, nameOf: (rank: number) => string = (r) => `rank ${r}`): string[] {
  const running = [...reports.keys()].sort((a, b) => a - b);
  const start = running.find((r) => reports.get(r)?.finalizing !== true) ?? running[0]!;
  const path: { rank: number; op: ReportedOperation | null }[] = [];
  const seen = new Map<number, number>();
  let rank = start;
  while (!seen.has(rank)) {
    seen.set(rank, path.length);
    const edges = waitsFor(reports.get(rank)!, running, reports);
    // Close the cycle as soon as an edge allows (ANY_SOURCE has many), else go on to a rank that is
    // itself waiting on something (not finalizing): the cycle then is short and names the calls.
    const next = edges.find((e) => seen.has(e.rank)) ??
      edges.find((e) => reports.get(e.rank)?.finalizing === false) ??
      edges.find((e) => reports.has(e.rank)) ?? null;
    if (next === null) break;
    path.push({ rank, op: next.op });
    rank = next.rank;
  }
  const cycle = seen.has(rank) ? path.slice(seen.get(rank)) : path;
  const lines = cycle.map(({ rank: r, op }) => `${nameOf(r)} ${waitWords(reports.get(r)!, op, reports)}`);
  if (cycle.length > 0) lines.push(`cycle: ${[...cycle.map((e) => nameOf(e.rank)), nameOf(cycle[0]!.rank)].join(' -> ')}`);
  const inCycle = new Set(cycle.map((e) => e.rank));
  for (const r of running) {
    if (inCycle.has(r)) continue;
    const report = reports.get(r)!;
    lines.push(`${nameOf(r)} ${waitWords(report, report.pending[0] ?? null, reports)}`);
  }
  return lines;
}

/** "waits in recv(source=1, tag=2) at app.ts:12", with who a collective still waits for. */
function waitWords(report: RankReport, op: ReportedOperation | null, reports: Map<number, RankReport>): string {
  if (op === null) return report.finalizing ? 'waits in finalize for the others' : 'waits';
  let words = `waits in ${operationWords(op)}${siteWords(op)}`;
  if (op.collective !== null && op.peer >= 0) {
    const peer = reports.get(op.peer);
    const entered = peer?.pending.some((o) => o.context === op.context && o.tag === op.tag && o.collective === op.collective) === true;
    if (!entered) words += ` (rank ${op.peer} has not entered this ${op.collective})`;
  }
  return words;
}
