/**
 * The progress engine (DESIGN.md "Progress"). While any operation is pending
 * it keeps the event loop busy with a chain of setImmediate callbacks, so
 * libuv polls the sockets with a zero timeout instead of sleeping: a sleeping
 * loop costs tens of microseconds per wake-up on small VMs. When nothing has
 * arrived for `pollMicros`, or when the host runs more ranks than cores, it
 * stops spinning and the loop sleeps in epoll until data comes.
 *
 * Shared-memory rings (a Poller) are polled inline while spinning, in slices
 * of SPIN_SLICE_MS between turns of the event loop. When the engine stops
 * spinning it tells the poller it sleeps (peers then ring a doorbell that
 * wakes epoll), and polls once more for whatever came before they could see it.
 *
 * Switch: MPI4TS_POLL_US (0 turns spinning off).
 */
import { performance } from 'node:perf_hooks';
import type { Poller } from '../transport/index.js';

export interface ProgressOptions {
  /** How long to spin after the last activity, in microseconds; 0 never spins. */
  pollMicros: number;
}

const noop = (): void => {};

/**
 * Chase hops are queued as reactions of this promise, not with queueMicrotask:
 * Node wraps every queueMicrotask callback in a bound function of its own (an
 * allocation and an async-hooks check), about 85 ns a hop against 28 ns.
 */
const settled = Promise.resolve();

/**
 * How long one turn of the spin polls the rings before letting the event loop
 * run (sockets, timers): short enough for sockets not to notice, long enough
 * that a reply a microsecond away is caught without a loop turn.
 */
const SPIN_SLICE_MS = 0.05;
/**
 * Empty polls in a row after which the spin yields the core between polls: on
 * a host busier than it has cores, the peer we wait for may be waiting for
 * this core. Unloaded, sched_yield returns at once.
 */
const YIELD_AFTER_POLLS = 256;
/** Microtask hops a chase waits for the program to post its next operation. */
const CHASE_HOPS = 64;
/** How long deliveries may chain as microtasks before the event loop gets a turn. */
const CHAIN_MS = 0.5;
/** Chained deliveries between two looks at the clock (reading it costs more than a delivery's poll). */
const CHAIN_CLOCK_EVERY = 16;
/** Two readings of the clock further apart than this while spinning: the program held the event loop in between. */
const HELD_MS = 20;
/** Held stretches remembered for stampRange. */
const HELD_RECORDS = 8;

export class Progress {
  private pending = 0;
  private keepAlive: NodeJS.Timeout | null = null;
  /** Whether keepAlive is ref'd: toggling it is a call into C++, so it is done only when it changes. */
  private keepingAlive = false;
  private spinning = false;
  private lastActivity = 0;
  /**
   * Something moved or was posted since lastActivity was last set: the clock
   * is read when the spin decides whether to go on, not per message.
   */
  private activeSinceClock = false;
  private chainDeliveries = 0;
  /** When the last poll slice read the clock (it does from its 16th poll on), else -1. */
  private sliceClock = -1;
  private pollMs: number;
  private yieldAfterPolls = YIELD_AFTER_POLLS;
  private poller: Poller | null = null;
  private chainStart = 0;
  private chaseHops = 0;
  /** Operations posted so far, and when the last delivery was made: has the program moved on? */
  private posts = 0;
  /**
   * The last clock reading that stamps operations (clock), and the posts
   * made before it; and the last HELD_RECORDS stretches in which the
   * program held the event loop while spinning (its computation between
   * two turns), as [posts before, posts after, end]: an operation posted in
   * one started between the stamp it got and that end.
   */
  private lastClock = 0;
  private postsAtClock = 0;
  private readonly held = new Float64Array(3 * HELD_RECORDS);
  private heldNext = 0;
  private postsAtDelivery = 0;

  constructor(options: ProgressOptions) {
    this.pollMs = options.pollMicros / 1000;
  }

  /**
   * Changes the spin window; 0 stops spinning (an oversubscribed host).
   * `yieldAfterPolls`: empty polls in a row before the spin starts yielding
   * the core every 16 polls; 0 (an oversubscribed host that spins anyway:
   * the rank being waited for may need this very core) yields after every
   * empty poll.
   */
  setPollMicros(micros: number, yieldAfterPolls = YIELD_AFTER_POLLS): void {
    this.pollMs = micros / 1000;
    this.yieldAfterPolls = yieldAfterPolls;
  }

  /** Adds a poller (the rings, the sockets) to what is polled; the engine starts asleep. */
  addPoller(poller: Poller): void {
    poller.setAsleep(true);
    const current = this.poller;
    if (current === null) this.poller = poller;
    else if (current instanceof PollerGroup) current.add(poller);
    else this.poller = new PollerGroup([current, poller]);
  }

  /** A doorbell rang: something is in the rings, or room freed in one. */
  kick(): void {
    const poller = this.poller;
    if (poller === null) return;
    while (poller.poll()) { /* drain */ }
    if (!this.spinning) this.sleep();
  }

  /**
   * Polls the rings once, now, without yielding: for a caller that holds the
   * event loop through a long copy of its own (alltoallv's own block) and
   * would otherwise leave its messages' handshakes waiting until it is done.
   * Frames go up by synchronous callback, as in a spin.
   */
  pollNow(): boolean {
    const poller = this.poller;
    if (poller === null) return false;
    poller.flush?.();
    return poller.poll();
  }

  /** An operation started waiting on the network. */
  begin(): void {
    this.posts++;
    if (this.pending++ === 0 && !this.keepingAlive) {
      // Sockets are unref'd: this timer is what keeps the process alive while work is pending.
      // One timer, ref'd and unref'd, costs less than a new one per operation.
      this.keepAlive ??= setInterval(noop, 1 << 30);
      this.keepAlive.ref();
      this.keepingAlive = true;
    }
    this.activity();
  }

  /**
   * A pending operation completed. While the engine spins the timer stays
   * ref'd (the spin keeps the loop alive anyway) and is let go when it stops:
   * a ping-pong would otherwise toggle it twice per message.
   */
  end(): void {
    if (--this.pending === 0 && !this.spinning) this.letGo();
  }

  private letGo(): void {
    if (!this.keepingAlive) return;
    this.keepAlive!.unref();
    this.keepingAlive = false;
  }

  get pendingOperations(): number {
    return this.pending;
  }

  /**
   * When the last activity was seen (performance.now()), to within the spin
   * window: what an operation is stamped with for hang reports, so a post
   * reads no clock of its own. Every begin() is an activity, and while not
   * spinning each activity reads the clock; while spinning, the clock is read
   * at least every spin turn that saw something move.
   */
  get clock(): number {
    return this.lastClock;
  }

  /** How many operations have been posted: with clock, what an operation is stamped with. */
  get postCount(): number {
    return this.posts;
  }

  /**
   * When an operation stamped `since` as the `seq`-th post started, as
   * [earliest, latest]: the same twice unless it was posted while the
   * program held the event loop without a look at the clock (then it
   * started between `since` and the end of that stretch).
   */
  stampRange(since: number, seq: number): [number, number] {
    const held = this.held;
    for (let i = 0; i < held.length; i += 3) {
      if (seq > held[i]! && seq <= held[i + 1]! && held[i + 2]! > since) return [since, held[i + 2]!];
    }
    return [since, since];
  }

  /** A reading of the clock at a turn of the spin: notes a stretch the program held the loop, then stamps from it. */
  private turnClock(now: number): void {
    if (now - this.lastClock > HELD_MS && this.posts > this.postsAtClock) {
      const i = this.heldNext;
      this.held[i] = this.postsAtClock;
      this.held[i + 1] = this.posts;
      this.held[i + 2] = now;
      this.heldNext = (i + 3) % this.held.length;
    }
    this.lastClock = now;
    this.postsAtClock = this.posts;
  }

  /** The clock now, for a report's "waited for". */
  now(): number {
    return performance.now();
  }

  /** Whether the keep-alive timer is ref'd (it is the library's, not the program's). */
  get holdsLoop(): boolean {
    return this.keepingAlive;
  }

  /** Whether the spin is running (its setImmediate is the library's, not the program's). */
  get isSpinning(): boolean {
    return this.spinning;
  }

  /** Something arrived or was posted: poll hard for a while. */
  activity(): void {
    if (this.spinning) {
      this.activeSinceClock = true;
      return;
    }
    // Not spinning: this reading is the clock hang reports stamp operations with (clock), the post
    // that brought it here included.
    const now = performance.now();
    this.lastActivity = now;
    this.lastClock = now;
    this.postsAtClock = this.posts;
    if (this.pollMs <= 0) return;
    if (this.pending > 0) {
      this.spinning = true;
      this.poller?.setAsleep(false);
      setImmediate(this.spin);
    }
  }

  private readonly spin = (): void => {
    if (this.pollSlice()) {
      this.chainStart = performance.now();
      this.chainDeliveries = 0;
      this.startChase();
      return;
    }
    this.spinOrSleep();
  };

  private startChase(): void {
    this.chaseHops = 0;
    this.postsAtDelivery = this.posts;
    void settled.then(this.chase);
  }

  /**
   * Polling as a microtask, queued behind the promise callbacks the last
   * delivery woke. It requeues itself until the program, running those
   * callbacks, has posted a new operation that waits on the network (its next
   * receive, say), then polls: the reply is then usually caught without the
   * event-loop turn that setImmediate costs (about a microsecond quiet,
   * several under load). A program that posts nothing within CHASE_HOPS
   * hops, or a chain longer than CHAIN_MS, gets the event loop back.
   */
  private readonly chase = (): void => {
    if (this.posts === this.postsAtDelivery || this.pending === 0) {
      if (++this.chaseHops < CHASE_HOPS) void settled.then(this.chase);
      else this.spinOrSleep();
      return;
    }
    if (this.pollSlice() && this.chainMayGoOn()) {
      this.startChase();
      return;
    }
    this.spinOrSleep();
  };

  /**
   * Has the chain of deliveries left the event loop waiting less than
   * CHAIN_MS? A slice that waited read the clock already; otherwise it is
   * read every few deliveries.
   */
  private chainMayGoOn(): boolean {
    let now = this.sliceClock;
    if (now < 0) {
      if (++this.chainDeliveries % CHAIN_CLOCK_EVERY !== 0) return true;
      now = performance.now();
    }
    return now - this.chainStart < CHAIN_MS;
  }

  /** Polls the rings for up to SPIN_SLICE_MS; true as soon as something moved. */
  private pollSlice(): boolean {
    const poller = this.poller;
    if (poller === null) return false;
    poller.flush?.();
    // The clock is read every few polls only, from the 16th on: it costs more than an empty
    // poll, and most replies come within a few polls.
    let start = -1;
    this.sliceClock = -1;
    for (let turn = 1; ; turn++) {
      if (poller.poll()) {
        this.activeSinceClock = true;
        return true;
      }
      // On a host with more ranks than cores the rank we wait for may need this very core:
      // every empty poll hands it over (a 4-rank barrier on 2 cores took 10.7 us yielding every
      // 16th poll, 7.4 us yielding every one; bench/coll-mpi4ts.ts barrier -x 50000).
      if (this.yieldAfterPolls === 0) poller.idle();
      if ((turn & 15) === 0) {
        const now = performance.now();
        this.sliceClock = now;
        if (start < 0) start = now;
        else if (now - start >= SPIN_SLICE_MS) return false;
        if (this.yieldAfterPolls > 0 && turn >= this.yieldAfterPolls) poller.idle();
      }
    }
  }

  /** Nothing moved in a slice: another turn of the event loop, or sleep when the window has passed. */
  private spinOrSleep(): void {
    // With rings, keep polling a while even when nothing is pending: the next message of a
    // conversation then finds this rank awake, and the sender need not ring the doorbell.
    const now = performance.now();
    this.turnClock(now);
    if (this.activeSinceClock) {
      this.lastActivity = now;
      this.activeSinceClock = false;
    }
    if ((this.pending > 0 || this.poller !== null) && now - this.lastActivity < this.pollMs) {
      setImmediate(this.spin);
    } else {
      this.spinning = false;
      if (this.pending === 0) this.letGo();
      this.sleep();
    }
  }

  /** Stops polling the rings: announce it, then fetch what came before peers saw it. */
  private sleep(): void {
    const poller = this.poller;
    if (poller === null) return;
    poller.setAsleep(true);
    while (!this.spinning && poller.poll()) { /* drain */ }
  }
}

/** Several pollers polled as one: the rings first, then the sockets. */
class PollerGroup implements Poller {
  constructor(private readonly pollers: Poller[]) {}

  add(poller: Poller): void {
    this.pollers.push(poller);
  }

  poll(): boolean {
    const pollers = this.pollers;
    let moved = false;
    for (let i = 0; i < pollers.length; i++) moved = pollers[i]!.poll() || moved;
    return moved;
  }

  setAsleep(asleep: boolean): void {
    for (const poller of this.pollers) poller.setAsleep(asleep);
  }

  idle(): void {
    // One yield is enough: each poller's is sched_yield.
    this.pollers[0]?.idle();
  }

  flush(): void {
    for (const poller of this.pollers) poller.flush?.();
  }
}
