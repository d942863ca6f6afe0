/**
 * The one-line progress indicator of `mpi4ts bench` on a terminal:
 * `osu_bw: 65536 bytes, 40/100 iterations`, rewritten in place while a size
 * runs and blanked before its row prints.
 *
 * Where it goes. The ranks' stdout and stderr are pipes to the launcher, so a
 * rank cannot ask its own streams whether they are a terminal: bench's CLI
 * decides (progressStream) and hands the answer to every rank in the
 * BenchConfig. When stdout is a terminal the line is drawn there, in the same
 * stream as the rows: the launcher forwards one stream in order, so the blank
 * always lands before the row it makes room for (on stderr, the two pipes
 * could reach the terminal in either order and leave the line's tail beside
 * a row). When only stderr is a terminal (`mpi4ts bench osu_bw > bw.txt`) it
 * goes there and the table stays clean. Pipes and --json get nothing, and
 * only rank 0 draws.
 *
 * What it costs the timed loop. A loop asks `i === line.due` once per
 * iteration, an integer comparison (and never true when nothing is drawn:
 * `due` is Infinity). At `due` it calls `tick(i)`, which reads the clock,
 * doubles the stride between checks until they are about CHECK_SECONDS apart
 * (a fast loop reads the clock every few thousand iterations, a slow one
 * every iteration), draws at most every DRAW_SECONDS, and returns the seconds
 * it took so that a loop timed as a whole can leave them out.
 *
 * The drawing uses no escape sequences: each draw ends with a carriage
 * return (the cursor stays at the start of the line), pads over what the
 * previous draw left, and the blank is spaces; the launcher forwards a piece
 * ending in a carriage return as soon as it comes (launcher/output.ts).
 */
import { now } from './common.js';

/** The stream the line goes to, or null for none. */
export type ProgressStream = 'stdout' | 'stderr';

/** MPI4TS_BENCH_PROGRESS: "auto" (a terminal, as below), "off", or a stream to draw on whatever it is. */
export type ProgressSetting = 'auto' | 'off' | ProgressStream;

/** What bench's CLI knows of its own streams: the launcher's, which the ranks' output reaches. */
export interface Terminal {
  stdout: boolean;
  stderr: boolean;
}

/** Where the progress line goes, decided where the terminal can be seen: in bench's CLI. */
export function progressStream(setting: ProgressSetting, terminal: Terminal, json: boolean): ProgressStream | null {
  if (json || setting === 'off') return null;
  if (setting !== 'auto') return setting;
  if (terminal.stdout) return 'stdout';
  return terminal.stderr ? 'stderr' : null;
}

/** Draw at most this often. */
export const DRAW_SECONDS = 0.1;
/** Read the clock about this often. */
export const CHECK_SECONDS = 0.01;

export class ProgressLine {
  /** The iteration at which the loop calls tick() next; Infinity while nothing is to be drawn. */
  due = Infinity;
  private stride = 1;
  private lastCheck = 0;
  private lastDrawn = 0;
  /** Characters on the line now (0: blank). */
  private shown = 0;
  private subject = '';
  private warmup = 0;
  private total = 0;

  /**
   * @param name what the line starts with (`osu_bw`)
   * @param write the stream's write, or null for a line that never draws
   */
  constructor(public name: string, private readonly write: ((text: string) => void) | null, private readonly clock: () => number = now) {}

  /** A size starts: `warmup` untimed then `iterations` timed ones; size null for barrier. */
  begin(size: number | null, warmup: number, iterations: number): void {
    if (this.write === null) return;
    this.subject = size === null ? this.name : `${this.name}: ${size} ${size === 1 ? 'byte' : 'bytes'}`;
    this.warmup = warmup;
    this.total = warmup + iterations;
    this.stride = 1;
    // Nothing is drawn for a size that ends within DRAW_SECONDS: the clock starts now.
    this.lastCheck = this.lastDrawn = this.clock();
    this.due = 0;
  }

  /** Iteration `i` (0-based, warm-up first) is done; returns the seconds this call took. */
  tick(i: number): number {
    const start = this.clock();
    if (start - this.lastCheck < CHECK_SECONDS) this.stride *= 2;
    this.lastCheck = start;
    this.due = i + this.stride;
    if (start - this.lastDrawn < DRAW_SECONDS) return this.clock() - start;
    this.lastDrawn = start;
    const done = i + 1;
    this.draw(done <= this.warmup
      ? `${this.subject}, warm-up ${done}/${this.warmup}`
      : `${this.subject}, ${done - this.warmup}/${this.total - this.warmup} iterations`);
    return this.clock() - start;
  }

  /** Blanks the line (before a row, an error, the end); nothing when nothing is shown. */
  clear(): void {
    this.due = Infinity;
    if (this.shown === 0 || this.write === null) return;
    this.write(`${' '.repeat(this.shown)}\r`);
    this.shown = 0;
  }

  private draw(text: string): void {
    this.write!(`${text.padEnd(this.shown)}\r`);
    this.shown = text.length;
  }
}
