/**
 * The timeline of `mpi4ts run --trace FILE` (DESIGN.md "Timeline"): every
 * MPI call a rank makes becomes a slice (its name, start, length and
 * arguments: peer, tag, root, op, bytes, communicator), and every message a
 * send of one rank to a receive of another. The launcher joins the ranks'
 * parts into one Chrome trace-event file (launcher/trace.ts) that Perfetto
 * and chrome://tracing open.
 *
 * Off, it costs nothing: the calls are wrapped only in a rank started with
 * MPI4TS_TRACE=1 (the launcher sets it), and the engine tests one field per
 * message. On, the wrapper and the engine's notes cost a few microseconds per
 * call (DESIGN.md gives the figures); events are kept in memory, at most
 * MPI4TS_TRACE_MAX_EVENTS per rank, and go to the launcher in parts of
 * PART_EVENTS, before finalize, before an abort, and when the launcher stops
 * the job (SIGTERM).
 *
 * # Unfinished features
 * - A rank that dies of an uncaught error writes what is left at once
 *   (flushNow); if a part is still being written then, the rest is lost
 *   (at most PART_EVENTS events): its exit cannot wait for the socket.
 * - Polling calls (test, testall, iprobe...) are not slices: a polling
 *   loop would fill the buffer with them. Persistent requests' start neither.
 */
import { clockMicros } from '../base/index.js';
import type { Op } from '../coll/index.js';
import { Message, Request, type MessageTracer } from '../p2p/index.js';
import type { ProfileSummary, TracePart } from '../runtime/index.js';
import { Comm } from './comm.js';

/** Events per part sent to the launcher: a part's JSON line stays well below the control line's limit (1 MiB). */
export const PART_EVENTS = 4000;

/** What an argument of a traced call is: recorded under this name (null: not recorded). */
type Role = 'dest' | 'source' | 'tag' | 'sendtag' | 'recvtag' | 'root' | 'op' | null;

const SEND: readonly Role[] = [null, 'dest', 'tag'];
const RECV: readonly Role[] = ['source', 'tag'];
const RECV_INTO: readonly Role[] = [null, 'source', 'tag'];
const ROOTED: readonly Role[] = [null, 'root'];
const REDUCTION: readonly Role[] = [null, 'op'];
const REDUCTION_INTO: readonly Role[] = [null, null, 'op'];
const ROOTED_INTO: readonly Role[] = [null, null, 'root'];
const NONE: readonly Role[] = [];

/** Comm's point-to-point calls, with what their arguments are. */
const POINT_TO_POINT: Record<string, readonly Role[]> = {
  send: SEND, ssend: SEND, isend: SEND, issend: SEND, rsend: SEND, irsend: SEND, bsend: SEND, ibsend: SEND,
  recv: RECV, irecv: RECV, probe: RECV, mprobe: RECV,
  recvInto: RECV_INTO, irecvInto: RECV_INTO,
  sendrecv: [null, 'dest', 'sendtag', 'source', 'recvtag'],
  sendrecvInto: [null, 'dest', null, 'source', 'sendtag', 'recvtag'],
  sendrecvReplace: [null, 'dest', 'source', 'sendtag', 'recvtag'],
};

/** Comm's collective calls (blocking; each has an i-form with the same arguments unless listed). */
const COLLECTIVE: Record<string, readonly Role[]> = {
  barrier: NONE, bcast: ROOTED, scatter: ROOTED, gather: ROOTED, allgather: NONE, alltoall: NONE,
  reduce: [null, 'op', 'root'], allreduce: REDUCTION, allreduceInto: REDUCTION_INTO, scan: REDUCTION, exscan: REDUCTION,
  gatherv: ROOTED_INTO, scatterv: ROOTED_INTO, allgatherv: NONE, reduceScatter: REDUCTION_INTO,
  bcastInto: ROOTED, reduceInto: [null, null, 'op', 'root'], gatherInto: ROOTED_INTO, scatterInto: ROOTED_INTO,
  allgatherInto: NONE, alltoallInto: NONE, alltoallv: NONE, alltoallw: NONE, scanInto: REDUCTION_INTO, exscanInto: REDUCTION_INTO,
  reduceScatterBlockInto: REDUCTION_INTO, reduceScatterInto: [null, null, null, 'op'],
  gathervInto: [null, null, null, null, 'root'], scattervInto: [null, null, null, null, 'root'], allgathervInto: NONE,
  dup: NONE, split: NONE, splitType: NONE, createCart: NONE, create: NONE, createGroup: NONE,
};

interface Slice {
  id: number;
  name: string;
  start: number;
  args: Record<string, string | number>;
}


/** What a recorder keeps: the timeline's events (--trace), the profile's totals (--profile), or both. */
export interface RecorderModes {
  timeline: boolean;
  profile: boolean;
  /** Events kept at most (timeline); the rest are counted as dropped. */
  maxEvents: number;
  /** World size: the profile counts bytes to each rank. */
  worldSize: number;
}

export class TraceRecorder implements MessageTracer {
  private part: TracePart = emptyPart();
  private readonly profile: ProfileSummary | null;
  private readonly startedAt = clockMicros();
  /** Since when this rank is inside at least one call (profile), while `open` is not empty. */
  private inMpiSince = 0;
  private inPart = 0;
  private recorded = 0;
  private dropped = 0;
  private nextId = 1;
  /** The call whose synchronous part runs now: calls it makes are its own, not the user's. */
  private current: Slice | null = null;
  /** Calls begun and not finished, the latest last: a message outside any call's synchronous part belongs to the latest. */
  private readonly open: Slice[] = [];
  private readonly sentCounts = new Map<string, number>();
  private readonly matchedCounts = new Map<string, number>();
  private readonly receives = new WeakMap<Request<unknown>, { slice: Slice | null; context: number }>();
  private readonly collectiveNumbers = new WeakMap<Comm, number>();
  private sending: Promise<void> = Promise.resolve();

  /** `send` writes a part to the launcher. */
  constructor(private readonly send: (part: TracePart) => Promise<void>, private readonly modes: RecorderModes) {
    this.profile = modes.profile ? {
      wallMicros: 0, mpiMicros: 0, calls: {}, sizes: [],
      bytesTo: new Array<number>(modes.worldSize).fill(0), messagesTo: new Array<number>(modes.worldSize).fill(0),
    } : null;
  }

  // ---- MessageTracer: what the engine tells ----

  sent(destWorld: number, context: number, tag: number, bytes: number): void {
    const profile = this.profile;
    if (profile !== null) {
      const bucket = bytes === 0 ? 0 : 32 - Math.clz32(bytes);
      while (profile.sizes.length <= bucket) profile.sizes.push(0);
      profile.sizes[bucket]!++;
      // The matrix is the job's ranks': messages to spawned processes count in the sizes only.
      if (destWorld < profile.bytesTo.length) {
        profile.bytesTo[destWorld]! += bytes;
        profile.messagesTo[destWorld]!++;
      }
    }
    if (!this.modes.timeline) return;
    const time = clockMicros();
    const slice = this.current ?? this.open.at(-1) ?? this.instant('message out', time);
    slice.args.bytes = (Number(slice.args.bytes) || 0) + bytes;
    const n = countOf(this.sentCounts, `${destWorld},${context},${tag}`);
    if (this.take()) this.part.sends.push([destWorld, context, tag, n, time, slice.id, bytes]);
  }

  posted(request: Request<unknown>, context: number): void {
    if (this.modes.timeline) this.receives.set(request, { slice: this.current, context });
  }

  received(sourceWorld: number, tag: number, bytes: number, request: Request<unknown>): void {
    if (!this.modes.timeline) return;
    const posted = this.receives.get(request);
    if (posted === undefined) return;
    const time = clockMicros();
    // The receive's own call when it still runs (a blocking recv), else the call that waits now (wait, waitall).
    const slice = (posted.slice !== null && this.open.includes(posted.slice) ? posted.slice : null)
      ?? this.current ?? this.open.at(-1) ?? this.instant('message in', time);
    slice.args.received = (Number(slice.args.received) || 0) + bytes;
    const n = countOf(this.matchedCounts, `${sourceWorld},${posted.context},${tag}`);
    if (this.take()) this.part.recvs.push([sourceWorld, posted.context, tag, n, time, slice.id]);
  }

  // ---- calls ----

  /** Wraps the user-facing calls of Comm, Request and Message; once per process. */
  install(): void {
    for (const [name, roles] of Object.entries(POINT_TO_POINT)) this.wrapComm(name, roles, false);
    for (const [name, roles] of Object.entries(COLLECTIVE)) {
      this.wrapComm(name, roles, true);
      this.wrapComm(`i${name}`, roles, true);
    }
    this.wrap(Request.prototype as unknown as Record<string, unknown>, 'wait', () => ({}));
    // `await request` is a wait too.
    this.wrap(Request.prototype as unknown as Record<string, unknown>, 'then', () => ({}), 'wait');
    for (const name of ['waitall', 'waitany', 'waitsome']) {
      this.wrap(Request as unknown as Record<string, unknown>, name, (args) => ({ requests: Array.isArray(args[0]) ? args[0].length : 0 }));
    }
    for (const name of ['recv', 'recvInto', 'irecv', 'irecvInto']) {
      this.wrap(Message.prototype as unknown as Record<string, unknown>, name, () => ({}), `message.${name}`);
    }
  }

  /** Everything recorded goes to the launcher; calls still open are closed as they stand (marked unfinished). */
  flush(): Promise<void> {
    this.closeOpen();
    this.sendPart(true);
    return this.sending;
  }

  /** flush for a process that is dying: what has not gone yet is handed to `sendNow`, which cannot wait. */
  flushNow(sendNow: (part: TracePart) => boolean): void {
    this.closeOpen();
    sendNow(this.takePart(true));
  }

  private closeOpen(): void {
    while (this.open.length > 0) {
      const slice = this.open.at(-1)!;
      slice.args.unfinished = 1;
      this.end(slice);
    }
  }

  private wrapComm(name: string, roles: readonly Role[], collective: boolean): void {
    this.wrap(Comm.prototype as unknown as Record<string, unknown>, name, (args, comm) => {
      const described: Record<string, string | number> = { comm: commLabel(comm as Comm) };
      roles.forEach((role, i) => {
        const value = args[i];
        if (role === null || value === undefined) return;
        described[role] = role === 'op' ? String((value as Op).name ?? value) : typeof value === 'number' ? value : String(value);
      });
      if (collective) {
        const n = (this.collectiveNumbers.get(comm as Comm) ?? 0) + 1;
        this.collectiveNumbers.set(comm as Comm, n);
        described.collective = n;
      }
      return described;
    });
  }

  private wrap(target: Record<string, unknown>, name: string, describe: (args: unknown[], self: unknown) => Record<string, string | number>,
    label = name): void {
    const original = target[name];
    if (typeof original !== 'function') return;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the wrapper's own `this` is the caller's object
    const recorder = this;
    const traced = function (this: unknown, ...args: unknown[]): unknown {
      // A call made inside another's synchronous part is part of it (recv runs irecv, ibcast runs bcast).
      if (recorder.current !== null) return (original as (...a: unknown[]) => unknown).apply(this, args);
      const slice = recorder.begin(label, describe(args, this));
      let result: unknown;
      try {
        result = (original as (...a: unknown[]) => unknown).apply(this, args);
      } catch (err) {
        recorder.current = null;
        recorder.end(slice);
        throw err;
      }
      recorder.current = null;
      // A Request is the call's posting only (isend, ibcast): its slice ends now; a promise's when it settles.
      if (result instanceof Promise) {
        const end = (): void => recorder.end(slice);
        result.then(end, end);
      } else {
        recorder.end(slice);
      }
      return result;
    };
    Object.defineProperty(traced, 'name', { value: name });
    target[name] = traced;
  }

  private begin(name: string, args: Record<string, string | number>): Slice {
    const slice: Slice = { id: this.nextId++, name, start: clockMicros(), args };
    if (this.open.length === 0) this.inMpiSince = slice.start;
    this.open.push(slice);
    this.current = slice;
    return slice;
  }

  private end(slice: Slice): void {
    const at = this.open.lastIndexOf(slice);
    if (at < 0) return;
    this.open.splice(at, 1);
    const time = clockMicros();
    const profile = this.profile;
    if (profile !== null) {
      const call = profile.calls[slice.name] ??= [0, 0];
      call[0]++;
      call[1] += time - slice.start;
      if (this.open.length === 0) profile.mpiMicros += time - this.inMpiSince;
    }
    if (!this.modes.timeline) return;
    if (this.take()) this.part.slices.push([slice.id, slice.name, slice.start, time - slice.start, slice.args]);
    if (this.inPart >= PART_EVENTS) this.sendPart(false);
  }

  /**
   * A slice of 1 us at `time`, where a message came or went outside any call
   * (a request completed while the program awaited something else): a flow
   * needs a slice to start or end in.
   */
  private instant(name: string, time: number): Slice {
    const slice: Slice = { id: this.nextId++, name, start: time, args: {} };
    // Recorded now; its args still grow by this message (the part holds the same object).
    if (this.take()) this.part.slices.push([slice.id, name, time, 1, slice.args]);
    return slice;
  }

  /** Room for one more event? Counts it, or counts it dropped. */
  private take(): boolean {
    if (this.recorded >= this.modes.maxEvents) {
      this.dropped++;
      return false;
    }
    this.recorded++;
    this.inPart++;
    return true;
  }

  /** The events since the last part, and with `last` the profile's totals so far. */
  private takePart(last: boolean): TracePart {
    const part = this.part;
    part.dropped = this.dropped;
    this.part = emptyPart();
    this.inPart = 0;
    this.dropped = 0;
    if (last && this.profile !== null) part.profile = { ...this.profile, wallMicros: clockMicros() - this.startedAt };
    return part;
  }

  private sendPart(last: boolean): void {
    const part = this.takePart(last);
    if (part.slices.length === 0 && part.sends.length === 0 && part.recvs.length === 0 && part.dropped === 0 && part.profile === undefined) return;
    this.sending = this.sending.then(() => this.send(part));
  }
}

function emptyPart(): TracePart {
  return { slices: [], sends: [], recvs: [], dropped: 0 };
}

function countOf(counts: Map<string, number>, key: string): number {
  const n = counts.get(key) ?? 0;
  counts.set(key, n + 1);
  return n;
}

function commLabel(comm: Comm): string {
  const name = comm.name;
  return name === '' ? `a communicator of ${comm.size}` : name;
}
