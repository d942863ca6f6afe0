/**
 * What the PMI-1 (MPICH Hydra) and PMI-2 (Slurm) bootstraps share: both give
 * a flat key-value store with put, a collective fence, get, finalize and
 * abort, over a socket the launcher passes in PMI_FD. On top of that this
 * file builds the job key and the address exchange.
 *
 * Values are restricted (PMI-1: no spaces or '='; PMI-2: no ';') and short
 * (vallen_max, 1024 in Hydra and Slurm), so every value is base64url and
 * split into numbered chunks under keys `<name>-<rank>-<i>`, with the chunk
 * count in `<name>-<rank>-n`.
 *
 * The job key is drawn by rank 0 and put in the store before the first
 * fence: only processes the launcher started can read that store (the
 * socket is handed to them and to nobody else), as with PMIx.
 *
 * A world spawned under Hydra (pmi1-spawn.ts) takes the parents' key and
 * universe indices from its preput instead, and its exchange adds the
 * parents' addresses, which child 0 fetches from the parent root.
 */
import { randomBytes } from 'node:crypto';
import { writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { inspect } from 'node:util';
import { JobError } from '../base/index.js';
import type { ParentInfo, PeerAddress, SpawnReply, SpawnRequest } from '../wire/index.js';
import type { Bootstrap, SpawnParents } from './bootstrap.js';
import { defaultAdvertiseHost } from './host.js';
import { joinParents, type ParentPreput, type Pmi1Spawner } from './pmi1-spawn.js';

/** How long a failing rank lets the launcher forward its last stderr lines before asking for the abort. */
const STDERR_DRAIN_MS = 300;

/** The wire operations a PMI flavour provides. */
export interface KvsChannel {
  /** Longest value the server accepts (after encoding). */
  readonly valueMax: number;
  put(key: string, value: string): Promise<void>;
  /** Collective: every put before it is visible to every get after it. */
  fence(): Promise<void>;
  get(key: string): Promise<string>;
  finalize(): Promise<void>;
  /**
   * Whether a rank that exits non-zero before finalize must ask for the abort
   * itself: srun does not stop the other tasks of a step on its own (unless
   * --kill-on-bad-exit), and Hydra stops only the ranks of the failed rank's
   * own host (its proxy's), so the others wait forever on a multi-host job.
   */
  readonly abortOnBadExit: boolean;
  /** The bytes that ask the launcher to end the job; sent synchronously. */
  abortMessage(code: number, message: string): string;
}

const JOB_KEY = 'mpi4ts-key';
const ADDRESS = 'mpi4ts-addr';
/** Child 0 of a spawned world leaves its parents' addresses here for its siblings. */
const PARENTS = 'mpi4ts-parents';

/** What a KvsBootstrap may know besides the plain job (Hydra's PMI-1 tells these; PMI-2 here does not). */
export interface KvsExtras {
  /** This process's PMI server can spawn (Hydra's PMI-1): comm.spawn goes through it. */
  spawner?: Pmi1Spawner;
  /** This world was spawned by mpi4ts parents: what their root preput. */
  parent?: ParentPreput | null;
  /** MPI_UNIVERSE_SIZE as the launcher gives it (Hydra: `mpiexec -usize N`), or null where it does not. */
  universeSize?: number | null;
}

export class KvsBootstrap implements Bootstrap {
  key: Buffer = Buffer.alloc(0);
  /** The universe index: the store's rank, from the spawn's base in a spawned world. */
  readonly rank: number;
  /** The universe's extent as this process knows it at start: its world's end. */
  readonly size: number;
  /** A spawned world's universe indices; absent: 0..size-1. */
  readonly worldGroup?: readonly number[];
  readonly spawn?: (request: SpawnRequest, parents: SpawnParents) => Promise<SpawnReply>;
  readonly spawnGo?: (id: number) => void;
  readonly universeSize?: number;
  private readonly spawnedBy: ParentPreput | null;
  private done = false;

  constructor(
    readonly name: string,
    /** This process's rank in the store, and the store's size (its COMM_WORLD's). */
    private readonly kvsRank: number,
    private readonly kvsSize: number,
    /** MPI_APPNUM as the launcher's PMI gives it. */
    readonly appnum: number,
    private readonly channel: KvsChannel,
    private readonly fd: number,
    /** Where peers on other hosts reach this rank; the launcher may know better than the default. */
    readonly advertiseHost = defaultAdvertiseHost(),
    extras: KvsExtras = {},
  ) {
    this.spawnedBy = extras.parent ?? null;
    if (typeof extras.universeSize === 'number') this.universeSize = extras.universeSize;
    const base = this.spawnedBy?.base ?? 0;
    this.rank = base + kvsRank;
    this.size = base + kvsSize;
    if (this.spawnedBy !== null) this.worldGroup = Array.from({ length: kvsSize }, (_, i) => base + i);
    const spawner = extras.spawner;
    if (spawner !== undefined) {
      this.spawn = (request, parents) => spawner.spawn(request, parents, this.key, this.advertiseHost);
      this.spawnGo = (id) => spawner.go(id);
    }
  }

  /** Agrees on the job key; call once, right after the channel is up. */
  async start(): Promise<void> {
    if (this.spawnedBy !== null) {
      // The universe has one key: the parents', from the preput.
      this.key = Buffer.from(this.spawnedBy.key, 'hex');
    } else {
      if (this.kvsRank === 0) await this.putChunked(JOB_KEY, 0, randomBytes(32).toString('hex'));
      await this.channel.fence();
      this.key = Buffer.from(await this.getChunked(JOB_KEY, 0), 'hex');
    }
    if (this.key.length !== 32) throw new JobError(`${this.name}: the job key read from the launcher's store has ${this.key.length} bytes, not 32`);
    if (this.channel.abortOnBadExit) this.abortOnBadExit();
  }

  private abortOnBadExit(): void {
    let fatal: { error: unknown } | null = null;
    process.on('uncaughtExceptionMonitor', (error) => {
      // Only an error nobody handles ends the process.
      if (process.listenerCount('uncaughtException') === 0) fatal = { error };
    });
    process.on('exit', (code) => {
      if (this.done || code === 0) return;
      // Node prints an uncaught error only after the 'exit' listeners, too late:
      // the abort ends this process first. Print it here, and exit before Node
      // prints it again.
      if (fatal !== null) writeStderr(describeFatal(fatal.error));
      // The abort makes the launcher kill the job at once, and it may act on it
      // before it has forwarded what this rank just wrote to stderr (seen with
      // srun printing only "Killed"): give it a moment first.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, STDERR_DRAIN_MS);
      this.sendAbort(code, '');
      if (fatal !== null) process.exit(code);
    });
  }

  async exchange(me: PeerAddress): Promise<PeerAddress[]> {
    await this.putChunked(ADDRESS, this.kvsRank, JSON.stringify(me));
    await this.channel.fence();
    const world: PeerAddress[] = [];
    for (let rank = 0; rank < this.kvsSize; rank++) world.push(JSON.parse(await this.getChunked(ADDRESS, rank)) as PeerAddress);
    const parent = this.spawnedBy;
    if (parent === null) return world;
    // Child 0 fetches the parents' addresses (pmi1-spawn.ts) and leaves them for the others.
    let parents: PeerAddress[] | null = null;
    if (this.kvsRank === 0) {
      parents = await joinParents(parent, this.key, world);
      await this.putChunked(PARENTS, 0, JSON.stringify(parents));
    }
    await this.channel.fence();
    parents ??= JSON.parse(await this.getChunked(PARENTS, 0)) as PeerAddress[];
    // By universe index; the rest are holes, as under mpi4ts run.
    const table = new Array<PeerAddress>(this.size);
    for (const address of [...world, ...parents]) table[address.rank] = address;
    return table;
  }

  /** A spawned world's parents (MPI.getParent), null in a plain job. */
  parent(): ParentInfo | null {
    return this.spawnedBy === null ? null : { group: this.spawnedBy.group, context: this.spawnedBy.context };
  }

  async finalize(): Promise<void> {
    // The fence is the barrier inside MPI_Finalize: nobody closes while a peer may still read.
    await this.channel.fence();
    await this.channel.finalize();
    this.done = true;
  }

  async abort(code: number, message: string): Promise<void> {
    // Neither Hydra nor srun print the abort message themselves.
    if (message !== '') process.stderr.write(`mpi4ts: ${message}\n`);
    // As for a bad exit: the launcher may kill this process before forwarding what it just wrote.
    if (message !== '') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, STDERR_DRAIN_MS);
    this.sendAbort(code, message);
    process.exit(code);
  }

  close(): void {}

  private sendAbort(code: number, message: string): void {
    if (this.done) return;
    this.done = true;
    try {
      writeSync(this.fd, this.channel.abortMessage(code, message));
    } catch {
      // The launcher is gone already; exiting is all that is left.
    }
  }

  private async putChunked(name: string, rank: number, text: string): Promise<void> {
    for (const [key, value] of chunkEntries(name, rank, text, this.channel.valueMax)) await this.channel.put(key, value);
  }

  private getChunked(name: string, rank: number): Promise<string> {
    return getChunked(this.channel, this.name, name, rank);
  }
}

/** The store entries of `text` under `name` and `rank`: its chunk count, then its base64url chunks (see the module's header). */
export function chunkEntries(name: string, rank: number, text: string, valueMax: number): [string, string][] {
  const chunks = splitEvery(Buffer.from(text).toString('base64url'), valueMax);
  return [[`${name}-${rank}-n`, String(chunks.length)], ...chunks.map((chunk, i): [string, string] => [`${name}-${rank}-${i}`, chunk])];
}

/** What chunkEntries put, read back. */
export async function getChunked(channel: Pick<KvsChannel, 'get'>, who: string, name: string, rank: number): Promise<string> {
  const count = Number(await channel.get(`${name}-${rank}-n`));
  if (!Number.isInteger(count) || count < 1) throw new JobError(`${who}: "${name}-${rank}-n" in the launcher's store is not a chunk count`);
  let encoded = '';
  for (let i = 0; i < count; i++) encoded += await channel.get(`${name}-${rank}-${i}`);
  return Buffer.from(encoded, 'base64url').toString();
}

/** As Node reports an uncaught error: the stack (with cause and own properties) of an Error, else the value. */
function describeFatal(error: unknown): string {
  return `${error instanceof Error ? '' : 'Uncaught '}${inspect(error)}\n\nNode.js ${process.version}\n`;
}

function writeStderr(text: string): void {
  try {
    writeSync(2, text);
  } catch {
    // No stderr left to tell.
  }
}

function splitEvery(text: string, size: number): string[] {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return parts.length === 0 ? [''] : parts;
}

/**
 * The launcher's socket as an async reader of lines or fixed-size records,
 * for the lock-step request/response protocols of PMI.
 */
export class PmiSocket {
  private buffered = Buffer.alloc(0);
  private want: { bytes: number; resolve: (b: Buffer) => void } | { line: true; resolve: (b: Buffer) => void } | null = null;
  private failure: Error | null = null;
  private readonly socket: Socket;

  constructor(readonly fd: number, private readonly what: string) {
    this.socket = openFd(fd, what);
    this.socket.on('data', (chunk) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.serve();
    });
    this.socket.on('error', (err) => this.fail(new JobError(`${what}: the launcher's socket (fd ${fd}) failed: ${err.message}`)));
    this.socket.on('close', () => this.fail(new JobError(`${what}: the launcher closed its socket (fd ${fd})`)));
    this.socket.unref();
  }

  async request(text: string): Promise<void> {
    if (this.failure !== null) throw this.failure;
    this.socket.write(text);
  }

  readLine(): Promise<string> {
    return this.wait({ line: true }).then((b) => b.toString());
  }

  readBytes(bytes: number): Promise<string> {
    return this.wait({ bytes }).then((b) => b.toString());
  }

  private wait(want: { line: true } | { bytes: number }): Promise<Buffer> {
    if (this.failure !== null) return Promise.reject(this.failure);
    // Waiting for the launcher must keep the process alive; idle, the socket must not.
    this.socket.ref();
    return new Promise((resolve, reject) => {
      this.want = { ...want, resolve: (b: Buffer) => { this.socket.unref(); resolve(b); } } as typeof this.want;
      this.rejectWaiter = (err) => { this.socket.unref(); reject(err); };
      this.serve();
    });
  }

  private rejectWaiter: ((err: Error) => void) | null = null;

  private serve(): void {
    const want = this.want;
    if (want === null) return;
    let end = -1;
    if ('line' in want) {
      const nl = this.buffered.indexOf(10);
      if (nl >= 0) end = nl + 1;
    } else if (this.buffered.length >= want.bytes) {
      end = want.bytes;
    }
    if (end < 0) return;
    const record = this.buffered.subarray(0, end);
    this.buffered = this.buffered.subarray(end);
    this.want = null;
    this.rejectWaiter = null;
    want.resolve('line' in want ? record.subarray(0, record.length - 1) : record);
  }

  private fail(err: Error): void {
    if (this.failure !== null) return;
    this.failure = err;
    const reject = this.rejectWaiter;
    this.want = null;
    this.rejectWaiter = null;
    reject?.(err);
  }
}

function openFd(fd: number, what: string): Socket {
  try {
    return new Socket({ fd, readable: true, writable: true });
  } catch (err) {
    throw new JobError(`${what}: PMI_FD=${fd} is not an open socket (${(err as Error).message}); the launcher passes its ` +
      'PMI socket there: unset PMI_FD if no launcher started this process', { cause: err });
  }
}

/** Parses `PMI_FD`, naming the variable and what was expected when it is wrong. */
export function pmiFd(env: NodeJS.ProcessEnv, launcher: string): number {
  const text = env.PMI_FD ?? '';
  const fd = Number(text);
  if (text === '' || !Number.isInteger(fd) || fd < 0) {
    throw new JobError(`PMI_FD="${text}" must be the number of the socket ${launcher} passes (a non-negative integer)`);
  }
  return fd;
}
