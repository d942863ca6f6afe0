/**
 * The point-to-point engine: eager and rendezvous protocols over a Transport,
 * and MPI matching per context (DESIGN.md "Messages").
 *
 * - A message up to `eagerThreshold` bytes goes whole in one EAGER frame, as
 *   long as the sender has eager credit with the receiver (below).
 * - A larger one, every synchronous send, and any send without credit go as
 *   RTS; the receiver answers CTS once a receive matches, and the payload
 *   follows as DATA, written straight into the receive buffer. A fast sender
 *   therefore never fills a slow receiver's memory, and ssend completes
 *   exactly at the match.
 *
 * Eager flow control. A receiver keeps an eager message it did not expect
 * until a receive matches it, so eager traffic alone could fill its memory.
 * Each rank publishes how many eager bytes (payload and header) a sender may
 * have in flight to it (`eagerCredit`, PeerAddress.eagerCredit); a sender
 * spends that credit on each eager frame and, without enough, sends by
 * rendezvous instead, which keeps order and needs no buffer. The receiver
 * hands spent credit back (a CREDIT frame) once a quarter of it has been
 * received by the program. So a receiver holds at most `eagerCredit` bytes
 * of unexpected eager data per sender, and beyond it only envelopes.
 *
 * Peer ends. A peer whose program has finished sends no more messages: a
 * receive waiting for it (or for anyone, when everyone else has finished)
 * can never complete, and fails with an error naming both, instead of
 * waiting for ever.
 */
import { PROC_NULL, CollectiveMismatchError, JobError, MPIError, ProtocolError, TruncationError, copyBytes, copyInto, debug, publish } from '../base/index.js';
import { BytesOwner, decode, encode, bytesOf, payloadProblem, payloadTypeName, isStructured, type BytesOwnerCode, type EncodedPayload, type RawBuffer } from '../codec/index.js';
import { CtsFlag, FrameKind, HEADER_BYTES, ReadDoneFlag, newHeader, type BoardSlot, type FrameHeader, type FrameSink, type PeerAddress, type PeerMemory, type Poller, type Transport } from '../transport/index.js';
import { HostBoard } from './host-board.js';
import type { Progress } from './progress.js';
import { envelopeMatches, MatchQueues } from './matching.js';
import { Request, type Cancellable } from './request.js';
import { Status } from './status.js';
import { callSiteOf, captureCall, MAX_UNMATCHED, type EngineReport, type PendingOperation, type UnmatchedMessage } from './registry.js';

/**
 * Where a message came from, for replies (CTS) and failure handling. A
 * matched probe hands one out (as an opaque token inside MPI.Message) to be
 * received later by mrecv.
 */
export interface IncomingMessage {
  source: number;
  tag: number;
  payloadType: number;
  byteLength: number;
  fromWorld: number;
  /** The whole payload for an eager message; null for a rendezvous one. */
  eager: Uint8Array | null;
  owned: boolean;
  /** Rendezvous id chosen by the sender. */
  rendezvousId: number;
  /** The word of the collective call this message belongs to (0: point-to-point; coll/calls.ts). */
  collective: number;
  /** Eager credit the sender spent on it, handed back once it is received. */
  cost: number;
  /** For messages to oneself sent by rendezvous: hand over the bytes. */
  local: { bytes: Uint8Array; onMatched: () => void } | null;
}

/** A receive waiting for its message; it can take itself back (MPI_Cancel) until one matches. */
class PostedReceive implements Cancellable {
  constructor(
    readonly source: number,
    readonly tag: number,
    /** World rank of the expected sender, or -1 for ANY_SOURCE. */
    readonly sourceWorld: number,
    readonly target: RawBuffer | null,
    readonly request: Request<unknown>,
    /** The user's call, for errors ("recv", "bcast"). */
    readonly call: string,
    readonly collective: number,
    private readonly queues: MatchQueues<PostedReceive, IncomingMessage>,
    private readonly progress: Progress,
    /**
     * When it started waiting (Progress.clock, set once it waits), and where the user called it
     * (MPI4TS_DEBUG_CALLS): for hang reports. Constructor parameters, not
     * field initialisers: those define properties one by one on every receive.
     */
    public since: number,
    /** Which post it was (Progress.postCount): with `since`, when it started (Progress.stampRange). */
    public seq: number,
    readonly site: Error | null,
  ) {}

  cancel(): boolean {
    if (!this.queues.withdraw(this)) return false;
    this.progress.end();
    const status = this.request.status;
    status.cancelled = true;
    status.source = this.source;
    status.tag = this.tag;
    this.request._resolve(null);
    return true;
  }
}

interface PendingRendezvousSend {
  dest: number;
  bytes: Uint8Array;
  request: Request<void>;
  /** What a hang report says of it: the call, where, since when. */
  call: string;
  context: number;
  tag: number;
  collective: number;
  since: number;
  seq: number;
  site: Error | null;
  /** Split (READ_FROM sent): it stays pending until the receiver has read the tail (READ_DONE). */
  splitting: boolean;
  /**
   * The whole payload went as DATA after the split's head could not be
   * written: the send completes once that is written and READ_DONE came, in
   * either order (`dataWritten`; an error of the write in `dataError`).
   */
  dataSent: boolean;
  dataWritten: boolean;
  dataError: Error | null;
  /** Where the receiver's CTS said its buffer is (for the tail, should the receiver fail to read it). */
  headAddress: number;
}

interface PendingData {
  target: Uint8Array;
  finish: (bytes: Uint8Array) => void;
  fail: (err: Error) => void;
  /** WRITTEN frames still to come before the payload is all there: 1; 2 when this rank could not read a split's tail. */
  written: number;
}

interface ProbeWaiter {
  source: number;
  tag: number;
  sourceWorld: number;
  state: ContextState;
  /** A matched probe (mprobe) takes the message it sees out of the queues. */
  matched: boolean;
  /** The user's call, for errors. */
  call: string;
  since: number;
  seq: number;
  site: Error | null;
  resolve: (message: IncomingMessage) => void;
  reject: (err: Error) => void;
}

/** One matching context: its queues, and its group once a communicator of this rank uses it. */
interface ContextState {
  queues: MatchQueues<PostedReceive, IncomingMessage>;
  /** World rank of each member, or null while no communicator here has this context. */
  group: readonly number[] | null;
}

/**
 * What the engine works with, given at construction (undici's dispatcher
 * pattern): the progress engine it keeps busy while operations are pending,
 * and a factory that opens its transport with the engine as the sink of
 * whatever arrives, so neither is ever without the other.
 */
export interface EngineCollaborators {
  progress: Progress;
  openTransport(sink: FrameSink): Transport;
  /** Under --trace, told of every message sent and received (comm/trace.ts); absent otherwise, at the cost of one test per message. */
  tracer?: MessageTracer | null;
  /**
   * Cross-memory attach (transport/cma.ts), or null: rendezvous payloads
   * between ranks of one host are then written straight into the
   * receiver's buffer, one copy instead of the ring's two.
   */
  peerMemory?: PeerMemory | null;
}

/**
 * What the timeline of --trace learns from the engine. A send and the
 * receive it matched are joined by their key, (sender, receiver, context,
 * tag, n): MPI's non-overtaking rule (MPI 4.1 section 3.5) makes the n-th
 * message a sender sends with one context and tag the n-th a receiver
 * matches with them, so nothing extra travels on the wire.
 */
export interface MessageTracer {
  sent(destWorld: number, context: number, tag: number, bytes: number): void;
  /** A receive was posted in `context`; it may match later. */
  posted(request: Request<unknown>, context: number): void;
  /** A message from `sourceWorld` matched the receive of `request`. */
  received(sourceWorld: number, tag: number, bytes: number, request: Request<unknown>): void;
}

/** What the engine learns once every rank's address is known (P2PEngine.start). */
export interface EngineStart {
  table: readonly PeerAddress[];
  /** How long the progress engine spins after the last activity (0: never, on a host with more ranks than cores). */
  pollMicros: number;
  /** Empty polls before the spin yields the core (0: from the first; default: the progress engine's own). */
  yieldAfterPolls?: number;
  /** This host has a core for every rank on it: a receiver may copy half of a large payload while its sender copies the other (READ_FROM). */
  splitCopies?: boolean;
}

export interface EngineOptions {
  worldSize: number;
  eagerThreshold: number;
  /** Eager bytes each sender may have in flight to this rank (what this rank publishes). */
  eagerCredit: number;
  /** Contexts on the wire are below this. */
  contextLimit: number;
  /**
   * The communicators that exist before any peer can send (COMM_WORLD,
   * COMM_SELF): their frames are checked against their groups from the first.
   */
  groups?: readonly { pointToPoint: number; group: readonly number[] }[];
  /** Something only ending the job can answer (a connection broke the protocol). */
  onFatal: (err: Error) => void;
  /** The call a collective word (FrameHeader.collective) stands for, for errors. */
  describeCollective?: (code: number) => string;
  /** A collective call's name alone, for hang reports (default: describeCollective). */
  nameCollective?: (code: number) => string;
  /**
   * Whether two different collective words (FrameHeader.collective) still
   * name one call, as when one rank leaves an argument open (coll/calls.ts
   * sameCall); without it every difference is a mismatch. Asked only when
   * the words differ: a correct program pays one comparison per message.
   */
  sameCollectiveCall?: (mine: number, theirs: number) => boolean;
  /** A peer's connections closed before it said goodbye: told before the receives that fail for it. */
  onPeerLost?: (rank: number) => void;
  /** Rendezvous payloads from a rank of this host of this many bytes or more, up to directWriteMaxBytes, are offered a direct write (with peerMemory). */
  directWriteMinBytes?: number;
  /** Above this a payload is offered a direct write only split (the single copy loses to the ring's two cores). */
  directWriteMaxBytes?: number;
  /** Direct payloads of this many bytes or more are split between the sender's write and the receiver's read, where the host has the cores (0: never). */
  directSplitMinBytes?: number;
  /** The communicator of a matching context, in words, for hang reports ("COMM_WORLD"). */
  describeContext?: (context: number) => string;
  /** Capture a stack at every operation, so hang reports say where the user called it (MPI4TS_DEBUG_CALLS). */
  debugCalls?: boolean;
}

/** A collective call's key, its context and call number in one number (tags are below 2^31, contexts far below 2^22). */
function collectiveKey(context: number, tag: number): number {
  return context * 0x8000_0000 + tag;
}

/** errno values that refuse every direct write (process_vm_writev), not just one. */
const EPERM = 1;
const ENOSYS = 38;

/** Where a split payload's head ends and its tail begins: half each, on a page boundary of the payload. */
function splitCut(length: number): number {
  return Math.floor(length / 2 / 4096) * 4096;
}

/** Rendezvous keys combine a sender's world rank and its id in one number. */
const RDV_KEY_SPAN = 0x1_0000_0000;

/** Why a peer ended, as words for an error. */
function endedWords(why: string): string {
  switch (why) {
    case 'finalized': return 'has finished its program (finalize)';
    case 'exited': return 'exited before the job ended (without finalize)';
    case 'closed': return 'ended without finalize (its connections closed)';
    default: return why;
  }
}

export class P2PEngine implements FrameSink {
  private readonly contexts = new Map<number, ContextState>();
  private readonly probeWaiters: ProbeWaiter[] = [];
  private readonly pendingSends = new Map<number, PendingRendezvousSend>();
  private readonly pendingData = new Map<number, PendingData>();
  private nextRendezvousId = 1;
  private lastContext = -1;
  private lastState: ContextState | null = null;
  /** Where frames go; it delivers what arrives to this engine (FrameSink). */
  readonly transport: Transport;
  private readonly progress: Progress;
  /** Why each peer sends no more messages, or null while it may. */
  private ended: (string | null)[];
  private endedCount = 0;
  /** A protocol error is ending the job. */
  private failedFatally = false;
  /** Eager credit left with each peer, and what it granted. */
  private creditLeft: Float64Array;
  private creditGranted: Float64Array;
  /** Eager bytes received from each peer and not handed back yet. */
  private creditOwed: Float64Array;
  private readonly creditReturnAt: number;
  private readonly tracer: MessageTracer | null;
  /** Set to null once a direct write failed for want of permission: the kernel will refuse every later one too. */
  private peerMemory: PeerMemory | null;
  /** Each peer's pid where it runs on this host and a direct write may reach it, else 0 (known from start()). */
  private directPid: Int32Array;
  /** Split payloads from this size up (0: none): set at start(), from the host's cores. */
  private splitMinBytes = 0;
  /** The kernel refused to let this rank read a peer's memory: it offers no more splits. */
  private readsRefused = false;
  /** Peers that have read the tail of a payload of this rank's (the debug log says so once per peer). */
  private splitWith: Uint8Array;
  /** Peers this rank has written a payload into (the debug log says so once per peer). */
  private wroteDirectlyTo: Uint8Array;
  /**
   * Frames this engine sent to and received from each peer: equal counts
   * both ways between every pair mean nothing is in flight (the launcher's
   * deadlock check). One increment per frame.
   */
  private framesSent: Float64Array;
  private framesReceived: Float64Array;
  /** Stacks are captured at every call for hang reports (EngineOptions.debugCalls). */
  readonly debugCalls: boolean;
  /** Under debugCalls, where each collective call still running was made, by context and call number. */
  private readonly collectiveSites = new Map<number, Error>();
  /** The boards of communicators whose collectives meet in shared memory (host-board.ts). */
  private readonly boards: HostBoard[] = [];

  /**
   * Frames may arrive from here on (peers connect while addresses are being
   * exchanged): they are matched as usual. Sends need start() first (the
   * transport knows no address before).
   */
  constructor(readonly worldRank: number, collaborators: EngineCollaborators, private readonly options: EngineOptions) {
    const size = options.worldSize;
    this.ended = new Array<string | null>(size).fill(null);
    this.creditLeft = new Float64Array(size);
    this.creditGranted = new Float64Array(size);
    this.creditOwed = new Float64Array(size);
    this.creditReturnAt = Math.max(1, Math.floor(options.eagerCredit / 4));
    this.framesSent = new Float64Array(size);
    this.framesReceived = new Float64Array(size);
    this.debugCalls = options.debugCalls === true;
    this.progress = collaborators.progress;
    this.tracer = collaborators.tracer ?? null;
    this.peerMemory = collaborators.peerMemory ?? null;
    this.directPid = new Int32Array(size);
    this.wroteDirectlyTo = new Uint8Array(size);
    this.splitWith = new Uint8Array(size);
    for (const { pointToPoint, group } of options.groups ?? []) this.setGroup(pointToPoint, group);
    this.transport = collaborators.openTransport(this);
  }

  /**
   * Every rank's address is known: the eager credit each peer grants, how
   * this host spins, and the transport's own start; resolves once the
   * transport is ready (keep the progress engine polling meanwhile: the
   * shared-memory doorbells need it). Called once, before the first send.
   */
  start(job: EngineStart): Promise<void> {
    for (const peer of job.table) {
      if (peer === undefined) continue;
      const credit = peer.eagerCredit ?? this.options.eagerCredit;
      this.creditLeft[peer.rank] = credit;
      this.creditGranted[peer.rank] = credit;
    }
    const here = job.table[this.worldRank]?.hostId;
    for (const peer of job.table) {
      if (peer !== undefined && peer.rank !== this.worldRank && peer.hostId === here && Number.isInteger(peer.pid) && peer.pid > 0) this.directPid[peer.rank] = peer.pid;
    }
    this.progress.setPollMicros(job.pollMicros, job.yieldAfterPolls);
    this.splitMinBytes = job.splitCopies === true ? this.options.directSplitMinBytes ?? 0 : 0;
    return this.transport.start({ table: job.table, spinning: job.pollMicros > 0 });
  }

  /**
   * More processes joined (a spawn's children, known to its parents, before
   * any of them can connect): room for them in every per-peer count, the
   * credit each grants, and their addresses for the transport. Shared
   * memory never reaches them (transport.ts addPeers).
   */
  addPeers(peers: readonly PeerAddress[]): void {
    const size = Math.max(this.ended.length, ...peers.map((p) => p.rank + 1));
    if (size > this.ended.length) {
      const grown = <A extends Float64Array | Int32Array | Uint8Array>(old: A, make: (n: number) => A): A => {
        const next = make(size);
        next.set(old);
        return next;
      };
      while (this.ended.length < size) this.ended.push(null);
      this.creditLeft = grown(this.creditLeft, (n) => new Float64Array(n));
      this.creditGranted = grown(this.creditGranted, (n) => new Float64Array(n));
      this.creditOwed = grown(this.creditOwed, (n) => new Float64Array(n));
      this.framesSent = grown(this.framesSent, (n) => new Float64Array(n));
      this.framesReceived = grown(this.framesReceived, (n) => new Float64Array(n));
      this.directPid = grown(this.directPid, (n) => new Int32Array(n));
      this.wroteDirectlyTo = grown(this.wroteDirectlyTo, (n) => new Uint8Array(n));
      this.splitWith = grown(this.splitWith, (n) => new Uint8Array(n));
    }
    for (const peer of peers) {
      const credit = peer.eagerCredit ?? this.options.eagerCredit;
      this.creditLeft[peer.rank] = credit;
      this.creditGranted[peer.rank] = credit;
    }
    this.transport.addPeers(peers);
  }

  /**
   * A communicator of this rank uses `pointToPoint` (and its collective
   * context, the next): frames for them must come from its members, under
   * the rank each has in it. `null` when it is freed.
   */
  setGroup(pointToPoint: number, group: readonly number[] | null): void {
    this.stateOf(pointToPoint).group = group;
    this.stateOf(pointToPoint + 1).group = group;
  }

  /**
   * A board for the collectives of the communicator with `members` (world
   * ranks; this rank is `rank` among them), or null where some member's
   * slot is not mapped here (no shared memory with it, or the board was not
   * offered: the members then read this rank's "no", and none uses it).
   * Its waits are polled with the rings and are in hang reports.
   */
  openHostBoard(context: number, members: readonly number[], rank: number, comm: string): HostBoard | null {
    const transport = this.transport;
    if (transport.boardSlot === undefined || transport.wake === undefined || transport.boardOffer === undefined) return null;
    const slots: BoardSlot[] = [];
    for (const member of members) {
      // Mapped at start or never (ShmTransport.offerBoard, which logs why).
      const slot = transport.boardSlot(member);
      if (slot === null) return null;
      slots.push(slot);
    }
    const wake = transport.wake.bind(transport);
    const offer = transport.boardOffer.bind(transport);
    const board = new HostBoard({
      members, rank, slots, wake, offer, comm, context,
      progress: this.progress,
      sameCall: (mine, theirs) => this.sameCall(mine, theirs),
    });
    if (this.boards.length === 0) this.progress.addPoller(this.boardPoller);
    this.boards.push(board);
    // A member that ended already fails the board's first call.
    for (let peer = 0; peer < this.ended.length; peer++) {
      const why = this.ended[peer];
      if (why !== null && why !== undefined) board.memberEnded(peer, endedWords(why));
    }
    return board;
  }

  /** Stops polling a board (its communicator's members did not all get one). */
  closeHostBoard(board: HostBoard): void {
    const i = this.boards.indexOf(board);
    if (i >= 0) this.boards.splice(i, 1);
  }

  /** Polled with the rings: the boards' waits. */
  private readonly boardPoller: Poller = {
    poll: () => {
      const boards = this.boards;
      let moved = false;
      for (let i = 0; i < boards.length; i++) if (boards[i]!.pendingCount > 0 && boards[i]!.advance()) moved = true;
      return moved;
    },
    // The rings' poller says whether this rank sleeps (the inbox's flag, which publishers read) and yields.
    setAsleep: () => {},
    idle: () => {},
  };

  /**
   * Starts a send. `source` is the sender's rank in the communicator (what the
   * receiver matches on); `destWorld` is where the frame goes. Throws a
   * TypeError or RangeError, sending nothing, for a value that cannot be encoded.
   * `request`: the one to complete, when the caller has one (a persistent
   * request's round); a new one otherwise.
   */
  isend(context: number, source: number, destWorld: number, tag: number, value: unknown, sync: boolean,
    call: string, collective = 0, request = new Request<void>()): Request<void> {
    if (destWorld === PROC_NULL) {
      request._resolve(undefined);
      return request;
    }
    return this.isendEncoded(context, source, destWorld, tag, encodeFor(call, value), sync, call, collective, request);
  }

  /**
   * isend of a payload already encoded: a buffered send measures it first,
   * and a caller whose bytes may change before the send completes
   * (bsend, sendrecvReplace) marks them SCRATCH, so they are copied exactly
   * when the send cannot take them at once (a rendezvous, a full ring).
   */
  isendEncoded(context: number, source: number, destWorld: number, tag: number, payload: EncodedPayload, sync: boolean,
    call: string, collective: number, request: Request<void>): Request<void> {
    if (destWorld === PROC_NULL) {
      request._resolve(undefined);
      return request;
    }
    if (this.tracer !== null) this.tracer.sent(destWorld, context, tag, payload.bytes.length);
    if (destWorld === this.worldRank) {
      this.sendToSelf(context, source, tag, payload.type, payload.bytes, payload.owner, sync, collective, request);
      return request;
    }
    const gone = this.transport.sendFailure(destWorld);
    if (gone !== null) {
      request._reject(new JobError(`${call}: cannot send to rank ${destWorld}: ${gone.message}`, { cause: gone }));
      return request;
    }
    const cost = payload.bytes.length + HEADER_BYTES;
    const credit = this.creditLeft[destWorld]!;
    if (!sync && payload.bytes.length <= this.options.eagerThreshold && cost <= credit) {
      this.creditLeft[destWorld] = credit - cost;
      this.sendEager(context, source, destWorld, tag, payload.type, payload.bytes, payload.owner, collective, request);
    } else {
      // The bytes wait for the receiver's clear-to-send: the encoder's scratch would be reused by then.
      const bytes = payload.owner === BytesOwner.SCRATCH ? copyBytes(payload.bytes) : payload.bytes;
      this.sendRendezvous(context, source, destWorld, tag, payload.type, bytes, collective, request, call);
    }
    return request;
  }

  /**
   * Posts a receive; `target` makes it a receive into a caller's buffer.
   * `request`: the one to complete, as for isend.
   */
  irecv(context: number, source: number, sourceWorld: number, tag: number, target: RawBuffer | null,
    call: string, collective = 0, request: Request<unknown> = new Request<unknown>()): Request<unknown> {
    if (source === PROC_NULL) {
      request.status.source = PROC_NULL;
      request._resolve(target ?? null);
      return request;
    }
    const state = this.stateOf(context);
    const queues = state.queues;
    if (this.tracer !== null) this.tracer.posted(request, context);
    const site = !this.debugCalls ? null : collective === 0 ? captureCall() : this.collectiveSites.get(collectiveKey(context, tag)) ?? captureCall();
    const posted = new PostedReceive(source, tag, sourceWorld, target, request, call, collective, queues, this.progress, 0, 0, site);
    const message = queues.post(posted);
    if (message !== undefined) {
      this.deliver(message, posted);
      return request;
    }
    const crossing = collective !== 0 ? this.otherCallUnder(queues.unexpectedMessages, tag, collective) : null;
    if (crossing !== null) {
      queues.withdraw(posted);
      request._reject(this.mismatch(crossing, posted));
      return request;
    }
    const hopeless = this.endedCount > 0 ? this.hopeless(posted.sourceWorld, state) : null;
    if (hopeless !== null && hopeless.rank >= 0) {
      queues.withdraw(posted);
      request._reject(neverArrives(call, source, sourceWorld, tag, collective, hopeless));
      return request;
    }
    this.progress.begin();
    // Stamped after begin(): a rank that was idle reads the clock there, so the stamp is now, not its last activity.
    posted.since = this.progress.clock;
    posted.seq = this.progress.postCount;
    request._onCancel(posted);
    if (hopeless !== null) this.judgeAnySourceLater();
    return request;
  }

  /** Moves frames along now, between two pieces of a long synchronous copy (Progress.pollNow). */
  pollNow(): void {
    this.progress.pollNow();
  }

  /** A message waiting to be received, left in place (MPI_Iprobe). */
  iprobe(context: number, source: number, tag: number, status?: Status): boolean {
    if (source === PROC_NULL) {
      if (status !== undefined) status.source = PROC_NULL;
      return true;
    }
    const message = this.contexts.get(context)?.queues.peek(source, tag);
    if (message === undefined) return false;
    if (status !== undefined) fillStatus(status, message);
    return true;
  }

  /** Waits until a matching message is there, without receiving it (MPI_Probe). */
  probe(context: number, source: number, sourceWorld: number, tag: number): Promise<Status> {
    const status = new Status();
    if (this.iprobe(context, source, tag, status)) return Promise.resolve(status);
    return this.waitForMessage(context, source, sourceWorld, tag, false, 'probe').then((message) => fillStatus(status, message));
  }

  /**
   * Takes the first matching message out of the queues, or null if none is
   * there (MPI_Improbe): no receive can match it from now on; mrecv
   * receives it. PROC_NULL is the caller's (MPI_MESSAGE_NO_PROC).
   */
  improbe(context: number, source: number, tag: number, status?: Status): IncomingMessage | null {
    const message = this.contexts.get(context)?.queues.take(source, tag);
    if (message === undefined) return null;
    if (status !== undefined) fillStatus(status, message);
    return message;
  }

  /** Waits for a matching message and takes it out of the queues (MPI_Mprobe). */
  mprobe(context: number, source: number, sourceWorld: number, tag: number, status?: Status): Promise<IncomingMessage> {
    const found = this.improbe(context, source, tag, status);
    if (found !== null) return Promise.resolve(found);
    return this.waitForMessage(context, source, sourceWorld, tag, true, 'mprobe').then((message) => {
      if (status !== undefined) fillStatus(status, message);
      return message;
    });
  }

  /**
   * Receives a message a matched probe took (MPI_Mrecv, MPI_Imrecv): it is
   * delivered as if a receive for its own source and tag had just matched
   * it, so a rendezvous asks for its data only now and eager credit goes
   * back only now.
   */
  mrecv(context: number, message: IncomingMessage, target: RawBuffer | null, call: string,
    request: Request<unknown> = new Request<unknown>()): Request<unknown> {
    const queues = this.stateOf(context).queues;
    if (this.tracer !== null) this.tracer.posted(request, context);
    this.deliver(message, new PostedReceive(message.source, message.tag, message.fromWorld, target, request, call, 0, queues, this.progress, 0, 0, null));
    return request;
  }

  /** probe and mprobe: a waiter until a matching message arrives, failing if none can. */
  private waitForMessage(context: number, source: number, sourceWorld: number, tag: number, matched: boolean,
    call: string): Promise<IncomingMessage> {
    const state = this.stateOf(context);
    const hopeless = this.endedCount > 0 ? this.hopeless(sourceWorld, state) : null;
    if (hopeless !== null && hopeless.rank >= 0) return Promise.reject(neverArrives(call, source, sourceWorld, tag, 0, hopeless));
    if (hopeless !== null) this.judgeAnySourceLater();
    this.progress.begin();
    return new Promise<IncomingMessage>((resolve, reject) => {
      this.probeWaiters.push({
        source, tag, sourceWorld, state, matched, call, since: this.progress.clock, seq: this.progress.postCount,
        site: this.debugCalls ? captureCall() : null,
        resolve: (message) => {
          this.progress.end();
          resolve(message);
        },
        reject: (err) => {
          this.progress.end();
          reject(err);
        },
      });
    });
  }

  // ---- FrameSink: frames from the transport ----

  onFrame(from: number, header: FrameHeader, payload: Uint8Array | null, owned: boolean): void {
    this.progress.activity();
    this.framesReceived[from]! += 1;
    switch (header.kind) {
      case FrameKind.EAGER:
        this.arrive(this.checkedState(from, header), {
          source: header.source, tag: header.tag, payloadType: header.payloadType, byteLength: header.length,
          fromWorld: from, eager: payload, owned, rendezvousId: 0, collective: header.collective,
          cost: header.length + HEADER_BYTES, local: null,
        });
        return;
      case FrameKind.RTS:
        this.arrive(this.checkedState(from, header), {
          source: header.source, tag: header.tag, payloadType: header.payloadType, byteLength: header.length,
          fromWorld: from, eager: null, owned: false, rendezvousId: header.rendezvousId, collective: header.collective,
          cost: 0, local: null,
        });
        return;
      case FrameKind.CTS:
        this.clearToSend(from, header);
        return;
      case FrameKind.WRITTEN: {
        const key = from * RDV_KEY_SPAN + header.rendezvousId;
        const pending = this.pendingData.get(key);
        if (pending === undefined) throw new ProtocolError(`rank ${from} wrote the data of rendezvous ${header.rendezvousId}, which no receive asked for`);
        if (--pending.written > 0) return;
        this.pendingData.delete(key);
        pending.finish(pending.target);
        return;
      }
      case FrameKind.READ_FROM:
        this.readTail(from, header);
        return;
      case FrameKind.READ_DONE:
        this.tailRead(from, header);
        return;
      case FrameKind.DATA: {
        const key = from * RDV_KEY_SPAN + header.rendezvousId;
        const pending = this.pendingData.get(key);
        this.pendingData.delete(key);
        pending?.finish(payload!);
        return;
      }
      case FrameKind.CREDIT:
        this.credited(from, header.length);
        return;
      case FrameKind.BYE:
        // The transport keeps goodbyes (it counts them per connection); none comes up.
        return;
      case FrameKind.DOORBELL:
        // The shared-memory transport keeps the doorbells of its socket; one here came another way.
        throw new ProtocolError(`a doorbell from rank ${from} where none belongs (doorbells only wake a reader of shared-memory rings, over its socket)`);
      default: {
        const unknownKind: never = header.kind;
        throw new ProtocolError(`unhandled frame kind ${String(unknownKind)}`);
      }
    }
  }

  dataTarget(from: number, header: FrameHeader): Uint8Array {
    const pending = this.pendingData.get(from * RDV_KEY_SPAN + header.rendezvousId);
    if (pending === undefined) throw new ProtocolError(`rank ${from} sent data for rendezvous ${header.rendezvousId}, which no receive asked for`);
    return pending.target;
  }

  /** Frames to `rank` can no longer go: sends waiting on it fail. */
  onSendFailed(rank: number, reason: Error): void {
    if (this.failedFatally) return;
    const err = new JobError(`rank ${rank} is gone: ${reason.message}`, { cause: reason });
    for (const [id, send] of this.pendingSends) {
      if (send.dest !== rank) continue;
      this.pendingSends.delete(id);
      send.splitting = false;
      this.progress.end();
      send.request._reject(err);
    }
  }

  /** No message will come from `rank` any more: receives only it could satisfy fail. */
  onPeerEnded(rank: number, why: string): void {
    if (this.ended[rank] !== null || rank === this.worldRank || this.failedFatally) return;
    this.ended[rank] = why;
    this.endedCount++;
    publish('mpi4ts:p2p:peer-ended', () => ({ rank: this.worldRank, peer: rank, why }));
    if (why === 'closed') this.options.onPeerLost?.(rank);
    if (why !== 'finalized') {
      // Its process is gone (a finalizing one still answers clear-to-send): the data will not come.
      const err = new JobError(`rank ${rank} ${endedWords(why)} before it sent the data of a message this rank is receiving`);
      for (const [key, data] of this.pendingData) {
        if (Math.floor(key / RDV_KEY_SPAN) !== rank) continue;
        this.pendingData.delete(key);
        data.fail(err);
      }
    }
    this.failHopeless(false);
    for (const board of this.boards) board.memberEnded(rank, endedWords(why));
  }

  /**
   * Fails every receive and probe that can never complete. One from
   * ANY_SOURCE whose every other rank has ended could still match a send this
   * rank makes to itself, so it is failed only by the judgement one turn of
   * the event loop later (`anySourceToo`): by then a send the program makes
   * without waiting for anything (sendrecv to itself, an irecv then a send)
   * has matched it.
   */
  private failHopeless(anySourceToo: boolean): void {
    for (const state of this.contexts.values()) {
      for (const posted of [...state.queues.postedReceives]) {
        const hopeless = this.hopeless(posted.sourceWorld, state);
        if (hopeless === null) continue;
        if (hopeless.rank < 0 && !anySourceToo) {
          this.judgeAnySourceLater();
          continue;
        }
        if (!state.queues.withdraw(posted)) continue;
        this.progress.end();
        posted.request._reject(neverArrives(posted.call, posted.source, posted.sourceWorld, posted.tag, posted.collective, hopeless));
      }
    }
    for (let i = 0; i < this.probeWaiters.length; i++) {
      const w = this.probeWaiters[i]!;
      const hopeless = this.hopeless(w.sourceWorld, w.state);
      if (hopeless === null) continue;
      if (hopeless.rank < 0 && !anySourceToo) {
        this.judgeAnySourceLater();
        continue;
      }
      this.probeWaiters.splice(i--, 1);
      w.reject(neverArrives(w.call, w.source, w.sourceWorld, w.tag, 0, hopeless));
    }
  }

  private anySourceJudgement: NodeJS.Immediate | null = null;

  private judgeAnySourceLater(): void {
    this.anySourceJudgement ??= setImmediate(() => {
      this.anySourceJudgement = null;
      this.failHopeless(true);
    });
  }

  onProtocolError(err: Error): void {
    // The job ends with the first such error; what the closed connection makes fail next would only hide it.
    if (this.failedFatally) return;
    this.failedFatally = true;
    this.options.onFatal(err);
  }

  /**
   * Under MPI4TS_DEBUG_CALLS, where a collective call was made: its receives
   * and sends, posted later from inside the algorithm, report that place
   * until `run`'s promise settles. Otherwise just `run()`.
   */
  noteCollectiveCall<T>(context: number, tag: number, run: () => Promise<T>): Promise<T> {
    if (!this.debugCalls) return run();
    const key = collectiveKey(context, tag);
    this.collectiveSites.set(key, captureCall());
    const forget = (): void => {
      this.collectiveSites.delete(key);
    };
    const done = run();
    done.then(forget, forget);
    return done;
  }

  /**
   * What this rank waits for (the registry, registry.ts): every posted
   * receive, probe and rendezvous send, the messages no receive has
   * matched, and the frame counts. Walks the queues; called only when a
   * report is asked for.
   */
  pendingReport(): EngineReport {
    const now = this.progress.now();
    const describe = this.options.describeContext ?? ((context: number) => `context ${context}`);
    const name = this.options.nameCollective ?? this.options.describeCollective ?? ((code: number) => `collective ${code}`);
    const pending: PendingOperation[] = [];
    const unexpected: UnmatchedMessage[] = [];
    let unexpectedCount = 0;
    let described = 0;
    for (const [context, state] of this.contexts) {
      for (const posted of state.queues.postedReceives) {
        described++;
        pending.push({
          call: posted.call, wait: 'message', comm: describe(context), context, peer: posted.sourceWorld,
          peerInComm: posted.source, tag: posted.tag, collective: posted.collective === 0 ? null : name(posted.collective),
          ...this.waited(now, posted.since, posted.seq), site: callSiteOf(posted.site),
        });
      }
      for (const message of state.queues.unexpectedMessages) {
        if (message.local !== null) described++;
        if (unexpectedCount++ >= MAX_UNMATCHED) continue;
        unexpected.push({
          comm: describe(context), context, source: message.source, sourceWorld: message.fromWorld, tag: message.tag,
          bytes: message.byteLength, collective: message.collective === 0 ? null : name(message.collective),
        });
      }
    }
    for (const w of this.probeWaiters) {
      described++;
      const context = this.contextOf(w.state);
      pending.push({
        call: w.call, wait: 'probe', comm: describe(context), context, peer: w.sourceWorld, peerInComm: w.source, tag: w.tag,
        collective: null, ...this.waited(now, w.since, w.seq), site: callSiteOf(w.site),
      });
    }
    for (const send of this.pendingSends.values()) {
      described++;
      const group = this.contexts.get(send.context)?.group ?? null;
      pending.push({
        call: send.call, wait: 'receiver', comm: describe(send.context), context: send.context, peer: send.dest,
        peerInComm: group === null ? send.dest : group.indexOf(send.dest), tag: send.tag,
        collective: send.collective === 0 ? null : name(send.collective), ...this.waited(now, send.since, send.seq), site: callSiteOf(send.site),
      });
    }
    for (const board of this.boards) {
      const ops = board.report(now, (at, since, seq) => this.waited(at, since, seq),
        (tag) => (this.debugCalls ? callSiteOf(this.collectiveSites.get(collectiveKey(board.context, tag)) ?? null) : null));
      described += ops.length;
      pending.push(...ops);
    }
    described += this.pendingData.size;
    const frames: [number, number, number][] = [];
    for (let peer = 0; peer < this.framesSent.length; peer++) {
      if (this.framesSent[peer]! > 0 || this.framesReceived[peer]! > 0) frames.push([peer, this.framesSent[peer]!, this.framesReceived[peer]!]);
    }
    // A rendezvous receive waiting for its data is in flight, not stuck: it counts with the undescribed.
    const otherPending = Math.max(0, this.progress.pendingOperations - described) + this.pendingData.size;
    return { pending, unexpected, unexpectedCount, otherPending, frames };
  }

  /**
   * Whether this rank's pending work is only operations nobody waits for:
   * receives and rendezvous sends whose requests no promise or static
   * waits on, no probe (its promise is the caller's), nothing in flight.
   * With nothing else keeping the process alive, the program has ended with
   * them pending (MPI_Finalize with pending operations is erroneous).
   */
  onlyUnwaitedPending(): boolean {
    if (this.probeWaiters.length > 0 || this.pendingData.size > 0) return false;
    let described = 0;
    for (const state of this.contexts.values()) {
      for (const posted of state.queues.postedReceives) {
        if (posted.request._isWaitedOn()) return false;
        described++;
      }
    }
    for (const send of this.pendingSends.values()) {
      if (send.request._isWaitedOn()) return false;
      described++;
    }
    return described > 0 && described === this.progress.pendingOperations;
  }

  /** How long an operation has waited, at least and at most (Progress.stampRange). */
  private waited(now: number, since: number, seq: number): { waitedMs: number; waitedUpToMs: number } {
    const [earliest, latest] = this.progress.stampRange(since, seq);
    return { waitedMs: now - latest, waitedUpToMs: now - earliest };
  }

  private contextOf(state: ContextState): number {
    for (const [context, s] of this.contexts) if (s === state) return context;
    return -1;
  }

  /** True when nothing is pending in either direction (used at finalisation). */
  get idle(): boolean {
    return this.pendingSends.size === 0 && this.pendingData.size === 0;
  }

  // ---- sending ----

  private sendEager(context: number, source: number, dest: number, tag: number, type: number,
    bytes: Uint8Array, owner: BytesOwnerCode, collective: number, request: Request<void>): void {
    const transport = this.transport;
    this.framesSent[dest]! += 1;
    const header = frameHeader(FrameKind.EAGER, context, source, tag, type, bytes.length, 0, collective);
    if (owner === BytesOwner.FRESH) {
      transport.send(dest, header, bytes);
    } else if (!transport.trySend(dest, header, bytes)) {
      // Not written at once (a full shared-memory ring): the frame waits for room.
      if (owner === BytesOwner.SCRATCH) {
        // With bytes of its own: the encoder reuses its scratch.
        transport.send(dest, header, copyBytes(bytes));
      } else {
        this.sendCallerBytesLater(dest, header, bytes, request);
        return;
      }
    }
    if (transport.writable(dest)) {
      request._resolve(undefined);
      return;
    }
    // Not written while the connection is still being made (the frame waits for it), and bound
    // what piles up in user space when the peer reads slower than we write.
    this.progress.begin();
    transport.whenWritable(dest).then(() => {
      this.progress.end();
      request._resolve(undefined);
    }, (err: Error) => {
      this.progress.end();
      request._reject(new JobError(`rank ${dest} is gone: ${err.message}`, { cause: err }));
    });
  }

  /**
   * The caller's buffer waits for room in the ring, uncopied; the send
   * completes once it is in and the caller may change it: an operation
   * pending on the network, for the progress engine.
   */
  private sendCallerBytesLater(dest: number, header: FrameHeader, bytes: Uint8Array, request: Request<void>): void {
    // begin() only schedules polling, never polls: no frame can arrive and reuse `header` before send().
    this.progress.begin();
    this.transport.send(dest, header, bytes, (err) => {
      this.progress.end();
      if (err === undefined || err === null) request._resolve(undefined);
      else request._reject(err);
    });
  }

  private sendRendezvous(context: number, source: number, dest: number, tag: number, type: number,
    bytes: Uint8Array, collective: number, request: Request<void>, call: string): void {
    const id = this.nextRendezvousId;
    this.nextRendezvousId = id >= 0xffff_ffff ? 1 : id + 1;
    this.progress.begin();
    this.pendingSends.set(id, {
      dest, bytes, request, call, context, tag, collective, since: this.progress.clock, seq: this.progress.postCount, splitting: false, dataSent: false, dataWritten: false, dataError: null, headAddress: 0,
      site: !this.debugCalls ? null : collective === 0 ? captureCall() : this.collectiveSites.get(collectiveKey(context, tag)) ?? captureCall(),
    });
    this.sendFrame(dest, frameHeader(FrameKind.RTS, context, source, tag, type, bytes.length, id, collective), null);
  }

  private clearToSend(from: number, cts: FrameHeader): void {
    const id = cts.rendezvousId;
    const send = this.pendingSends.get(id);
    if (send === undefined || send.dest !== from || send.splitting) {
      throw new ProtocolError(`rank ${from} sent clear-to-send for unknown rendezvous ${id}`);
    }
    if ((cts.flags & CtsFlag.WRITE_INTO) !== 0) {
      const address = cts.context * 0x1_0000_0000 + cts.collective;
      if ((cts.flags & CtsFlag.SPLIT) !== 0 && this.splitMinBytes > 0 && send.bytes.length >= this.splitMinBytes &&
        this.writeHead(from, id, address, send)) return;
      if (send.bytes.length <= (this.options.directWriteMaxBytes ?? Infinity) && this.writeDirectly(from, address, send.bytes)) {
        this.pendingSends.delete(id);
        this.sendFrame(from, frameHeader(FrameKind.WRITTEN, 0, 0, 0, 0, 0, id, 0), null);
        this.progress.end();
        send.request._resolve(undefined);
        return;
      }
    }
    this.pendingSends.delete(id);
    this.sendData(from, id, send);
  }

  /** The whole payload as DATA through the transport; the send completes once it is written. */
  private sendData(dest: number, id: number, send: PendingRendezvousSend): void {
    this.sendFrame(dest, frameHeader(FrameKind.DATA, 0, 0, 0, 0, send.bytes.length, id, 0), send.bytes, (err) => {
      this.progress.end();
      if (err === undefined || err === null) send.request._resolve(undefined);
      else send.request._reject(err);
    });
  }

  /**
   * A split payload: READ_FROM tells the receiver where the tail is, so that
   * it reads it while this rank writes the head (each core copies half),
   * then WRITTEN. The send stays pending until READ_DONE: the receiver reads
   * this rank's buffer until then. False (nothing sent) where this rank
   * cannot write to the receiver at all.
   */
  private writeHead(dest: number, id: number, address: number, send: PendingRendezvousSend): boolean {
    const memory = this.peerMemory;
    const pid = this.directPid[dest]!;
    if (memory === null || pid === 0 || !Number.isSafeInteger(address) || address === 0) return false;
    const bytes = send.bytes;
    const cut = splitCut(bytes.length);
    const tail = memory.addressOf(bytes) + cut;
    this.sendFrame(dest, frameHeader(FrameKind.READ_FROM, Math.floor(tail / 0x1_0000_0000), 0, 0, 0, bytes.length - cut, id, tail % 0x1_0000_0000), null);
    send.splitting = true;
    send.headAddress = address;
    if (this.writeDirectly(dest, address, bytes.subarray(0, cut))) {
      this.sendFrame(dest, frameHeader(FrameKind.WRITTEN, 0, 0, 0, 0, 0, id, 0), null);
    } else {
      // Refused (the first write to this peer, say): the whole payload goes through the transport
      // instead; the receiver may still be reading the tail, so the send also waits for READ_DONE.
      send.dataSent = true;
      this.sendFrame(dest, frameHeader(FrameKind.DATA, 0, 0, 0, 0, bytes.length, id, 0), bytes, (err) => {
        send.dataWritten = true;
        send.dataError = err ?? null;
        if (!this.pendingSends.has(id)) this.endSplit(send);
      });
    }
    return true;
  }

  /** A split send whose receiver is done with its buffer, and whose DATA (if any) is written. */
  private endSplit(send: PendingRendezvousSend): void {
    // Once only: a broken connection (onSendFailed) may have failed it first.
    if (!send.splitting) return;
    send.splitting = false;
    this.progress.end();
    if (send.dataError === null) send.request._resolve(undefined);
    else send.request._reject(send.dataError);
  }

  /**
   * READ_FROM: the tail of a split payload, read from the sender's memory
   * into the end of the receive's buffer; READ_DONE says so, or that the
   * kernel refused (then the sender writes the tail and a second WRITTEN
   * comes, or sends it all as DATA).
   */
  private readTail(from: number, header: FrameHeader): void {
    const key = from * RDV_KEY_SPAN + header.rendezvousId;
    const pending = this.pendingData.get(key);
    if (pending === undefined || header.length > pending.target.length) {
      throw new ProtocolError(`rank ${from} offered ${header.length} bytes of rendezvous ${header.rendezvousId} to read, which no receive of that size asked for`);
    }
    const address = header.context * 0x1_0000_0000 + header.collective;
    const into = pending.target.subarray(pending.target.length - header.length);
    const memory = this.peerMemory;
    const read = memory === null || this.readsRefused ? -EPERM : memory.read(this.directPid[from]!, address, into);
    if (read === header.length) {
      this.sendFrame(from, frameHeader(FrameKind.READ_DONE, 0, 0, 0, 0, 0, header.rendezvousId, 0), null);
      return;
    }
    if (read === -EPERM || read === -ENOSYS) {
      if (!this.readsRefused) debug('rank %d: reads of rank %d\'s memory refused (errno %d); large payloads are no longer split', this.worldRank, from, -read);
      this.readsRefused = true;
    }
    pending.written++;
    const refused = frameHeader(FrameKind.READ_DONE, 0, 0, 0, 0, 0, header.rendezvousId, 0);
    refused.flags = ReadDoneFlag.READ_REFUSED;
    this.sendFrame(from, refused, null);
  }

  /** READ_DONE: the receiver is done with this rank's buffer; where it could not read the tail, it is written or sent now. */
  private tailRead(from: number, header: FrameHeader): void {
    const id = header.rendezvousId;
    const send = this.pendingSends.get(id);
    if (send === undefined || send.dest !== from || !send.splitting) {
      throw new ProtocolError(`rank ${from} read rendezvous ${id}, which this rank did not offer it`);
    }
    this.pendingSends.delete(id);
    if (send.dataSent) {
      if (send.dataWritten) this.endSplit(send);
      return;
    }
    if ((header.flags & ReadDoneFlag.READ_REFUSED) === 0 && this.splitWith[from] === 0) {
      this.splitWith[from] = 1;
      debug('rank %d splits large payloads to rank %d: it writes the head while rank %d reads the tail (cross-memory attach)', this.worldRank, from, from);
    }
    if ((header.flags & ReadDoneFlag.READ_REFUSED) !== 0) {
      const cut = splitCut(send.bytes.length);
      // The head went, so the receiver's buffer takes this rank's writes.
      const tailAt = send.headAddress + cut;
      if (!this.writeDirectly(from, tailAt, send.bytes.subarray(cut))) {
        this.sendData(from, id, send);
        return;
      }
      this.sendFrame(from, frameHeader(FrameKind.WRITTEN, 0, 0, 0, 0, 0, id, 0), null);
    }
    this.endSplit(send);
  }

  /**
   * A rendezvous payload into `dest`'s buffer at `address`, as its
   * clear-to-send offered; false where it cannot be (then the DATA goes as
   * before). A refusal for want of permission (EPERM) or of the call
   * (ENOSYS) holds for every later write too: this process stops trying.
   */
  private writeDirectly(dest: number, address: number, bytes: Uint8Array): boolean {
    const memory = this.peerMemory;
    const pid = this.directPid[dest]!;
    if (memory === null || pid === 0 || !Number.isSafeInteger(address) || address === 0) return false;
    const written = memory.write(pid, address, bytes);
    if (written === bytes.length) {
      if (this.wroteDirectlyTo[dest] === 0) {
        this.wroteDirectlyTo[dest] = 1;
        debug('rank %d writes rendezvous payloads straight into rank %d\'s memory (cross-memory attach)', this.worldRank, dest);
      }
      return true;
    }
    if (written === -EPERM || written === -ENOSYS) {
      debug('rank %d: direct writes to rank %d refused (errno %d); rendezvous payloads go through the transport from now on', this.worldRank, dest, -written);
      this.peerMemory = null;
    }
    return false;
  }

  private sendToSelf(context: number, source: number, tag: number, type: number, bytes: Uint8Array,
    owner: BytesOwnerCode, sync: boolean, collective: number, request: Request<void>): void {
    // Bytes of its own now (fresh ones already are): standard-mode send to oneself must not wait
    // for the receive (it would deadlock a lone rank).
    const copy = owner === BytesOwner.FRESH ? bytes : copyBytes(bytes);
    const message: IncomingMessage = {
      source, tag, payloadType: type, byteLength: copy.length, fromWorld: this.worldRank,
      eager: sync ? null : copy, owned: true, rendezvousId: 0, collective, cost: 0, local: null,
    };
    if (sync) {
      this.progress.begin();
      message.local = {
        bytes: copy,
        onMatched: () => {
          this.progress.end();
          request._resolve(undefined);
        },
      };
    } else {
      request._resolve(undefined);
    }
    this.arrive(this.stateOf(context), message);
  }

  /** A peer handed back eager credit. */
  private credited(from: number, bytes: number): void {
    const left = this.creditLeft[from]! + bytes;
    if (left > this.creditGranted[from]!) {
      throw new ProtocolError(`rank ${from} handed back ${bytes} bytes of eager credit, more than it had been given`);
    }
    this.creditLeft[from] = left;
  }

  /** The program received an eager message of `cost` credit from `from`: hand credit back in batches. */
  private consumed(from: number, cost: number): void {
    if (cost === 0) return;
    const owed = this.creditOwed[from]! + cost;
    if (owed < this.creditReturnAt || this.ended[from] !== null) {
      this.creditOwed[from] = owed;
      return;
    }
    this.creditOwed[from] = 0;
    this.sendFrame(from, frameHeader(FrameKind.CREDIT, 0, 0, 0, 0, owed, 0, 0), null);
  }

  // ---- receiving ----

  /**
   * The context of an arriving message, after checking its envelope: a
   * well-behaved peer never sends a negative tag, a rank it does not have in
   * the communicator, or a payload whose length its type cannot have. Throws
   * ProtocolError (the transport then closes that connection and says which).
   */
  private checkedState(from: number, header: FrameHeader): ContextState {
    if (header.tag < 0) throw new ProtocolError(`bad frame: tag ${header.tag} is negative`);
    if (this.endedCount > 0 && this.ended[from] === 'finalized') throw new ProtocolError('a message after the sender said goodbye');
    const problem = payloadProblem(header.payloadType, header.length);
    if (problem !== null) throw new ProtocolError(`bad frame: ${problem}`);
    const known = header.context === this.lastContext ? this.lastState! : this.contexts.get(header.context);
    const group = known?.group ?? null;
    if (group !== null) {
      if (group[header.source] !== from) {
        throw new ProtocolError(`bad frame: world rank ${from} claims to be rank ${header.source} of the communicator of context ` +
          `${header.context}, which ${group[header.source] === undefined ? `has ${group.length} ranks` : `is world rank ${group[header.source]}`}`);
      }
    } else if (header.source < 0 || header.source >= this.ended.length || header.context >= this.options.contextLimit) {
      throw new ProtocolError(`bad frame: source ${header.source} or context ${header.context} out of range ` +
        `(a job of ${this.ended.length} ranks, contexts below ${this.options.contextLimit})`);
    }
    return known ?? this.stateOf(header.context);
  }

  private arrive(state: ContextState, message: IncomingMessage): void {
    const posted = state.queues.arrive(message);
    if (posted !== undefined) {
      this.progress.end();
      this.deliver(message, posted);
      return;
    }
    // Unexpected: the payload may be a view into the transport's read buffer, reused after this call.
    if (message.eager !== null && !message.owned) {
      message.eager = copyBytes(message.eager);
      message.owned = true;
    }
    if (this.probeWaiters.length > 0) this.wakeProbes(state, message);
    if (message.collective !== 0 && state.queues.postedReceives.length > 0) this.failOtherCalls(state, message);
  }

  /**
   * Under one tag of a collective context every message belongs to one call,
   * so a message of another call there proves the ranks' calls differ, even
   * from a rank this one does not wait for (ranks that disagree on the root
   * wait for different senders): the first unexpected one, or null.
   */
  private otherCallUnder(messages: readonly IncomingMessage[], tag: number, collective: number): IncomingMessage | null {
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      if (m.tag === tag && m.collective !== collective && !this.sameCall(collective, m.collective)) return m;
    }
    return null;
  }

  /** The receives of this tag that `message`, of another call, proves wrong fail (otherCallUnder). */
  private failOtherCalls(state: ContextState, message: IncomingMessage): void {
    const posted = state.queues.postedReceives;
    for (let i = posted.length - 1; i >= 0; i--) {
      const p = posted[i]!;
      if (p.tag !== message.tag || p.collective === message.collective || this.sameCall(p.collective, message.collective)) continue;
      state.queues.withdraw(p);
      this.progress.end();
      p.request._reject(this.mismatch(message, p));
    }
  }

  private deliver(message: IncomingMessage, posted: PostedReceive): void {
    this.consumed(message.fromWorld, message.cost);
    const request = posted.request;
    if (this.tracer !== null) this.tracer.received(message.fromWorld, message.tag, message.byteLength, request);
    fillStatus(request.status, message);
    const into = landingOf(message, posted);
    const problem = message.collective !== posted.collective && !this.sameCall(posted.collective, message.collective)
      ? this.mismatch(message, posted) : this.checkTarget(message, posted, into);
    if (message.eager !== null) {
      if (problem !== null) request._reject(problem);
      else this.complete(request, message.payloadType, message.eager, message.owned, into, false);
      return;
    }
    // Rendezvous: choose where the payload lands, then ask for it.
    const target = problem === null && into !== null
      ? bytesOf(into).subarray(0, message.byteLength)
      : new Uint8Array(message.byteLength);
    const finish = (bytes: Uint8Array): void => {
      this.progress.end();
      if (problem !== null) request._reject(problem);
      else this.complete(request, message.payloadType, bytes, true, into, true);
    };
    this.progress.begin();
    if (message.local !== null) {
      target.set(message.local.bytes);
      message.local.onMatched();
      finish(target);
      return;
    }
    // A sender whose process is gone answers no clear-to-send (one that finalized still does).
    const senderEnd = this.ended[message.fromWorld] ?? null;
    if (senderEnd !== null && senderEnd !== 'finalized') {
      this.progress.end();
      request._reject(new JobError(`${posted.call}: rank ${message.fromWorld} ${endedWords(senderEnd)} before it sent the data of a message this rank is receiving`));
      return;
    }
    this.pendingData.set(message.fromWorld * RDV_KEY_SPAN + message.rendezvousId, {
      target, finish, written: 1,
      fail: (err) => {
        this.progress.end();
        request._reject(err);
      },
    });
    this.sendFrame(message.fromWorld, this.clearToSendHeader(message, target), null);
  }

  /**
   * Every frame but an eager one goes out here, counted (framesSent: the
   * deadlock check's "nothing in flight"); sendEager counts its own, as it
   * may write through trySend.
   */
  private sendFrame(dest: number, header: FrameHeader, payload: Uint8Array | null, onWritten?: (err?: Error | null) => void): void {
    this.framesSent[dest]! += 1;
    this.transport.send(dest, header, payload, onWritten);
  }

  /** The clear-to-send of a matched rendezvous, offering a direct write into `target` when the sender is on this host. */
  private clearToSendHeader(message: IncomingMessage, target: Uint8Array): FrameHeader {
    const memory = this.peerMemory;
    // A rank with a rendezvous send of its own pending is about to copy that one (an exchange, an
    // all-to-all): it has no core to spare, and a split would only add frames (alltoallv of 1 MiB
    // blocks on two ranks took 313 us split against 278).
    const split = this.splitMinBytes > 0 && !this.readsRefused && message.byteLength >= this.splitMinBytes && this.pendingSends.size === 0;
    if (memory === null || this.directPid[message.fromWorld] === 0 || message.byteLength < (this.options.directWriteMinBytes ?? 0) ||
      (!split && message.byteLength > (this.options.directWriteMaxBytes ?? Infinity))) {
      return frameHeader(FrameKind.CTS, 0, 0, 0, 0, 0, message.rendezvousId, 0);
    }
    const address = memory.addressOf(target);
    const h = frameHeader(FrameKind.CTS, Math.floor(address / 0x1_0000_0000), 0, 0, 0, 0, message.rendezvousId, address % 0x1_0000_0000);
    h.flags = split ? CtsFlag.WRITE_INTO | CtsFlag.SPLIT : CtsFlag.WRITE_INTO;
    return h;
  }

  /** Why a message cannot land in a receive's buffer, or null when it can. */
  private checkTarget(message: IncomingMessage, posted: PostedReceive, target: RawBuffer | null): MPIError | null {
    if (target === null) return null;
    if (isStructured(message.payloadType)) {
      return new MPIError('ERR_TYPE', `${posted.call}: the message from rank ${message.source} (tag ${message.tag}) is a structured value, ` +
        'not raw bytes; receive it with recv(), or send a typed array');
    }
    if (message.byteLength > target.byteLength) {
      return new TruncationError(`${posted.call}: message of ${message.byteLength} bytes (${payloadTypeName(message.payloadType)}) from rank ` +
        `${message.source} (tag ${message.tag}) does not fit the ${target.byteLength}-byte buffer (MPI_ERR_TRUNCATE)`);
    }
    return null;
  }

  private sameCall(mine: number, theirs: number): boolean {
    return this.options.sameCollectiveCall?.(mine, theirs) ?? false;
  }

  /**
   * Two ranks' collective calls met under one sequence number but are not the
   * same call. The facts go with the error: the collective layer words them
   * with what it knows of the communicator.
   */
  private mismatch(message: IncomingMessage, posted: PostedReceive): MPIError {
    const name = this.options.describeCollective ?? ((code: number) => (code === 0 ? 'point-to-point' : `collective ${code}`));
    return new CollectiveMismatchError(`${posted.call}: the ranks' collective calls disagree: this rank's call number ${posted.tag} on ` +
      `this communicator is ${name(posted.collective)}, but rank ${message.source}'s is ${name(message.collective)}; ` +
      'every rank of a communicator must call the same collectives in the same order',
    { calls: { mine: posted.collective, theirs: message.collective, peer: message.source, sequence: posted.tag } });
  }

  /**
   * Completes a receive with its payload. `landed`: the bytes already are in
   * the receive's buffer (a rendezvous payload is written straight there).
   */
  private complete(request: Request<unknown>, type: number, bytes: Uint8Array, owned: boolean,
    target: RawBuffer | null, landed: boolean): void {
    if (target !== null) {
      if (!landed) copyInto(bytesOf(target), bytes);
      request._resolve(target);
      return;
    }
    try {
      request._resolve(decode(type, bytes, owned));
    } catch (err) {
      request._reject(err);
    }
  }

  /**
   * A message went into the unexpected queue: every probe waiting for it
   * sees it, in the order they were called, up to the first matched probe,
   * which takes it (probes after that one wait on).
   */
  private wakeProbes(state: ContextState, message: IncomingMessage): void {
    for (let i = 0; i < this.probeWaiters.length;) {
      const w = this.probeWaiters[i]!;
      if (w.state === state && envelopeMatches(w.source, w.tag, message.source, message.tag)) {
        this.probeWaiters.splice(i, 1);
        if (w.matched) {
          state.queues.remove(message);
          w.resolve(message);
          return;
        }
        w.resolve(message);
      } else {
        i++;
      }
    }
  }

  /**
   * Why a receive from `sourceWorld` (-1: anyone in the context's group) can
   * never be satisfied, or null while it can: the sender, or every other
   * member, sends no more messages.
   */
  private hopeless(sourceWorld: number, state: ContextState): Hopeless | null {
    if (sourceWorld >= 0) {
      const why = this.ended[sourceWorld] ?? null;
      return why === null ? null : { rank: sourceWorld, words: endedWords(why) };
    }
    const group = state.group;
    if (group === null || group.length < 2) return null;
    for (const member of group) if (member !== this.worldRank && this.ended[member] === null) return null;
    return { rank: -1, words: 'every other rank of the communicator has ended' };
  }

  private stateOf(context: number): ContextState {
    // Most programs talk in one communicator at a time: skip the map for a run of them.
    if (context === this.lastContext) return this.lastState!;
    let state = this.contexts.get(context);
    if (state === undefined) {
      state = { queues: new MatchQueues(), group: null };
      this.contexts.set(context, state);
    }
    this.lastContext = context;
    this.lastState = state;
    return state;
  }
}

/**
 * The buffer a message lands in: the receive's, except that a collective's
 * receive into a buffer takes a structured value as a value. The collectives
 * send a failure marker (an object) in place of a rank's data when it cannot
 * give any, and the receiver must read why rather than fail on the type.
 */
function landingOf(message: IncomingMessage, posted: PostedReceive): RawBuffer | null {
  return posted.collective !== 0 && isStructured(message.payloadType) ? null : posted.target;
}

/** Why a receive can never complete: the rank that ended (-1: all the others), in words. */
interface Hopeless {
  rank: number;
  words: string;
}

/** The error for a receive (or probe) that can never complete. */
function neverArrives(call: string, source: number, sourceWorld: number, tag: number, collective: number, why: Hopeless): JobError {
  if (collective !== 0) {
    // A collective's tag is its call number, not the user's: say what the call waits for instead.
    return new JobError(`${call} can never complete: it waits for a message from rank ${source} of the communicator, ` +
      `but that rank ${why.words}`);
  }
  const from = sourceWorld < 0 ? 'any source' : source === sourceWorld ? `rank ${source}` : `rank ${source} (world rank ${sourceWorld})`;
  const what = tag < 0 ? 'any tag' : `tag ${tag}`;
  const reason = why.rank < 0 ? why.words : `rank ${why.rank} ${why.words}`;
  return new JobError(`${call} from ${from} with ${what} can never complete: ${reason}, and no message it sent matches`);
}

/** Encodes a value to send; an error names the user's call. */
export function encodeFor(call: string, value: unknown): ReturnType<typeof encode> {
  try {
    return encode(value);
  } catch (err) {
    if (err instanceof Error) err.message = `${call}: ${err.message}`;
    throw err;
  }
}

/**
 * The header of the frame being sent. One object for every send: transports
 * encode the header during send() and never keep it.
 */
const outgoingHeader = newHeader();

function frameHeader(kind: FrameHeader['kind'], context: number, source: number, tag: number,
  payloadType: number, length: number, rendezvousId: number, collective: number): FrameHeader {
  const h = outgoingHeader;
  h.kind = kind;
  h.flags = 0;
  h.context = context;
  h.source = source;
  h.tag = tag;
  h.payloadType = payloadType;
  h.length = length;
  h.rendezvousId = rendezvousId;
  h.collective = collective;
  return h;
}

function fillStatus(status: Status, message: IncomingMessage): Status {
  status.source = message.source;
  status.tag = message.tag;
  status.count = message.byteLength;
  return status;
}
