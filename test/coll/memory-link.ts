/**
 * An in-process N-rank network of `Link`s, so that the collective algorithms
 * of src/coll/ run in unit tests without an engine, a transport or processes.
 *
 * What it keeps of the real path:
 * - Messages between one ordered pair of ranks arrive in the order they were
 *   sent (the only order MPI promises, and the one the algorithms rely on).
 * - A value goes through the codec the engine uses (`encode` when sent,
 *   `decode` when received), after the channel's wire form: a value the
 *   engine would refuse throws the codec's TypeError from `isend`, at once
 *   and sending nothing; a received value is a copy, never the sender's
 *   object, and a typed array sent is snapshotted when the send starts (the
 *   sender may reuse it once the send completes).
 * - `irecvInto` copies the raw bytes into the target and resolves with their
 *   count; a structured value (a failure marker) resolves as that value, and
 *   more bytes than the target holds rejects, as the engine's collective
 *   receive does (ERR_TRUNCATE).
 *
 * What it adds for tests: ranks out of range throw (an algorithm bug), and
 * `runRanks` reports ranks that wait for ever and messages never received.
 */
import { BytesOwner, decode, encode, isStructured, payloadTypeName, type RawBuffer } from '../../src/codec/index.js';
import { copyBytes, TruncationError } from '../../src/base/index.js';
import { LinkChannel, type Channel, type Instead, type Link } from '../../src/coll/channel.js';
import { runCollectiveOn } from '../../src/coll/index.js';

interface Message {
  type: number;
  bytes: Uint8Array;
}

type Delivery = (message: Message) => void;

export class MemoryNetwork {
  /** Sent and not yet received, per ordered pair (index `from * size + to`), oldest first. */
  private readonly inFlight: Message[][];
  /** Receives posted and not yet matched, per ordered pair, oldest first. */
  private readonly posted: Delivery[][];
  /** Messages sent plus receives matched: unchanged over a turn of the event loop means no rank can move. */
  activity = 0;
  /** Messages sent between ranks of different hosts (with `hosts`): what the network between hosts carries. */
  crossings = 0;

  /**
   * `hosts`: each rank's host, counted in `crossings` and, unless `flat`,
   * given to the channels (Channel.hosts) for the two-level algorithms; null: one host.
   */
  constructor(readonly size: number, readonly hosts: readonly number[] | null = null, private readonly flat = false) {
    this.inFlight = Array.from({ length: size * size }, () => []);
    this.posted = Array.from({ length: size * size }, () => []);
  }

  link(rank: number): Link {
    this.checkRank(rank, 'rank');
    return {
      isend: (dest, wire) => this.send(rank, dest, wire),
      irecv: (source) => this.arrival(source, rank).then(decoded),
      irecvInto: (source, target) => this.arrival(source, rank).then((message) => landInto(message, target, source)),
    };
  }

  channel(rank: number): LinkChannel {
    return new LinkChannel(rank, this.size, this.link(rank), null, 0, this.flat ? null : this.hosts);
  }

  /** "rank 3 waits for a message from rank 1", for each receive still posted. */
  waits(): string[] {
    return this.describe(this.posted, (from, to, n) => `rank ${to} waits for ${n} message(s) from rank ${from}`);
  }

  /** "rank 1 sent rank 3 a message never received", for each message left over. */
  strays(): string[] {
    return this.describe(this.inFlight, (from, to, n) => `rank ${from} sent rank ${to} ${n} message(s) never received`);
  }

  private send(from: number, to: number, wire: unknown): Promise<void> {
    this.checkRank(to, 'dest');
    // Synchronous, as the engine's isend: a value the codec refuses throws here and nothing is sent.
    const payload = encode(wire);
    const bytes = payload.owner === BytesOwner.FRESH ? payload.bytes : copyBytes(payload.bytes);
    const message = { type: payload.type, bytes };
    this.activity++;
    if (this.hosts !== null && this.hosts[from] !== this.hosts[to]) this.crossings++;
    const receive = this.posted[from * this.size + to]!.shift();
    if (receive !== undefined) receive(message);
    else this.inFlight[from * this.size + to]!.push(message);
    return Promise.resolve();
  }

  private arrival(from: number, to: number): Promise<Message> {
    this.checkRank(from, 'source');
    const waiting = this.inFlight[from * this.size + to]!.shift();
    if (waiting !== undefined) {
      this.activity++;
      return Promise.resolve(waiting);
    }
    return new Promise((resolve) => {
      this.posted[from * this.size + to]!.push((message) => {
        this.activity++;
        resolve(message);
      });
    });
  }

  private checkRank(rank: number, what: string): void {
    if (!Number.isInteger(rank) || rank < 0 || rank >= this.size) {
      throw new RangeError(`${what} ${rank} is out of range for a memory network of ${this.size} ranks`);
    }
  }

  private describe(queues: readonly unknown[][], line: (from: number, to: number, count: number) => string): string[] {
    const lines: string[] = [];
    queues.forEach((queue, pair) => {
      if (queue.length > 0) lines.push(line(Math.floor(pair / this.size), pair % this.size, queue.length));
    });
    return lines;
  }
}

function decoded(message: Message): unknown {
  return decode(message.type, message.bytes, true);
}

function landInto(message: Message, target: RawBuffer, source: number): number | Instead {
  // As the engine's collective receives: a structured value (a failure marker) comes back as that value.
  if (isStructured(message.type)) return { instead: decode(message.type, message.bytes, true) };
  if (message.bytes.byteLength > target.byteLength) {
    throw new TruncationError(`message of ${message.bytes.byteLength} bytes (${payloadTypeName(message.type)}) from rank ${source} ` +
      `does not fit the ${target.byteLength}-byte buffer (MPI_ERR_TRUNCATE)`);
  }
  const view = target instanceof ArrayBuffer ? new Uint8Array(target) : new Uint8Array(target.buffer, target.byteOffset, target.byteLength);
  view.set(message.bytes);
  return message.bytes.byteLength;
}

/** How one rank's call ended. */
export type Outcome<T> = { rank: number; value: T; error?: undefined } | { rank: number; error: Error; value?: undefined };

/** What `runRanks` saw besides the outcomes: receives that could never complete and messages never received. */
export class Stuck extends Error {
  constructor(readonly waits: string[], readonly strays: string[]) {
    super(`the ranks cannot go on: ${waits.join('; ')}${strays.length > 0 ? `; and ${strays.join('; ')}` : ''}`);
    this.name = 'Stuck';
  }
}

/**
 * Runs one collective call on `size` ranks of a fresh memory network, as
 * runCollective does on the engine (so the errors are the ones users see),
 * and resolves with each rank's outcome in rank order. Rejects with `Stuck`
 * if a rank would wait for ever or a message is left unreceived, since the
 * algorithm must run its whole pattern even when it fails.
 */
export async function runRanks<T>(size: number, call: string, algorithm: (ch: Channel) => Promise<T>,
  network = new MemoryNetwork(size)): Promise<Outcome<T>[]> {
  const outcomes: Outcome<T>[] = [];
  let settled = 0;
  for (let rank = 0; rank < size; rank++) {
    runCollectiveOn(call, network.channel(rank), algorithm).then(
      (value) => { outcomes[rank] = { rank, value }; },
      (error: unknown) => { outcomes[rank] = { rank, error: error instanceof Error ? error : new Error(String(error)) }; },
    ).finally(() => { settled++; });
  }
  // Everything moves by microtasks, which all run before the next turn of the event
  // loop: a turn with no message sent or received and ranks still running means they never will.
  for (let before = -1; settled < size && network.activity !== before;) {
    before = network.activity;
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (settled < size || network.strays().length > 0) throw new Stuck(network.waits(), network.strays());
  return outcomes;
}

/** Each rank's value, or the first error thrown (with its rank), for tests that expect success. */
export async function valuesOf<T>(size: number, call: string, algorithm: (ch: Channel) => Promise<T>,
  network = new MemoryNetwork(size)): Promise<T[]> {
  const outcomes = await runRanks(size, call, algorithm, network);
  const failed = outcomes.find((outcome) => outcome.error !== undefined);
  if (failed?.error !== undefined) throw new Error(`rank ${failed.rank} of ${size} failed: ${failed.error.message}`, { cause: failed.error });
  return outcomes.map((outcome) => outcome.value as T);
}
