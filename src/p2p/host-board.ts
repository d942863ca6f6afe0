/**
 * Collective calls that meet on the host's board (transport/shm-board.ts)
 * rather than through messages (DESIGN.md "Collectives on one host").
 *
 * Every collective call of a communicator on the board goes through here in
 * call order, one at a time: it publishes this rank's entry (what the call
 * is and, for a call that runs on the board, its data), and a call that
 * runs on the board then waits until every member's entry for the same
 * call is there, and reads them. A call
 * that runs by messages publishes and goes on at once: its entry tells the
 * others that this rank is not on the board for that call, so they take
 * the messages' path too and the messages' checks name the mismatch.
 *
 * The waits are polled by the progress engine's spin, as the rings are, and
 * sleep as it sleeps: a publisher rings the doorbell of a peer whose inbox
 * says it sleeps. A wait is a pending operation (it keeps the process alive
 * and is in hang reports), and fails when a member it waits for has ended.
 *
 * Why in order, one at a time: every member makes the same calls in the
 * same order (MPI 4.1 section 6.14), so the head call completes once all
 * have reached it, and a call that waits behind it (a nonblocking one
 * started meanwhile) only starts later, never deadlocks.
 *
 * # Unfinished features
 * - No communicator but COMM_WORLD uses it (comm.ts says why).
 */
import { JobError, publish } from '../base/index.js';
import { BOARD_ENTRIES, type BoardSlot, type ViewType } from '../transport/index.js';

export { BOARD_PAYLOAD_BYTES } from '../transport/index.js';
import type { PendingOperation } from './registry.js';
import type { Progress } from './progress.js';

/** What a member's entry holds, for the call being completed. */
export interface BoardEntries {
  readonly size: number;
  readonly rank: number;
  code(rank: number): number;
  aux(rank: number): number;
  /** The member's payload length, in bytes. */
  length(rank: number): number;
  /** The member's payload area (all BOARD_PAYLOAD_BYTES) as a `ctor` view: read it before complete() returns. */
  view<V>(rank: number, ctor: ViewType<V>): V;
}

/**
 * What BoardWork.complete returns when the members' entries disagree, or the
 * call runs by messages: run() then resolves with what `byMessages` does.
 */
export const BY_MESSAGES: unique symbol = Symbol('mpi4ts.board.byMessages');
export type ByMessages = typeof BY_MESSAGES;

/** One collective call on the board, as the algorithm (coll/host.ts) describes it. */
export interface BoardWork<T> {
  readonly code: number;
  readonly aux: number;
  /** Writes this rank's payload into its entry (`area` views it as bytes) and returns its length; null: no payload. */
  readonly fill: ((area: Uint8Array, entries: BoardEntries) => number) | null;
  /** The one member whose entry the call needs (a bcast's root), or -1 for every member's. */
  readonly waitsFor: number;
  /** False for a call that runs by messages: it publishes its entry and is done. */
  readonly readsBoard: boolean;
  /** Every member's entry is there: what the call returns (read the payloads now), or BY_MESSAGES. */
  complete(entries: BoardEntries): T | ByMessages;
  /** The call could not publish at once (other calls ahead, or an entry to wait for): keep what fill needs. */
  hold?(): void;
}

export interface HostBoardOptions {
  /** World rank of each member, by rank in the communicator. */
  members: readonly number[];
  /** This process's rank in the communicator. */
  rank: number;
  /** Each member's slot, by rank in the communicator, this rank's own included. */
  slots: readonly BoardSlot[];
  /** After a publish: the member's doorbell if it sleeps (world rank). */
  wake(worldRank: number): void;
  /** Whether the member (world rank) meets its peers on the board: 0 not known yet, 1 yes, 2 no (Inbox.boardOffer). */
  offer(worldRank: number): number;
  /**
   * The progress engine: a queued call is one of its pending operations
   * (begin, end), stamped for hang reports with its clock and post count.
   */
  progress: Pick<Progress, 'begin' | 'end' | 'clock' | 'postCount'>;
  /** Whether two different signatures still name one call (the engine's sameCollectiveCall). */
  sameCall(mine: number, theirs: number): boolean;
  /** The communicator in words, for reports and errors ("COMM_WORLD"), and its context. */
  comm: string;
  context: number;
}

interface Queued {
  work: BoardWork<unknown>;
  /** The user's call ("barrier", "iallreduce") and its collective call number (the messages' tag), for reports. */
  name: string;
  tag: number;
  /** Its call and arguments as its messages carry them (coll/calls.ts callSignature). */
  signature: number;
  /** What the call does instead when complete() says BY_MESSAGES, or when a member's entry shows another call (`mismatch`). */
  byMessages: (mismatch?: BoardMismatch) => Promise<unknown>;
  call: number;
  published: boolean;
  resolve(value: unknown): void;
  reject(err: Error): void;
  since: number;
  seq: number;
  /** A member's entry for this call shows another call (found when it was published). */
  mismatch: BoardMismatch | null;
}

/** Two members' calls under one call number disagree: their signatures, and the other member's rank. */
export interface BoardMismatch {
  mine: number;
  theirs: number;
  peer: number;
  sequence: number;
}

export class HostBoard implements BoardEntries {
  readonly size: number;
  readonly rank: number;
  private readonly queue: Queued[] = [];
  /** The next call number (32-bit, wrapping; 0 is never used first: slots start zeroed). */
  private nextCall = 1;
  /** The first member the head call found missing: the next poll starts there. */
  private nextMember = 0;
  /** Members that have ended, with why in words (memberEnded). */
  private readonly gone = new Map<number, string>();
  /** The call whose entries complete() reads. */
  private current = 0;
  private readonly own: BoardSlot;
  /** The last call each member was seen to have published (doneWith). */
  private readonly knownPublished: Int32Array;

  constructor(private readonly opts: HostBoardOptions) {
    this.size = opts.members.length;
    this.rank = opts.rank;
    this.own = opts.slots[opts.rank]!;
    this.knownPublished = new Int32Array(this.size);
  }

  /**
   * Queues `work` for the user's call `name`, collective call number `tag`;
   * runs it at once when nothing is ahead of it and the board allows. Where
   * it says BY_MESSAGES, resolves with what `byMessages` resolves with.
   */
  run<T>(work: BoardWork<T>, name: string, tag: number, signature: number, byMessages: (mismatch?: BoardMismatch) => Promise<T>): Promise<T> {
    const call = this.nextCall;
    this.nextCall = (call + 1) | 0;
    const { clock, postCount } = this.opts.progress;
    return new Promise<T>((resolve, reject) => {
      const queued: Queued = {
        work, name, tag, signature, byMessages, call, published: false, resolve: resolve as (value: unknown) => void, reject,
        since: clock, seq: postCount, mismatch: null,
      };
      // Calls ahead of it may complete in the advance below and start their messages' algorithms,
      // which encode into the scratch the work may still point at: it keeps a copy first.
      if (this.queue.length > 0) work.hold?.();
      this.queue.push(queued);
      this.opts.progress.begin();
      this.advance();
      if (!queued.published) work.hold?.();
    });
  }

  /**
   * Whether the members all offered the board (decided at the first call:
   * each said so at start), or null while some have not said yet. Where one
   * says no, no member uses it: each call goes by messages at once.
   */
  private agreed: boolean | null = null;

  /** Reads the members' offers; true once every one has said. */
  private readOffers(): boolean {
    const { members, offer } = this.opts;
    let all = true;
    for (let r = 0; r < members.length; r++) {
      const said = offer(members[r]!);
      if (said === 0) return false;
      if (said !== 1) all = false;
    }
    this.agreed = all;
    publish('mpi4ts:coll:host-board', () => ({ rank: this.rank, comm: this.opts.comm, size: this.size, board: all }));
    return true;
  }

  /** Completes what can complete now; true if anything moved (the progress engine's poll). */
  advance(): boolean {
    let moved = false;
    const queue = this.queue;
    if (this.agreed === null && queue.length > 0 && !this.readOffers()) return this.gone.size > 0 && this.failIfGone(queue[0]!);
    while (queue.length > 0) {
      const head = queue[0]!;
      if (this.agreed === false) {
        this.finish(head, BY_MESSAGES, null);
        moved = true;
        continue;
      }
      if (!head.published) {
        if (!this.entryFree(head.call)) return this.gone.size > 0 && this.failIfGone(head) ? true : moved;
        this.publish(head);
        moved = true;
        if (head.mismatch !== null) {
          this.finish(head, BY_MESSAGES, null);
          continue;
        }
        if (!head.work.readsBoard) {
          this.finish(head, head.work.complete(this), null);
          continue;
        }
      }
      if (!this.allThere(head.call, head.work.waitsFor)) return this.gone.size > 0 && this.failIfGone(head) ? true : moved;
      this.current = head.call;
      if (this.signaturesDiffer(head)) {
        this.finish(head, BY_MESSAGES, null);
        moved = true;
        continue;
      }
      let result: unknown;
      try {
        result = head.work.complete(this);
      } catch (err) {
        this.finish(head, null, err instanceof Error ? err : new Error(String(err)));
        moved = true;
        continue;
      }
      this.finish(head, result, null);
      moved = true;
    }
    return moved;
  }

  /** `worldRank` sends and publishes no more: a call that needs its entry fails, now or when it comes to need it. */
  memberEnded(worldRank: number, words: string): void {
    const member = this.opts.members.indexOf(worldRank);
    if (member < 0 || member === this.rank) return;
    this.gone.set(member, words);
    this.advance();
  }

  /** The head call waits for a member that has ended: it and every call behind it fail. */
  private failIfGone(head: Queued): boolean {
    let member = -1;
    for (const ended of this.gone.keys()) if (this.isMissing(head, ended) && (member < 0 || ended < member)) member = ended;
    if (member < 0) return false;
    const why = `waits for rank ${member} of the communicator to join it, but that rank ${this.gone.get(member)!}`;
    for (const queued of this.queue.splice(0)) {
      this.opts.progress.end();
      // Each call in its own words: the ones behind the head wait for it.
      queued.reject(new JobError(queued === head ? `${head.name} can never complete: it ${why}`
        : `${queued.name} can never complete: it waits behind ${head.name}, which ${why}`));
    }
    return true;
  }

  /** The calls waiting here, for a hang report. */
  report(now: number, waited: (now: number, since: number, seq: number) => { waitedMs: number; waitedUpToMs: number },
    siteOf: (tag: number) => string | null): PendingOperation[] {
    const head = this.queue[0];
    if (head === undefined) return [];
    const ops: PendingOperation[] = [];
    for (const queued of this.queue) {
      const member = queued === head ? this.missingMember(head) : -1;
      ops.push({
        call: queued.name, wait: 'board', comm: this.opts.comm, context: this.opts.context,
        peer: member < 0 ? -1 : this.opts.members[member]!, peerInComm: member, tag: queued.tag,
        collective: queued.name, ...waited(now, queued.since, queued.seq), site: siteOf(queued.tag),
      });
    }
    return ops;
  }

  /** Some member said no to the board at start: every call goes by messages (the communicator may drop it). */
  get declined(): boolean {
    return this.agreed === false && this.queue.length === 0;
  }

  /** The communicator's collective context (hang reports look up call sites by it). */
  get context(): number {
    return this.opts.context;
  }

  get pendingCount(): number {
    return this.queue.length;
  }

  code(rank: number): number {
    return this.opts.slots[rank]!.code(this.current);
  }

  aux(rank: number): number {
    return this.opts.slots[rank]!.aux(this.current);
  }

  length(rank: number): number {
    return this.opts.slots[rank]!.length(this.current);
  }

  view<V>(rank: number, ctor: ViewType<V>): V {
    return this.opts.slots[rank]!.view(this.current, ctor);
  }

  /** The member the head call waits for (its entry, or its being done with the entry to reuse), or -1. */
  private missingMember(head: Queued): number {
    for (let r = 0; r < this.size; r++) if (this.isMissing(head, r)) return r;
    return -1;
  }

  /** Whether the head call waits for `member`: its offer, its being done with the entry to reuse, or its entry. */
  private isMissing(head: Queued, member: number): boolean {
    if (member === this.rank) return false;
    if (this.agreed === null) return this.opts.offer(this.opts.members[member]!) === 0;
    if (!head.published) return !this.doneWith(member, head.call);
    return this.needs(head, member) && this.opts.slots[member]!.callAt(head.call) !== head.call;
  }

  /** Whether the head call waits for `member`'s entry. */
  private needs(head: Queued, member: number): boolean {
    const only = head.work.waitsFor;
    return only < 0 || only === member;
  }

  private publish(head: Queued): void {
    const { work, call } = head;
    this.current = call;
    const length = work.fill === null ? 0 : work.fill(this.own.view(call, Uint8Array), this);
    this.own.publish(call, work.code, work.aux, length, head.signature);
    head.published = true;
    this.nextMember = 0;
    this.wakeAll();
    // A bcast's other ranks need not look: they check the root's entry, and the root looks here.
    if (!work.readsBoard || work.waitsFor === this.rank) this.checkOthers(head);
  }

  /**
   * Whether a member the head call read shows another call under its number
   * (ibcast against bcast, other roots or counts): then every rank that
   * reads that entry fails with both calls named (head.mismatch), as the
   * messages' checks would. Entries whose codes differ under one call (a
   * Buffer on one rank, a Uint8Array on another) are no mismatch: the work's
   * complete() sends them all the messages' way.
   */
  private signaturesDiffer(head: Queued): boolean {
    const { slots, sameCall } = this.opts;
    const mine = head.signature;
    const only = head.work.waitsFor;
    for (let r = only < 0 ? 0 : only; r < (only < 0 ? this.size : only + 1); r++) {
      if (r === this.rank) continue;
      const theirs = slots[r]!.signature(head.call);
      if (theirs === mine || sameCall(mine, theirs)) continue;
      head.mismatch = { mine, theirs, peer: r, sequence: head.tag };
      return true;
    }
    return false;
  }

  /**
   * A call that does not wait for every member's entry (one by messages, a
   * bcast's root) looks at those already there: one of another call proves
   * the program wrong, and this rank fails with both calls named rather than
   * wait for what never comes. Of two ranks that disagree, the one that
   * publishes second sees the other's entry; a call that waits for every
   * entry (or the root's) finds the difference there (signaturesDiffer).
   */
  private checkOthers(head: Queued): void {
    const { slots, sameCall } = this.opts;
    const mine = head.signature;
    for (let r = 0; r < this.size; r++) {
      if (r === this.rank || slots[r]!.callAt(head.call) !== head.call) continue;
      const theirs = slots[r]!.signature(head.call);
      if (theirs === mine || sameCall(mine, theirs)) continue;
      head.mismatch = { mine, theirs, peer: r, sequence: head.tag };
      return;
    }
  }

  private finish(head: Queued, result: unknown, err: Error | null): void {
    this.queue.shift();
    this.opts.progress.end();
    if (err !== null) head.reject(err);
    else if (result === BY_MESSAGES) head.resolve(head.byMessages(head.mismatch ?? undefined));
    else head.resolve(result);
  }

  /** Whether every member is done with the entry `call` reuses (the one of call - ENTRIES). */
  private entryFree(call: number): boolean {
    for (let r = 0; r < this.size; r++) {
      if (r !== this.rank && !this.doneWith(r, call)) return false;
    }
    return true;
  }

  /**
   * Whether `member` is done with the entry `call` reuses, the one of call
   * - BOARD_ENTRIES: it has published the call after that one (a member
   * publishes a call only once every call before it is done, reading
   * included). So no word says "done" (one store fewer per call, and a
   * member waiting to reuse an entry is woken by the publish it waits
   * for). Calls published only grow: the last one seen answers until a
   * call needs a later one, so the entry is read once per BOARD_ENTRIES calls.
   */
  private doneWith(member: number, call: number): boolean {
    const next = (call - BOARD_ENTRIES + 1) | 0;
    if (((this.knownPublished[member]! - next) | 0) >= 0) return true;
    // The entry holds `next`, an older call (not yet), or a later one: a member that does not
    // synchronise with this rank (a bcast's root) may run up to BOARD_ENTRIES - 1 calls ahead.
    const seen = this.opts.slots[member]!.callAt(next);
    if (((seen - next) | 0) < 0) return false;
    this.knownPublished[member] = seen;
    return true;
  }

  private allThere(call: number, only: number): boolean {
    const slots = this.opts.slots;
    if (only >= 0) return slots[only]!.callAt(call) === call;
    for (let r = this.nextMember; r < this.size; r++) {
      if (r !== this.rank && slots[r]!.callAt(call) !== call) {
        this.nextMember = r;
        return false;
      }
    }
    return true;
  }

  private wakeAll(): void {
    const { members, wake } = this.opts;
    for (let r = 0; r < members.length; r++) if (r !== this.rank) wake(members[r]!);
  }
}
