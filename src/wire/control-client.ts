/**
 * The rank's end of a control connection (control-protocol.ts), the one
 * client both bootstraps that own such a connection use: the launcher's
 * (runtime/launcher-bootstrap.ts, label "ctl") and a rendezvous at rank 0
 * (runtime/rendezvous.ts, label "rdv"). The label keeps a proof made for one
 * from passing for the other.
 *
 * States: connecting -> connected (hello written, waiting for the welcome)
 * -> running (the table is known; the socket no longer holds the loop open)
 * -> finalizing (finalize written, the loop held again until "finalized")
 * -> ended. A connection that closes or breaks the protocol in any state but
 * ended is `onLost`: without the server a rank can neither be stopped nor
 * finish cleanly, so its owner ends the process.
 */
import { randomBytes } from 'node:crypto';
import { writeSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { clockMicros, debug, JobError } from '../base/index.js';
import { CONTROL_KEEPALIVE_IDLE_MS, ControlKind, encodeControl, LineDecoder, PeerDoneRelay, RankDeathRelay, type ControlMessage, type ParentInfo,
  type PeerEnd, type RankDeathHandler, type SpawnReply, type SpawnRequest, type TracePart } from './control-protocol.js';
import type { PeerAddress } from './peer-address.js';
import type { RankReport } from './pending-report.js';
import { proofMatches, proofOf } from './proof.js';

const RETRY_MS = 200;

export interface ControlClientOptions {
  host: string;
  port: number;
  rank: number;
  size: number;
  key: Buffer;
  /** "ctl" (mpi4ts run) or "rdv" (rendezvous): proofs of one never pass for the other. */
  label: string;
  /** The server, for messages: "the launcher", "rank 0". */
  server: string;
  /** Where its address came from, for messages: "MPI4TS_RENDEZVOUS", or '' . */
  addressFrom: string;
  /** Keep trying to connect this long (rank 0 may not listen yet); 0: one try. */
  connectForMs: number;
  /** What to tell the user when the server's proof fails (the likely cause). */
  proofHint: string;
  /** Words added when the connection closes (the likely cause): e.g. "(the job was ended, or rank 0 died)", or ''. */
  closeHint: string;
  /** The connection closed or broke the protocol before `close()`; `why` completes "rank N ...". */
  onLost(why: string): void;
}

export class ControlClient {
  /** The local address the connection used: one the server's host, and so peers, can reach. */
  readonly localAddress: string;
  private readonly inbox: ControlMessage[] = [];
  private waiter: ((m: ControlMessage) => void) | null = null;
  private readonly peersDone = new PeerDoneRelay();
  private readonly deaths = new RankDeathRelay();
  private ended = false;
  private reporter: (() => RankReport) | null = null;
  /** Spawn requests waiting for their answer, by id; the socket holds the loop while any does. */
  private readonly spawns = new Map<number, (reply: SpawnReply) => void>();
  /** A spawned process's parents, from its welcome; null in the job's own ranks. */
  parent: ParentInfo | null = null;

  private constructor(private readonly socket: Socket, private readonly options: ControlClientOptions) {
    this.localAddress = socket.localAddress ?? '127.0.0.1';
    socket.setKeepAlive(true, CONTROL_KEEPALIVE_IDLE_MS);
    const decoder = new LineDecoder((message) => this.receive(message));
    socket.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk);
      } catch (err) {
        this.lost(`got a bad control message from ${options.server}: ${(err as Error).message}`);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => this.lost(`lost its connection to ${options.server}${options.closeHint === '' ? '' : ` ${options.closeHint}`}`));
  }

  /** Connects, retrying for `connectForMs`; rejects with a JobError naming the server and its address. */
  static async connect(options: ControlClientOptions): Promise<ControlClient> {
    const deadline = Date.now() + options.connectForMs;
    for (;;) {
      try {
        return new ControlClient(await tryConnect(options.host, options.port), options);
      } catch (err) {
        if (Date.now() >= deadline) throw new JobError(unreachable(options, (err as Error).message));
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  /**
   * Says hello with this rank's address and a fresh proof of the key, and
   * returns every rank's address once the server's own proof checks out.
   */
  async exchange(me: PeerAddress): Promise<PeerAddress[]> {
    const { key, label, rank, size, server } = this.options;
    const nonce = randomBytes(16).toString('hex');
    this.write({ t: ControlKind.HELLO, rank, nonce, address: me, proof: proofOf(key, `${label}-C`, nonce, rank).toString('hex') });
    const welcome = await this.next(ControlKind.WELCOME);
    if (!proofMatches(proofOf(key, `${label}-S`, nonce, rank), Buffer.from(String(welcome.proof), 'hex'))) {
      const at = this.options.addressFrom === '' ? '' : ` at ${this.options.host}:${this.options.port}`;
      throw new JobError(`${server}${at} failed the job key proof: ${this.options.proofHint}`);
    }
    if (welcome.parent !== undefined) {
      // A spawned process learns its own world's and its parents' addresses, by universe index (the rest are holes).
      this.parent = welcome.parent;
      const table = new Array<PeerAddress>(size);
      for (const address of welcome.table) if (Number.isInteger(address?.rank) && address.rank >= 0 && address.rank < size) table[address.rank] = address;
      this.socket.unref();
      return table;
    }
    if (!Array.isArray(welcome.table) || welcome.table.length !== size) {
      throw new JobError(`${server} sent ${Array.isArray(welcome.table) ? welcome.table.length : 'no'} addresses for a job of ${size} ranks`);
    }
    // From here on the connection must not keep the process alive by itself.
    this.socket.unref();
    return welcome.table;
  }

  /** Tells the server this rank is done and waits until every rank is (the barrier inside MPI_Finalize). */
  async finalize(): Promise<void> {
    this.socket.ref();
    this.write({ t: ControlKind.FINALIZE, rank: this.options.rank });
    await this.next(ControlKind.FINALIZED);
  }

  /**
   * Asks the launcher for new processes (comm.spawn's root) and resolves
   * with its answer: the children's addresses once all said hello, or why
   * not. The connection holds the loop meanwhile: the root has nothing else
   * pending while it waits.
   */
  spawn(request: SpawnRequest): Promise<SpawnReply> {
    return new Promise((resolve) => {
      this.spawns.set(request.id, resolve);
      this.socket.ref();
      this.write({ t: ControlKind.SPAWN, rank: this.options.rank, request });
    });
  }

  /** Every parent of spawn `id` knows its children: the launcher may welcome them. */
  spawnGo(id: number): void {
    this.write({ t: ControlKind.SPAWN_GO, rank: this.options.rank, id });
  }

  /** Asks the server to end the job with `code`; it stops every rank, this one included. */
  abort(code: number, message: string): void {
    this.write({ t: ControlKind.ABORT, rank: this.options.rank, code, message });
  }

  /** Tells the server that this rank's connections to `peer` closed before it said goodbye. */
  peerLost(peer: number): void {
    if (!this.ended) this.write({ t: ControlKind.PEER_LOST, rank: this.options.rank, peer });
  }

  /** Sends part of this rank's timeline (--trace); resolves once it is written out, so an exit after it loses nothing. */
  sendTrace(host: string, part: TracePart): Promise<void> {
    return new Promise((resolve) => {
      this.socket.write(encodeControl({ t: ControlKind.TRACE, rank: this.options.rank, host, part }), () => resolve());
    });
  }

  /**
   * sendTrace for a process about to die of an uncaught error, which cannot
   * wait for a write: the line goes to the socket's descriptor at once, if
   * nothing else is queued before it (a line written into the middle of
   * another would garble both). False if it could not.
   */
  sendTraceNow(host: string, part: TracePart): boolean {
    const fd = (this.socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (typeof fd !== 'number' || fd < 0 || this.socket.writableLength > 0) return false;
    const line = Buffer.from(encodeControl({ t: ControlKind.TRACE, rank: this.options.rank, host, part }));
    const giveUpAt = Date.now() + 1000;
    for (let sent = 0; sent < line.length;) {
      try {
        sent += writeSync(fd, line, sent);
      } catch (err) {
        // The socket is non-blocking: a full send buffer drains within the second, or the rest is lost.
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || Date.now() > giveUpAt) return false;
      }
    }
    return true;
  }

  /** `onDone` hears of every other rank whose program is done (the server tells). */
  watchPeers(onDone: (rank: number, how: PeerEnd) => void): void {
    this.peersDone.watch(onDone);
  }

  /** `onDeath` hears of every pool worker that died (`mpi4ts run --pool`; the server tells). */
  watchDeaths(onDeath: RankDeathHandler): void {
    this.deaths.watch(onDeath);
  }

  /** `report` answers the server's REPORT requests from now on (before, they are answered with null). */
  serveReports(report: () => RankReport): void {
    this.reporter = report;
  }

  /** From here on the connection closing is expected (the job is ending on purpose). */
  expectEnd(): void {
    this.ended = true;
  }

  close(): void {
    this.ended = true;
    this.socket.end();
    this.socket.unref();
  }

  /** The report, or null if making it failed: a report is help, and must never cost the rank its connection. */
  private reportNow(): RankReport | null {
    try {
      return this.reporter?.() ?? null;
    } catch (err) {
      debug('rank %d could not make its hang report: %s', this.options.rank, (err as Error).message);
      return null;
    }
  }

  private write(message: ControlMessage): void {
    this.socket.write(encodeControl(message));
  }

  private receive(message: ControlMessage): void {
    if (message.t === ControlKind.CLOCK) {
      // Answered at once, before anything queued: the round's length bounds the clock's error.
      this.write({ t: ControlKind.CLOCK_REPLY, id: message.id, now: clockMicros() });
      return;
    }
    if (message.t === ControlKind.PEER_DONE) {
      this.peersDone.deliver(message.rank, message.how);
      return;
    }
    if (message.t === ControlKind.RANK_DIED) {
      this.deaths.deliver(message.rank, String(message.words));
      return;
    }
    if (message.t === ControlKind.REPORT) {
      // Answered at once, in this turn of the event loop: the server judges a rank by whether it answers.
      if (this.socket.writable) this.write({ t: ControlKind.PENDING, rank: this.options.rank, id: message.id, report: this.reportNow() });
      return;
    }
    if (message.t === ControlKind.SPAWNED) {
      const answer = this.spawns.get(message.reply?.id);
      if (answer === undefined) return;
      this.spawns.delete(message.reply.id);
      if (this.spawns.size === 0) this.socket.unref();
      answer(message.reply);
      return;
    }
    // Once every rank is done the server may go at once (rank 0 exits): a close is no failure then.
    if (message.t === ControlKind.FINALIZED) this.ended = true;
    const waiter = this.waiter;
    if (waiter === null) {
      this.inbox.push(message);
      return;
    }
    this.waiter = null;
    waiter(message);
  }

  private next<K extends ControlMessage['t']>(kind: K): Promise<Extract<ControlMessage, { t: K }>> {
    const take = (m: ControlMessage): Extract<ControlMessage, { t: K }> => {
      if (m.t !== kind) throw new JobError(`${this.options.server} sent "${m.t}" where "${kind}" was expected`);
      return m as Extract<ControlMessage, { t: K }>;
    };
    const queued = this.inbox.shift();
    if (queued !== undefined) return Promise.resolve().then(() => take(queued));
    return new Promise((resolve, reject) => {
      this.waiter = (m) => {
        try {
          resolve(take(m));
        } catch (err) {
          reject(err);
        }
      };
    });
  }

  private lost(why: string): void {
    if (this.ended) return;
    this.ended = true;
    this.options.onLost(why);
  }
}

function unreachable(options: ControlClientOptions, reason: string): string {
  const from = options.addressFrom === '' ? '' : ` (${options.addressFrom})`;
  const within = options.connectForMs > 0 ? ` within ${options.connectForMs / 1000} s` : '';
  return `rank ${options.rank} cannot reach ${options.server} at ${options.host}:${options.port}${from}${within}: ${reason}`;
}

function tryConnect(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true });
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err) => {
      socket.destroy();
      reject(err);
    });
  });
}
