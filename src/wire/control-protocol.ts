/**
 * Messages between `mpi4ts run` (the control server) and each rank, one JSON
 * object per line over the control connection. Every kind is listed here.
 *
 * A rank proves the job key in its first line (hello: an HMAC over a fresh
 * nonce and its rank), written as soon as it is connected; the server
 * refuses a nonce it has seen, so a hello cannot be replayed, and answers
 * with its own proof over the rank's nonce in the welcome.
 */
import type { Socket } from 'node:net';
import type { PeerAddress } from './peer-address.js';
import type { RankReport } from './pending-report.js';
import type { UnprovenConnections } from './unproven.js';

export const ControlKind = {
  /** rank -> server: my rank, my nonce and proof, my address. */
  HELLO: 'hello',
  /** server -> rank: the server's proof and every rank's address (once all said hello). */
  WELCOME: 'welcome',
  /** rank -> server: end the job with this code (comm.abort or a fatal error). */
  ABORT: 'abort',
  /** rank -> server: my program is done. */
  FINALIZE: 'finalize',
  /** server -> rank: every rank is done; close and exit. */
  FINALIZED: 'finalized',
  /**
   * server -> rank: another rank's program is done ('finalized', or 'exited'
   * before finalize); a receive that only it could satisfy never completes.
   */
  PEER_DONE: 'done',
  /**
   * rank -> server: this rank's connections to `peer` closed before it said
   * goodbye (its process likely died). Sent on the same connection before
   * this rank's own failure can close it, so the server learns the first
   * cause before the failures it brings (launcher/job.ts blames it).
   */
  PEER_LOST: 'lost',
  /**
   * server -> rank, under --trace, before the welcome: the rank answers at
   * once with its clock (clock-reply), so the server can place every rank's
   * events on its own time line (launcher/trace.ts).
   */
  CLOCK: 'clock',
  /** rank -> server: this rank's clock (microseconds, performance.timeOrigin + now()) when the clock message came. */
  CLOCK_REPLY: 'clock-reply',
  /** rank -> server, under --trace: events of this rank's timeline (TracePart), in parts, before finalize or abort. */
  TRACE: 'trace',
  /**
   * server -> rank: say what you wait for (a hang report, the deadlock
   * check). A rank answers from its event loop, so one busy computing
   * answers late or not at all: the server never waits on it for long.
   */
  REPORT: 'report',
  /** rank -> server: the answer to REPORT `id` (null: the rank's world is not up yet). */
  PENDING: 'pending',
  /**
   * rank -> server: start these programs as a new COMM_WORLD whose parent is
   * `parentGroup` (comm.spawn's root, for all the parent communicator).
   */
  SPAWN: 'spawn',
  /** server -> rank: the answer to SPAWN `id`: the children's addresses once all said hello, or why not. */
  SPAWNED: 'spawned',
  /**
   * rank -> server: every parent now knows the children of SPAWN `id`
   * (they may connect): welcome them. Until then no child can reach a
   * parent that does not know its address yet.
   */
  SPAWN_GO: 'spawn-go',
  /**
   * server -> rank: pool worker `rank` (its universe index) died (`words`:
   * which process, host, pid, and the signal or exit code). The job goes
   * on; the submitter's pool fails the worker's running task with these
   * words (pool/executor.ts). Under `mpi4ts run --pool` every other rank
   * hears it (rank 0 submits, the others ignore it); a PoolExecutor's
   * spawned worker is told to its parents only (SpawnRequest.pool).
   */
  RANK_DIED: 'died',
} as const;

/** One program of a spawn (comm.spawn, or one command of spawnMultiple). */
export interface SpawnCommand {
  /** The script as the user gave it, and its absolute path on the root's host. */
  script: string;
  path: string;
  args: string[];
  maxprocs: number;
  /** Extra environment of its processes. */
  env: Record<string, string>;
  /** Hosts to run them on, in turn; empty: the job's hosts with free slots. */
  hosts: string[];
}

/** What comm.spawn's root asks of the launcher. */
export interface SpawnRequest {
  id: number;
  commands: SpawnCommand[];
  /** The parent communicator's members, as universe indices in rank order. */
  parentGroup: number[];
  /** The intercommunicator's context id, agreed by the parents (free on all of them; a new world's are all free). */
  context: number;
  /** The root's working directory: the children's. */
  cwd: string;
  /**
   * The children are a PoolExecutor's workers (pool/workers.ts): one that
   * dies does not end the job, its parents hear of it (RANK_DIED) and the
   * pool fails the task it ran (DESIGN.md "Task pools"). Absent: false, a
   * child that dies ends the job as any rank does.
   */
  pool?: boolean;
}

/** What a spawned process learns of its parents in its welcome (MPI.getParent). */
export interface ParentInfo {
  group: number[];
  context: number;
}

export type SpawnReply = { id: number; base: number; table: PeerAddress[] } | { id: number; error: string };

/**
 * What a rank recorded of its MPI calls (comm/trace.ts), sent in parts of
 * bounded size; the launcher joins sends to receives by their key.
 * Times are microseconds on the rank's own clock.
 */
export interface TracePart {
  /** Calls: [id, name, start, duration, args]. */
  slices: [number, string, number, number, Record<string, string | number>][];
  /** Messages sent: [dest world rank, context, tag, n-th such message, time, id of the slice it was sent in, bytes]. */
  sends: [number, number, number, number, number, number, number][];
  /** Messages matched by a receive: [source world rank, context, tag, n-th such message, time, slice id]. */
  recvs: [number, number, number, number, number, number][];
  /** Events not recorded since the last part: the rank's buffer was full (MPI4TS_TRACE_MAX_EVENTS). */
  dropped: number;
  /** Under --profile, in the last part: the rank's totals so far. */
  profile?: ProfileSummary;
}

/** A rank's totals for --profile (comm/trace.ts), all of its run, never bounded by the event buffer. */
export interface ProfileSummary {
  /** From the rank's start (its import of mpi4ts) to the summary. */
  wallMicros: number;
  /** Time inside at least one MPI call. */
  mpiMicros: number;
  /** Per call name: [calls, microseconds inside them]. */
  calls: Record<string, [number, number]>;
  /** Messages sent by size: entry 0 counts empty ones, entry k those of 2^(k-1) to 2^k - 1 bytes. */
  sizes: number[];
  /** Bytes sent to each world rank. */
  bytesTo: number[];
  /** Messages sent to each world rank. */
  messagesTo: number[];
}

export type PeerEnd = 'finalized' | 'exited';

export type ControlMessage =
  | { t: typeof ControlKind.HELLO; rank: number; proof: string; nonce: string; address: PeerAddress }
  | { t: typeof ControlKind.WELCOME; proof: string; table: PeerAddress[]; parent?: ParentInfo }
  | { t: typeof ControlKind.ABORT; rank: number; code: number; message: string }
  | { t: typeof ControlKind.FINALIZE; rank: number }
  | { t: typeof ControlKind.FINALIZED }
  | { t: typeof ControlKind.PEER_DONE; rank: number; how: PeerEnd }
  | { t: typeof ControlKind.PEER_LOST; rank: number; peer: number }
  | { t: typeof ControlKind.CLOCK; id: number }
  | { t: typeof ControlKind.CLOCK_REPLY; id: number; now: number }
  | { t: typeof ControlKind.TRACE; rank: number; host: string; part: TracePart }
  | { t: typeof ControlKind.REPORT; id: number }
  | { t: typeof ControlKind.PENDING; rank: number; id: number; report: RankReport | null }
  | { t: typeof ControlKind.SPAWN; rank: number; request: SpawnRequest }
  | { t: typeof ControlKind.SPAWNED; reply: SpawnReply }
  | { t: typeof ControlKind.SPAWN_GO; rank: number; id: number }
  | { t: typeof ControlKind.RANK_DIED; rank: number; words: string };

/**
 * Control connections idle most of the time, so a dead link or host shows
 * only through TCP keep-alive: Node probes every second, ten times, after
 * this much silence; a lost peer is noticed within about 15 s (README
 * "Running on a cluster"). The same on both ends
 * (control-client.ts, control-registry.ts).
 */
export const CONTROL_KEEPALIVE_IDLE_MS = 5000;

/** Longest line a rank accepts from the server: the address table of a job of 100000 ranks fits. */
export const MAX_CONTROL_LINE = 64 * 1024 * 1024;
/** Longest line a server accepts from a rank once it has proved the key (an abort's message). */
export const MAX_RANK_LINE = 1024 * 1024;
/** Longest line before the proof: a hello with a long host name and paths fits many times over. */
export const MAX_HELLO_LINE = 16 * 1024;

/**
 * Splits a byte stream into JSON lines. Work is linear in the bytes: a
 * chunk is searched for a newline once, and a line split over many chunks is
 * joined once, when it ends. A line longer than `maxLine()` (which may
 * change, as a connection proves the key) is an error before it is kept.
 */
export class LineDecoder {
  private readonly parts: Buffer[] = [];
  private partBytes = 0;

  constructor(private readonly onMessage: (message: ControlMessage) => void, private readonly maxLine: () => number = () => MAX_CONTROL_LINE) {}

  push(chunk: Buffer | string): void {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    for (let newline = buf.indexOf(0x0a); newline >= 0; newline = buf.indexOf(0x0a)) {
      const tail = buf.subarray(0, newline);
      if (this.partBytes + tail.length > this.maxLine()) throw new Error(`control line longer than ${this.maxLine()} bytes`);
      const line = this.parts.length === 0 ? tail : Buffer.concat([...this.parts.splice(0), tail]);
      this.partBytes = 0;
      buf = buf.subarray(newline + 1);
      this.parse(line);
    }
    if (buf.length === 0) return;
    if (this.partBytes + buf.length > this.maxLine()) throw new Error(`control line longer than ${this.maxLine()} bytes`);
    this.parts.push(buf);
    this.partBytes += buf.length;
  }

  private parse(line: Buffer): void {
    const text = line.toString('utf8');
    if (text.trim() === '') return;
    const message = JSON.parse(text) as ControlMessage;
    if (typeof message !== 'object' || message === null || typeof message.t !== 'string') {
      throw new Error('control message without a kind');
    }
    this.onMessage(message);
  }
}

export function encodeControl(message: ControlMessage): string {
  return JSON.stringify(message) + '\n';
}

/** What a control server does with one connection's lines (controlLines). */
export interface ControlConnectionHandlers {
  /** The first line: the proven rank, or -1 (the handler has then dropped the connection). */
  hello(message: ControlMessage): number;
  /** A later line from proven `rank`. */
  message(rank: number, message: ControlMessage): void;
  /** The connection broke the protocol; it is destroyed after this. */
  reject(reason: string): void;
}

/**
 * Reads a control server's connection: the hello within the bounds of an
 * unproven connection (UnprovenConnections: bytes, time, number), then the
 * proven rank's lines. Anything that is not a JSON line is a stranger,
 * dropped at once. The launcher's control server and rank 0's rendezvous
 * server both serve connections this way.
 */
export function readControlLines(socket: Socket, unproven: UnprovenConnections, handlers: ControlConnectionHandlers): void {
  unproven.admit(socket);
  let rank = -1;
  const decoder = new LineDecoder((message) => {
    if (rank >= 0) {
      handlers.message(rank, message);
      return;
    }
    rank = handlers.hello(message);
    if (rank >= 0) unproven.proven(socket);
  }, () => (rank < 0 ? MAX_HELLO_LINE : MAX_RANK_LINE));
  const reject = (reason: string): void => {
    handlers.reject(reason);
    unproven.proven(socket);
    socket.destroy();
  };
  let firstByte = true;
  socket.on('data', (chunk: Buffer) => {
    if (rank < 0 && !unproven.received(socket, chunk.length)) return;
    // Control lines are JSON objects: anything else is a stranger.
    if (firstByte && chunk.length > 0) {
      firstByte = false;
      if (chunk[0] !== 0x7b) {
        reject('a connection sent something other than a control message');
        return;
      }
    }
    try {
      decoder.push(chunk);
    } catch (err) {
      reject(`bad control message: ${(err as Error).message}`);
    }
  });
}

/** How a rank hears that a pool worker died (RANK_DIED): its rank, and the launcher's words. */
export type RankDeathHandler = (rank: number, words: string) => void;

/** The rank side of RANK_DIED: notices that come before anyone watches wait, as PeerDoneRelay's. */
export class RankDeathRelay {
  private handler: RankDeathHandler | null = null;
  private readonly early: { rank: number; words: string }[] = [];

  watch(handler: RankDeathHandler): void {
    this.handler = handler;
    for (const m of this.early.splice(0)) handler(m.rank, m.words);
  }

  deliver(rank: number, words: string): void {
    if (this.handler !== null) this.handler(rank, words);
    // Bounded by the job's size: one notice per rank at most.
    else this.early.push({ rank, words });
  }
}

/**
 * The rank side of the launcher's "done" notices: they may come before the
 * runtime watches for them (during start-up), so they wait until it does.
 */
export class PeerDoneRelay {
  private handler: ((rank: number, how: PeerEnd) => void) | null = null;
  private readonly early: { rank: number; how: PeerEnd }[] = [];

  watch(handler: (rank: number, how: PeerEnd) => void): void {
    this.handler = handler;
    for (const m of this.early.splice(0)) handler(m.rank, m.how);
  }

  deliver(rank: number, how: PeerEnd): void {
    if (this.handler !== null) this.handler(rank, how);
    else this.early.push({ rank, how });
  }
}
