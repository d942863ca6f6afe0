/**
 * The launcher's side of hang reports and deadlock detection (DESIGN.md
 * "Hang reports and deadlocks"). It asks every running rank, over its
 * control connection (local and ssh ranks alike), what it waits for; prints
 * the answers on request (SIGUSR1, SIGQUIT, before --timeout and Ctrl-C stop
 * the job) and after --hang-report seconds without progress; and, about once
 * a second, judges whether the job is deadlocked (deadlock.ts).
 *
 * A rank answers from its event loop. One that is computing answers late or
 * never, so no round waits more than ANSWER_MS for it, a rank that has not
 * answered is asked nothing more until it does (its socket does not fill
 * with requests), and silence counts as "not stuck": such a rank is never
 * called hung or deadlocked, whatever it computes for how long.
 */
import { reportLines, type RankReport } from '../wire/index.js';
import { deadlockLines, judgeRound, type ReportRound } from './deadlock.js';

/** How long a round waits for the ranks' answers. */
export const ANSWER_MS = 2000;
/** Between two checks for a deadlock or a stall. */
const CHECK_EVERY_MS = 1000;
/** Between the two rounds that must agree before a deadlock is declared. */
const CONFIRM_AFTER_MS = 300;

export interface HangMonitorOptions {
  /** Sends REPORT `id` to `ranks`; returns those asked (connected, not let go). */
  ask(id: number, ranks: number[]): number[];
  /** The ranks whose process still runs. */
  running(): number[];
  /** The host a rank runs on, for a rank that did not answer. */
  hostOf(rank: number): string;
  /** A process in words ("rank 2", "rank 0 of spawned world 1"); default "rank N". */
  nameOf?(rank: number): string;
  deadlockCheck: boolean;
  /** Print a report when no rank has made progress for this long (seconds), or null. */
  hangReportSeconds: number | null;
  /** A deadlock was found twice: the words to end the job with. */
  onDeadlock(message: string): void;
  write(text: string): void;
}

interface Gathering {
  /** The ranks whose answer it waits for: asked now, or still owing an earlier answer (which counts for this round too). */
  expected: Set<number>;
  answers: Map<number, RankReport | null>;
  done: () => void;
}

export class HangMonitor {
  private nextId = 1;
  private readonly gatherings = new Map<number, Gathering>();
  /** Ranks asked and not answered yet, with when they were asked. */
  private readonly outstanding = new Map<number, number>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private checking = false;
  /** The signature of the last round in which every rank was blocked, and since when it has not changed. */
  private stall: { signature: string; since: number; reported: boolean } | null = null;

  constructor(private readonly options: HangMonitorOptions) {}

  /** Starts the periodic checks (nothing when neither deadlock checks nor --hang-report are on). */
  start(): void {
    if (!this.options.deadlockCheck && this.options.hangReportSeconds === null) return;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    for (const g of this.gatherings.values()) g.done();
  }

  /**
   * A rank answered request `id`. The answer counts for every round still
   * waiting for that rank: a rank asked by an earlier round is not asked
   * again, and what it says, made when it answers, is as new as any.
   */
  onReport(rank: number, id: number, report: RankReport | null): void {
    if (id >= this.nextId) return;
    this.outstanding.delete(rank);
    for (const g of [...this.gatherings.values()]) {
      if (!g.expected.has(rank)) continue;
      g.answers.set(rank, report);
      if (g.answers.size === g.expected.size) g.done();
    }
  }

  /**
   * Asks every running rank and prints what each said, under `why`; waits at
   * most ANSWER_MS. Resolves once printed.
   */
  async printReport(why: string): Promise<void> {
    const round = await this.gather();
    this.options.write(this.reportText(why, round));
  }

  /** The report of one round, a block of lines a rank. */
  private reportText(why: string, round: ReportRound): string {
    const lines = [`mpi4ts: hang report (${why}): what each rank waits for`];
    const ranks = [...new Set([...round.answers.keys(), ...round.silent])].sort((a, b) => a - b);
    for (const rank of ranks) {
      const report = round.answers.get(rank);
      if (report === undefined) {
        const asked = this.outstanding.get(rank);
        const since = asked === undefined ? '' : `, asked ${((Date.now() - asked) / 1000).toFixed(1)} s ago`;
        lines.push(`  ${this.name(rank)} (${this.options.hostOf(rank)}) did not answer within ${ANSWER_MS / 1000} s${since} ` +
          '(busy computing, not in an MPI call)');
      } else if (report === null) {
        lines.push(`  ${this.name(rank)} (${this.options.hostOf(rank)}) is still starting (its MPI world is not up)`);
      } else {
        lines.push(...reportLines(report, false, this.name(rank)).map((l) => `  ${l}`));
      }
    }
    const unplaced = [...round.answers.values()].some((r) => r !== null && r.pending.some((op) => op.site === null));
    // Said once, not under every rank.
    if (unplaced) lines.push('  (run with --debug-calls, or MPI4TS_DEBUG_CALLS=1, to see where each call was made)');
    return `${lines.join('\n')}\n`;
  }

  private schedule(delay = CHECK_EVERY_MS): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.check(), delay);
    // The job's end, not this timer, decides when the launcher exits.
    this.timer.unref();
  }

  /** One periodic check: a round; a second one soon after when it looks like a deadlock. */
  private async check(): Promise<void> {
    if (this.checking || this.stopped) return;
    this.checking = true;
    try {
      const round = await this.gather();
      const first = judgeRound(round);
      if (this.stopped) return;
      if (this.options.deadlockCheck && first.allBlocked && !first.inFlight) {
        await new Promise((resolve) => setTimeout(resolve, CONFIRM_AFTER_MS).unref());
        const again = await this.gather();
        const second = judgeRound(again);
        if (this.stopped) return;
        if (second.allBlocked && !second.inFlight && second.signature === first.signature) {
          this.declareDeadlock(again);
          return;
        }
      }
      this.noteStall(round, first.allBlocked, first.signature);
    } finally {
      this.checking = false;
    }
    this.schedule();
  }

  /** --hang-report: every rank blocked, nothing changed for that long: print the report once per stall. */
  private noteStall(round: ReportRound, allBlocked: boolean, signature: string): void {
    const seconds = this.options.hangReportSeconds;
    if (!allBlocked) {
      this.stall = null;
      return;
    }
    if (this.stall === null || this.stall.signature !== signature) this.stall = { signature, since: Date.now(), reported: false };
    if (seconds === null || this.stall.reported || Date.now() - this.stall.since < seconds * 1000) return;
    this.stall.reported = true;
    this.options.write(this.reportText(`no rank has made progress for ${seconds} s (--hang-report)`, round));
  }

  private name(rank: number): string {
    return this.options.nameOf?.(rank) ?? `rank ${rank}`;
  }

  private declareDeadlock(round: ReportRound): void {
    const reports = new Map<number, RankReport>();
    for (const [rank, r] of round.answers) if (r !== null) reports.set(rank, r);
    const cycle = deadlockLines(reports, (r) => this.name(r)).map((l) => `  ${l}`);
    const text = [
      'mpi4ts: deadlock: every rank waits in mpi4ts and no message in flight can match (checked twice, 0.3 s apart):',
      ...cycle,
      this.reportText('the deadlock', round).trimEnd(),
      'mpi4ts: stopping the job (exit status 125, a deadlock; MPI4TS_DEADLOCK_CHECK=0 turns the check off)',
    ].join('\n');
    this.stopped = true;
    this.options.onDeadlock(text);
  }

  /** Asks every running rank not still owing an answer; resolves with what came within ANSWER_MS. */
  private gather(): Promise<ReportRound> {
    const running = this.options.running();
    const id = this.nextId++;
    const now = Date.now();
    const askable = running.filter((r) => !this.outstanding.has(r));
    for (const rank of this.options.ask(id, askable)) this.outstanding.set(rank, now);
    // Asked now or before; a rank that could not be asked (not connected yet) is silent at once.
    const expected = new Set(running.filter((r) => this.outstanding.has(r)));
    const answers = new Map<number, RankReport | null>();
    return new Promise<ReportRound>((resolve) => {
      let timer: NodeJS.Timeout | null = null;
      const done = (): void => {
        if (!this.gatherings.delete(id)) return;
        if (timer !== null) clearTimeout(timer);
        const silent = running.filter((r) => !answers.has(r));
        resolve({ answers, silent });
      };
      this.gatherings.set(id, { expected, answers, done });
      if (expected.size === 0) {
        done();
        return;
      }
      timer = setTimeout(done, ANSWER_MS);
      timer.unref();
    });
  }
}
