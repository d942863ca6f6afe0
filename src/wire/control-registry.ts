/**
 * The server's end of the control connections (control-protocol.ts), the one
 * registry both servers use: the launcher's control server
 * (launcher/control-server.ts, label "ctl") and rank 0's rendezvous server
 * (runtime/rendezvous.ts, label "rdv").
 *
 * Every rank connects, proves the job key in its first line and publishes
 * its address; once all have, each gets the table of all ranks with the
 * server's own proof. Afterwards the registry carries abort and finalize,
 * tells every rank when another's program is done, and lets all go once all
 * are done. Connections that have not proved the key are bounded in number,
 * bytes and time (unproven.ts), as the port may face the network; those that
 * fail the proof, replay a nonce or claim a rank already taken are dropped
 * without a word.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { clockMicros } from '../base/index.js';
import { CONTROL_KEEPALIVE_IDLE_MS, ControlKind, encodeControl, MAX_HELLO_LINE, readControlLines, type ControlMessage, type ParentInfo, type PeerEnd,
  type SpawnReply, type SpawnRequest, type TracePart } from './control-protocol.js';
import type { PeerAddress } from './peer-address.js';
import type { RankReport } from './pending-report.js';
import { proofMatches, proofOf } from './proof.js';
import { UNPROVEN_LIMIT, UNPROVEN_TIMEOUT_MS, UnprovenConnections } from './unproven.js';

export interface ControlRegistryEvents {
  /** A proven rank asked to end the job. */
  onAbort(rank: number, code: number, message: string): void;
  /** Something was wrong with a connection (for debug output: strangers are expected on an open port). */
  onRejected(reason: string): void;
  /** A proven rank's connection closed before the job let it go (its process, host or link went down). */
  onLost(rank: number): void;
  /** A proven rank says its connections to `peer` closed before `peer` said goodbye (absent: not wanted). */
  onPeerLost?(rank: number, peer: number): void;
  /**
   * Under --trace: clock rounds with every rank before the welcome, and each
   * rank's estimate (offset: add to the rank's clock to get the server's;
   * error: half the shortest round). Absent: no rounds.
   */
  onClock?(rank: number, offsetMicros: number, errorMicros: number): void;
  /** A part of a rank's timeline (--trace). */
  onTrace?(rank: number, host: string, part: TracePart): void;
  /** A rank answered REPORT `id` (absent: reports are not asked for). */
  onReport?(rank: number, id: number, report: RankReport | null): void;
  /** A rank asks for new processes (comm.spawn's root; absent: refused, as under a rendezvous). */
  onSpawn?(rank: number, request: SpawnRequest): void;
  /** Every process of a block added by addBlock has said hello: here are their addresses. */
  onBlockArrived?(base: number, addresses: PeerAddress[]): void;
  /** The parents of spawn `id` (asked by `rank`) know the children: welcome them (welcomeBlock). */
  onSpawnGo?(rank: number, id: number): void;
}

/**
 * The processes of one COMM_WORLD, numbered from `base` in the job's
 * universe (DESIGN.md "Dynamic processes"): the job's own ranks are block 0,
 * each spawn adds one.
 */
interface Block {
  base: number;
  count: number;
  arrived: number;
  /** A spawned world's parents; null for the job's own ranks. */
  parent: ParentInfo | null;
}

/**
 * Clock rounds per rank under --trace: the shortest of them gives the
 * estimate; a few suffice on a quiet link, and they run before the program
 * does, so they cost start-up only (about a millisecond per round locally).
 */
const CLOCK_ROUNDS = 8;

export class ControlRegistry {
  private server: Server | null = null;
  private readonly table: (PeerAddress | undefined)[];
  private readonly sockets: (Socket | undefined)[];
  private readonly nonces: string[] = [];
  private readonly seenNonces = new Set<string>();
  /** Ranks that said finalize and have not been let go yet. */
  private readonly finalizing = new Set<number>();
  /** Every rank that ever said finalize. */
  private readonly finalizedEver = new Set<number>();
  /** Ranks whose process ended cleanly without finalize (the launcher knows; a rendezvous never does). */
  private readonly exited = new Set<number>();
  /** Ranks let go: their connection may close now. */
  private readonly released = new Set<number>();
  private readonly unproven: UnprovenConnections;
  private closing = false;
  private arrived = 0;
  /** Processes of every block so far: the job's ranks and every spawned one (universe indices 0..total-1). */
  private total: number;
  private readonly blocks: Block[];
  /** Processes that got their welcome: only they read requests. */
  private readonly welcomed = new Set<number>();
  /** Clock rounds in flight: rank -> [round number, when it was sent, best round's length, best offset]. */
  private readonly clockRounds = new Map<number, { round: number; sentAt: number; bestRound: number; bestOffset: number }>();

  constructor(private readonly size: number, private readonly key: Buffer, private readonly label: string,
    private readonly events: ControlRegistryEvents) {
    this.table = new Array<PeerAddress | undefined>(size);
    this.sockets = new Array<Socket | undefined>(size);
    this.total = size;
    this.blocks = [{ base: 0, count: size, arrived: 0, parent: null }];
    this.unproven = new UnprovenConnections(
      { limit: UNPROVEN_LIMIT + size, maxBytes: MAX_HELLO_LINE, timeoutMs: UNPROVEN_TIMEOUT_MS },
      (_socket, reason) => events.onRejected(reason),
    );
  }

  /** Listens on `host`:`port` (0: any); resolves with the port, rejects with the listen error. */
  listen(host: string, port: number): Promise<number> {
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.removeListener('error', reject);
        // Once listening, an error is an accept that failed (EMFILE): say so, keep serving.
        server.on('error', (err) => this.events.onRejected(`control server: ${err.message}`));
        const address = server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
  }

  /** The ranks that have not joined yet, as "rank N" words. */
  missingRanks(): string[] {
    const missing: string[] = [];
    for (let rank = 0; rank < this.total; rank++) if (this.table[rank] === undefined) missing.push(`rank ${rank}`);
    return missing;
  }

  /**
   * Asks `ranks` (those still connected and not let go) for their hang
   * reports under `id`; answers come through onReport. Returns the ranks
   * asked. Nothing before every rank has joined: a rank reads no request
   * before its welcome.
   */
  requestReports(id: number, ranks: Iterable<number>): number[] {
    if (this.arrived < this.size || this.closing) return [];
    const asked: number[] = [];
    const line = encodeControl({ t: ControlKind.REPORT, id });
    for (const rank of ranks) {
      const socket = this.sockets[rank];
      if (socket === undefined || !this.welcomed.has(rank) || this.released.has(rank) || this.exited.has(rank) || !socket.writable) continue;
      socket.write(line);
      asked.push(rank);
    }
    return asked;
  }

  /**
   * Room for `count` more processes (a spawn), numbered from the returned
   * base; they are welcomed by welcomeBlock once the parents know them.
   */
  addBlock(count: number, parent: ParentInfo): number {
    const base = this.total;
    this.blocks.push({ base, count, arrived: 0, parent });
    this.total += count;
    this.table.length = this.total;
    this.sockets.length = this.total;
    return base;
  }

  /** The welcome of a spawned block: its own addresses and its parents', and who the parents are. */
  welcomeBlock(base: number): void {
    const block = this.blocks.find((b) => b.base === base);
    if (block === undefined || block.parent === null) return;
    const known = [...block.parent.group, ...Array.from({ length: block.count }, (_, i) => base + i)];
    const table = known.map((u) => this.table[u]).filter((a): a is PeerAddress => a !== undefined);
    for (let u = base; u < base + block.count; u++) this.welcome(u, table, block.parent);
  }

  /** The answer to a spawn request of `rank`. */
  replySpawn(rank: number, reply: SpawnReply): void {
    const socket = this.sockets[rank];
    if (socket !== undefined && socket.writable) socket.write(encodeControl({ t: ControlKind.SPAWNED, reply }));
  }

  /** Whether `rank` has said hello. */
  hasJoined(rank: number): boolean {
    return this.table[rank] !== undefined;
  }

  /** Whether `rank` ever said finalize. */
  hasFinalized(rank: number): boolean {
    return this.finalizedEver.has(rank);
  }

  /** A rank's process ended with code 0: it needs no more, and counts as done. */
  rankExitedCleanly(rank: number): void {
    this.exited.add(rank);
    if (!this.finalizedEver.has(rank)) this.tellDone(rank, 'exited');
    this.maybeRelease();
  }

  /**
   * A pool worker's process died: it counts as done, so finalize's barrier
   * does not wait for it, and every other rank still held (or only those
   * of `audience`: a spawned worker's parents) hears of it (RANK_DIED)
   * with `words`.
   */
  rankDied(rank: number, words: string, audience?: readonly number[]): void {
    this.exited.add(rank);
    const line = encodeControl({ t: ControlKind.RANK_DIED, rank, words });
    const told = audience === undefined ? null : new Set(audience);
    this.sockets.forEach((socket, other) => {
      if (told !== null && !told.has(other)) return;
      if (other !== rank && !this.released.has(other) && socket?.writable === true) socket.write(line);
    });
    this.maybeRelease();
  }

  /** The server's own process waits in finalize with the loop held; idle, the registry must not hold it. */
  unref(): void {
    this.server?.unref();
    for (const socket of this.sockets) socket?.unref();
  }

  /** Stops listening and drops every connection: each rank sees its connection close. */
  close(): void {
    this.closing = true;
    this.server?.close();
    this.unproven.clear();
    for (const socket of this.sockets) socket?.destroy();
  }

  /** Stops listening; proven connections stay until their ranks close them. */
  stopListening(): void {
    this.server?.close();
  }

  private accept(socket: Socket): void {
    socket.on('error', () => {});
    socket.setKeepAlive(true, CONTROL_KEEPALIVE_IDLE_MS);
    readControlLines(socket, this.unproven, {
      hello: (message) => this.hello(socket, message),
      message: (rank, message) => this.fromRank(rank, message),
      reject: (reason) => this.events.onRejected(reason),
    });
  }

  /** Checks a hello; returns the proven rank, or -1 after dropping the connection. */
  private hello(socket: Socket, message: ControlMessage): number {
    const problem = this.helloProblem(message);
    if (problem !== null) {
      this.events.onRejected(problem);
      this.unproven.proven(socket);
      socket.destroy();
      return -1;
    }
    const { rank, nonce, address } = message as Extract<ControlMessage, { t: 'hello' }>;
    this.seenNonces.add(nonce);
    this.sockets[rank] = socket;
    socket.once('close', () => {
      if (!this.released.has(rank) && !this.exited.has(rank) && !this.closing) this.events.onLost(rank);
    });
    this.table[rank] = { ...address, rank };
    this.nonces[rank] = nonce;
    const block = blockOf(this.blocks, rank);
    if (block.base > 0) {
      if (++block.arrived === block.count) {
        this.events.onBlockArrived?.(block.base, Array.from({ length: block.count }, (_, i) => this.table[block.base + i]!));
      }
      return rank;
    }
    if (++this.arrived === this.size) {
      if (this.events.onClock === undefined) this.welcomeAll();
      else this.startClockRounds();
    }
    return rank;
  }

  private helloProblem(message: ControlMessage): string | null {
    if (message.t !== ControlKind.HELLO) return `expected hello, got "${message.t}"`;
    const { rank, nonce } = message;
    if (!Number.isInteger(rank) || rank < 0 || rank >= this.total || this.sockets[rank] !== undefined) {
      return `hello from an invalid or duplicate rank ${String(rank)}`;
    }
    if (typeof nonce !== 'string' || !/^[0-9a-f]{32}$/.test(nonce) || this.seenNonces.has(nonce)) {
      return `a connection claiming rank ${rank} sent a missing or used nonce`;
    }
    if (!proofMatches(proofOf(this.key, `${this.label}-C`, nonce, rank), Buffer.from(String(message.proof), 'hex'))) {
      return `a connection claiming rank ${rank} failed the job key proof`;
    }
    if (typeof message.address !== 'object' || message.address === null) return `rank ${rank} sent no address`;
    return null;
  }

  private welcomeAll(): void {
    const table = this.table.slice(0, this.size) as PeerAddress[];
    for (let rank = 0; rank < this.size; rank++) this.welcome(rank, table, null);
  }

  private welcome(rank: number, table: PeerAddress[], parent: ParentInfo | null): void {
    const proof = proofOf(this.key, `${this.label}-S`, this.nonces[rank] ?? '', rank).toString('hex');
    this.welcomed.add(rank);
    this.sockets[rank]?.write(encodeControl({ t: ControlKind.WELCOME, proof, table, ...(parent === null ? {} : { parent }) }));
  }

  /** Every rank is here and waits for its welcome (its loop is free to answer): the clock rounds first. */
  private startClockRounds(): void {
    for (let rank = 0; rank < this.size; rank++) {
      this.clockRounds.set(rank, { round: 0, sentAt: clockMicros(), bestRound: Infinity, bestOffset: 0 });
      this.sockets[rank]?.write(encodeControl({ t: ControlKind.CLOCK, id: 0 }));
    }
  }

  private clockReply(rank: number, id: number, now: number): void {
    const state = this.clockRounds.get(rank);
    if (state === undefined || id !== state.round || typeof now !== 'number' || !Number.isFinite(now)) {
      this.events.onRejected(`rank ${rank} sent a clock reply that answers no round`);
      return;
    }
    const back = clockMicros();
    const length = back - state.sentAt;
    if (length < state.bestRound) {
      state.bestRound = length;
      // The rank read its clock somewhere in the round: the middle is the best guess, half the round the error.
      state.bestOffset = (state.sentAt + back) / 2 - now;
    }
    if (++state.round < CLOCK_ROUNDS) {
      state.sentAt = clockMicros();
      this.sockets[rank]?.write(encodeControl({ t: ControlKind.CLOCK, id: state.round }));
      return;
    }
    this.events.onClock?.(rank, state.bestOffset, state.bestRound / 2);
    this.clockRounds.delete(rank);
    if (this.clockRounds.size === 0) this.welcomeAll();
  }

  private fromRank(rank: number, message: ControlMessage): void {
    switch (message.t) {
      case ControlKind.CLOCK_REPLY:
        this.clockReply(rank, message.id, message.now);
        return;
      case ControlKind.TRACE:
        if (this.events.onTrace === undefined || typeof message.part !== 'object' || message.part === null) {
          this.events.onRejected(`rank ${rank} sent a trace part nobody asked for`);
          return;
        }
        this.events.onTrace(rank, String(message.host), message.part);
        return;
      case ControlKind.ABORT:
        this.events.onAbort(rank, Number.isInteger(message.code) ? message.code : 1, String(message.message ?? ''));
        return;
      case ControlKind.FINALIZE:
        this.finalizing.add(rank);
        if (!this.finalizedEver.has(rank)) {
          this.finalizedEver.add(rank);
          this.tellDone(rank, 'finalized');
        }
        this.maybeRelease();
        return;
      case ControlKind.PEER_LOST:
        if (!Number.isInteger(message.peer) || message.peer < 0 || message.peer >= this.total || message.peer === rank) {
          this.events.onRejected(`rank ${rank} said it lost an invalid peer ${String(message.peer)}`);
          return;
        }
        this.events.onPeerLost?.(rank, message.peer);
        return;
      case ControlKind.PENDING:
        if (!Number.isInteger(message.id) || (message.report !== null && typeof message.report !== 'object')) {
          this.events.onRejected(`rank ${rank} sent a malformed hang report`);
          return;
        }
        this.events.onReport?.(rank, message.id, message.report);
        return;
      case ControlKind.SPAWN:
        if (this.events.onSpawn === undefined || typeof message.request !== 'object' || message.request === null) {
          const id = Number(message.request?.id ?? 0);
          this.replySpawn(rank, { id, error: `spawn is not available under ${this.label === 'rdv' ? 'a rendezvous (MPI4TS_RENDEZVOUS, srun)' : 'this launcher'}; use mpi4ts run` });
          return;
        }
        this.events.onSpawn(rank, message.request);
        return;
      case ControlKind.SPAWN_GO:
        this.events.onSpawnGo?.(rank, Number(message.id));
        return;
      case ControlKind.HELLO:
      case ControlKind.WELCOME:
      case ControlKind.FINALIZED:
      case ControlKind.PEER_DONE:
      case ControlKind.CLOCK:
      case ControlKind.REPORT:
      case ControlKind.SPAWNED:
      case ControlKind.RANK_DIED:
        this.events.onRejected(`rank ${rank} sent an unexpected "${message.t}"`);
        return;
      default: {
        const unknown: never = message;
        this.events.onRejected(`rank ${rank} sent an unknown control message ${JSON.stringify(unknown)}`);
      }
    }
  }

  /** Tells every other rank still held that `rank`'s program is done: a receive only it could satisfy never completes. */
  private tellDone(rank: number, how: PeerEnd): void {
    if (this.arrived < this.size) return;
    const line = encodeControl({ t: ControlKind.PEER_DONE, rank, how });
    this.sockets.forEach((socket, other) => {
      if (other !== rank && !this.released.has(other)) socket?.write(line);
    });
  }

  /** Everybody done: let them all close and exit (the barrier inside MPI_Finalize). */
  private maybeRelease(): void {
    for (let rank = 0; rank < this.total; rank++) {
      if (!this.finalizing.has(rank) && !this.exited.has(rank)) return;
    }
    for (const rank of this.finalizing) {
      this.released.add(rank);
      this.sockets[rank]?.write(encodeControl({ t: ControlKind.FINALIZED }));
    }
    this.finalizing.clear();
  }
}

/** The block a universe index belongs to (blocks are in base order). */
function blockOf(blocks: readonly Block[], rank: number): Block {
  let found = blocks[0]!;
  for (const block of blocks) if (block.base <= rank) found = block;
  return found;
}
