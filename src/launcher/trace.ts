/**
 * `mpi4ts run --trace FILE`: the ranks' timelines (comm/trace.ts) joined into
 * one file in the Chrome trace-event format (JSON object form), which
 * Perfetto (ui.perfetto.dev) and chrome://tracing open:
 *
 * - one process per rank, named "rank R (host)", sorted by rank;
 * - each MPI call a complete event ("X") with its arguments; calls that
 *   overlap without nesting (two awaited at once) go to a second thread
 *   of the rank ("MPI calls, overlapping"), as a track holds nested slices only;
 * - each message a flow from the call that sent it to the call that received
 *   it ("s" and "f" events, bound to the enclosing slices);
 * - every rank's clock mapped onto the launcher's by the clock rounds at
 *   start-up; the bound on each offset's error is in the metadata
 *   (otherData.clock), with what was dropped or never came.
 *
 * Times are microseconds from the first event.
 */
import { writeFileSync } from 'node:fs';
import type { ProfileSummary, TracePart } from '../wire/index.js';

interface RankTrace {
  host: string;
  /** The latest totals of --profile the rank sent. */
  profile: ProfileSummary | null;
  slices: TracePart['slices'];
  sends: TracePart['sends'];
  recvs: TracePart['recvs'];
  dropped: number;
}

type TraceEvent = Record<string, unknown>;

export class TraceCollector {
  private readonly ranks = new Map<number, RankTrace>();
  private readonly clocks = new Map<number, { offset: number; error: number }>();

  constructor(private readonly size: number) {}

  clock(rank: number, offsetMicros: number, errorMicros: number): void {
    this.clocks.set(rank, { offset: offsetMicros, error: errorMicros });
  }

  add(rank: number, host: string, part: TracePart): void {
    let trace = this.ranks.get(rank);
    if (trace === undefined) {
      trace = { host, profile: null, slices: [], sends: [], recvs: [], dropped: 0 };
      this.ranks.set(rank, trace);
    }
    // A part is a stranger's JSON only after the key proof: still, take only arrays of the right shape.
    for (const s of arrayOf(part.slices)) if (Array.isArray(s) && s.length === 5) trace.slices.push(s as TracePart['slices'][number]);
    for (const s of arrayOf(part.sends)) if (Array.isArray(s) && s.length === 7) trace.sends.push(s as TracePart['sends'][number]);
    for (const r of arrayOf(part.recvs)) if (Array.isArray(r) && r.length === 6) trace.recvs.push(r as TracePart['recvs'][number]);
    trace.dropped += Number(part.dropped) || 0;
    if (isProfile(part.profile, this.size)) trace.profile = part.profile;
  }

  /** Each rank's last totals (--profile), with its host, in rank order. */
  profiles(): { rank: number; host: string; profile: ProfileSummary }[] {
    return [...this.ranks].sort((a, b) => a[0] - b[0]).flatMap(([rank, t]) => (t.profile === null ? [] : [{ rank, host: t.host, profile: t.profile }]));
  }

  /** The ranks that sent nothing (they died before a part, or were stopped while computing). */
  missing(): number[] {
    const missing: number[] = [];
    for (let rank = 0; rank < this.size; rank++) if (!this.ranks.has(rank)) missing.push(rank);
    return missing;
  }

  /** The trace document. */
  document(): { traceEvents: TraceEvent[]; displayTimeUnit: string; otherData: Record<string, unknown> } {
    const events: TraceEvent[] = [];
    const shift = (rank: number): number => this.clocks.get(rank)?.offset ?? 0;
    let origin = Infinity;
    for (const [rank, trace] of this.ranks) for (const s of trace.slices) origin = Math.min(origin, s[2] + shift(rank));
    if (origin === Infinity) origin = 0;
    const at = (rank: number, time: number): number => round(time + shift(rank) - origin);
    /** rank -> slice id -> [thread, start] */
    const placed = new Map<number, Map<number, number>>();
    for (const [rank, trace] of [...this.ranks].sort((a, b) => a[0] - b[0])) {
      const pid = rank;
      events.push({ ph: 'M', name: 'process_name', pid, tid: 0, args: { name: `rank ${rank} (${trace.host})` } });
      events.push({ ph: 'M', name: 'process_sort_index', pid, tid: 0, args: { sort_index: rank } });
      const threads = placeOnThreads(trace.slices);
      placed.set(rank, threads.threadOf);
      for (let t = 0; t < threads.count; t++) {
        events.push({ ph: 'M', name: 'thread_name', pid, tid: t, args: { name: t === 0 ? 'MPI calls' : `MPI calls, overlapping (${t})` } });
      }
      for (const [id, name, start, duration, args] of trace.slices) {
        events.push({
          ph: 'X', name, cat: args.collective === undefined ? 'mpi' : 'mpi,collective', pid, tid: threads.threadOf.get(id) ?? 0,
          ts: at(rank, start), dur: round(Math.max(duration, 0)), args,
        });
      }
    }
    // Flows: the n-th message from a to b with a context and tag is the n-th b matched with them (MPI's non-overtaking rule).
    const sends = new Map<string, { rank: number; time: number; slice: number; bytes: number }>();
    for (const [rank, trace] of this.ranks) {
      for (const [dest, context, tag, n, time, slice, bytes] of trace.sends) sends.set(`${rank}>${dest}:${context}:${tag}:${n}`, { rank, time, slice, bytes });
    }
    let flows = 0;
    let unmatched = 0;
    for (const [rank, trace] of this.ranks) {
      for (const [source, context, tag, n, time, slice] of trace.recvs) {
        const send = sends.get(`${source}>${rank}:${context}:${tag}:${n}`);
        if (send === undefined) {
          unmatched++;
          continue;
        }
        const id = ++flows;
        const name = `message ${send.bytes} B`;
        events.push({
          ph: 's', id, name, cat: 'message', pid: send.rank, tid: placed.get(send.rank)?.get(send.slice) ?? 0, ts: at(send.rank, send.time),
          args: { tag, bytes: send.bytes },
        });
        events.push({ ph: 'f', bp: 'e', id, name, cat: 'message', pid: rank, tid: placed.get(rank)?.get(slice) ?? 0, ts: at(rank, time) });
      }
    }
    const clock: Record<string, { offsetMicros: number; errorMicros: number }> = {};
    for (const [rank, c] of [...this.clocks].sort((a, b) => a[0] - b[0])) clock[`rank ${rank}`] = { offsetMicros: round(c.offset), errorMicros: round(c.error) };
    const dropped: Record<string, number> = {};
    for (const [rank, trace] of this.ranks) if (trace.dropped > 0) dropped[`rank ${rank}`] = trace.dropped;
    return {
      traceEvents: events,
      displayTimeUnit: 'ns',
      otherData: {
        producer: 'mpi4ts run --trace',
        ranks: this.size,
        originMicrosSinceEpoch: round(origin),
        clock,
        clockErrorBoundMicros: round(Math.max(0, ...[...this.clocks.values()].map((c) => c.error))),
        messages: flows,
        receivesWithoutSend: unmatched,
        droppedEvents: dropped,
        missingRanks: this.missing(),
      },
    };
  }

  /** Writes the file; returns a line for the user. */
  write(path: string): string {
    const doc = this.document();
    writeFileSync(path, JSON.stringify(doc));
    const missing = this.missing();
    const dropped = Object.values(doc.otherData.droppedEvents as Record<string, number>).reduce((a, b) => a + b, 0);
    return `mpi4ts: timeline of ${this.ranks.size} rank(s), ${String(doc.otherData.messages)} message(s), written to ${path} (open it in ui.perfetto.dev)` +
      (missing.length > 0 ? `; nothing came from rank(s) ${missing.join(', ')}` : '') +
      (dropped > 0 ? `; ${dropped} event(s) dropped (MPI4TS_TRACE_MAX_EVENTS)` : '');
  }
}

/**
 * A track shows nested slices only: each slice goes on the first thread
 * where it nests in what is open there (or where nothing is), in order of
 * start (the longer first at the same start, so it encloses the shorter).
 */
export function placeOnThreads(slices: readonly TracePart['slices'][number][]): { threadOf: Map<number, number>; count: number } {
  const order = [...slices].sort((a, b) => a[2] - b[2] || b[3] - a[3]);
  const stacks: number[][] = [];
  const threadOf = new Map<number, number>();
  for (const [id, , start, duration] of order) {
    const end = start + duration;
    let thread = stacks.findIndex((stack) => {
      while (stack.length > 0 && stack.at(-1)! <= start) stack.pop();
      return stack.length === 0 || stack.at(-1)! >= end;
    });
    if (thread < 0) thread = stacks.push([]) - 1;
    stacks[thread]!.push(end);
    threadOf.set(id, thread);
  }
  return { threadOf, count: Math.max(1, stacks.length) };
}

/** A profile of the right shape for a job of `size` ranks (a proven rank's, but checked before it is summed). */
function isProfile(value: unknown, size: number): value is ProfileSummary {
  if (typeof value !== 'object' || value === null) return false;
  const p = value as ProfileSummary;
  const numbers = (list: unknown, length?: number): boolean =>
    Array.isArray(list) && (length === undefined || list.length === length) && list.every((n) => typeof n === 'number' && Number.isFinite(n));
  return typeof p.wallMicros === 'number' && typeof p.mpiMicros === 'number' && numbers(p.sizes) && p.sizes.length <= 34 &&
    numbers(p.bytesTo, size) && numbers(p.messagesTo, size) && typeof p.calls === 'object' && p.calls !== null &&
    Object.values(p.calls).every((c) => numbers(c, 2));
}

function arrayOf(value: unknown): unknown[][] {
  return Array.isArray(value) ? (value as unknown[][]) : [];
}

function round(micros: number): number {
  return Math.round(micros * 1000) / 1000;
}
