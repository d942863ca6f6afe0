/**
 * comm.spawn under MPICH's Hydra (DESIGN.md "Dynamic processes"): PMI-1's
 * spawn command, and how the children it starts find their parents.
 *
 * Hydra starts the children as a process group of its own, with a store
 * (KVS) of its own that the parents cannot read, and PMI_SPAWNED=1 in their
 * environment; the one thing the parents can give them is the keys the
 * spawn command "preputs" into that store. So:
 *
 *   1. The parent root listens on a one-shot TCP rendezvous, then sends
 *      Hydra `mcmd=spawn` (one segment per program) with one preput,
 *      PARENT_PREPUT: the job key, the children's universe base, the
 *      parents' group and context id, the rendezvous address and a nonce.
 *      Hydra answers `cmd=spawn_result rc=0` once it has launched them.
 *   2. The children bootstrap their COMM_WORLD through their own store, as
 *      any Hydra job does, but with the parents' job key (the universe has
 *      one key, so links between parents and children prove it as any
 *      other) and universe indices from the base.
 *   3. Child 0 dials the rendezvous, proves the key (an HMAC over the nonce
 *      and the base) and sends its world's addresses: the root's spawn
 *      resolves with them, and spawn.ts tells every parent.
 *   4. Once every parent knows the children (spawn.ts's barrier), the
 *      root's spawnGo proves the key back and sends the parents' addresses;
 *      child 0 puts them in the children's store, a fence, and every child
 *      has its world's and its parents' addresses. No child can dial a
 *      parent that does not know it yet, as under mpi4ts run.
 *
 * The preput travels as the job key already does under Hydra (in its store,
 * through its proxies); the rendezvous never carries the key, only proofs.
 */
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { JobError, optionsOf } from '../base/index.js';
import { proofMatches, proofOf, type PeerAddress, type SpawnCommand, type SpawnReply, type SpawnRequest } from '../wire/index.js';
import type { SpawnParents } from './bootstrap.js';

/** The preput key (chunked as KvsBootstrap chunks values) whose value is a ParentPreput. */
export const PARENT_PREPUT = 'mpi4ts-parent';

/** What the parent root leaves in the children's store. */
export interface ParentPreput {
  /** The job key, hex: the children's too. */
  key: string;
  /** The universe index of child 0; child i is base + i. */
  base: number;
  /** The parent communicator's members (universe indices) and the intercommunicator's context id. */
  group: number[];
  context: number;
  /** The parent root's rendezvous. */
  host: string;
  port: number;
  nonce: string;
}

/** Longest first line at the rendezvous (a proof), before the key is proved: a stranger's bytes are bounded. */
const PROOF_LINE_MAX = 256;
/** Longest address table: as the control protocol's (64 MiB holds 100000 addresses). */
const TABLE_LINE_MAX = 64 * 1024 * 1024;
/** A connection that has not proved the key by then is dropped. */
const PROOF_MS = 10_000;
/** Connections at once (child 0 and strangers): the port may face the network. */
const MAX_CONNECTIONS = 64;

/**
 * The lines of the `mcmd=spawn` command for `commands` (spawnMultiple's programs, one
 * segment each), or a problem in words. Each child runs this Node with
 * this process's flags (`--import tsx`, type stripping) on the command's
 * script; its env goes through `env` (PMI-1 has no key for it); its hosts
 * and the root's working directory go as Hydra's info keys.
 */
export function spawnCommandLines(commands: readonly SpawnCommand[], preputs: readonly [string, string][], cwd: string,
  node: { execPath: string; execArgv: readonly string[] }): { lines: string[] } | { problem: string } {
  const lines: string[] = [];
  for (const [i, command] of commands.entries()) {
    const env = Object.entries(command.env).map(([name, value]) => `${name}=${value}`);
    const argv = [...(env.length > 0 ? [...env, node.execPath] : []), ...node.execArgv, command.path, ...command.args];
    const bad = [...argv, cwd, ...command.hosts].find((word) => /[\n\r]/.test(word));
    if (bad !== undefined) return { problem: `a line break in ${JSON.stringify(bad)}: PMI-1's spawn command is one word a line` };
    const info: [string, string][] = [['wdir', cwd], ...(command.hosts.length > 0 ? [['host', command.hosts.join(',')] as [string, string]] : [])];
    lines.push('mcmd=spawn', `nprocs=${command.maxprocs}`, `execname=${env.length > 0 ? 'env' : node.execPath}`,
      `totspawns=${commands.length}`, `spawnssofar=${i + 1}`, `argcnt=${argv.length}`, ...argv.map((arg, k) => `arg${k + 1}=${arg}`),
      `preput_num=${preputs.length}`, ...preputs.flatMap(([key, value], k) => [`preput_key_${k}=${key}`, `preput_val_${k}=${value}`]),
      `info_num=${info.length}`, ...info.flatMap(([key, value], k) => [`info_key_${k}=${key}`, `info_val_${k}=${value}`]), 'endcmd');
  }
  return { lines };
}

/** Lines of a socket, each bounded, in order; the socket's end or error fails the waiting read. */
class LineReader {
  private buffered: Buffer = Buffer.alloc(0);
  private waiter: { max: number; resolve(line: string): void; reject(err: Error): void } | null = null;
  private failure: Error | null = null;

  constructor(socket: Socket, what: string) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      this.serve();
    });
    const end = (err?: Error): void => this.fail(new JobError(`${what} ${err === undefined ? 'closed' : `failed: ${err.message}`}`));
    socket.on('error', end);
    socket.on('close', () => end());
  }

  next(max: number): Promise<string> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = { max, resolve, reject };
      this.serve();
    });
  }

  private serve(): void {
    const waiter = this.waiter;
    if (waiter === null) return;
    const newline = this.buffered.indexOf(10);
    if (newline < 0 && this.buffered.length <= waiter.max) return;
    this.waiter = null;
    if (newline < 0 || newline > waiter.max) {
      waiter.reject(new JobError(`a line longer than ${waiter.max} bytes`));
      return;
    }
    const line = this.buffered.subarray(0, newline).toString();
    this.buffered = this.buffered.subarray(newline + 1);
    waiter.resolve(line);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.reject(err);
  }
}

const CHILD_LABEL = 'spawn-C';
const ROOT_LABEL = 'spawn-S';

/**
 * The parent root's end (steps 1, 3 and 4 of the module's header): listens
 * until child 0 has proved the key and sent its world's addresses.
 */
export class SpawnRendezvous {
  readonly nonce = randomBytes(16).toString('hex');
  private child: Socket | null = null;

  private constructor(private readonly server: Server, readonly port: number, private readonly key: Buffer, private readonly base: number,
    private readonly count: number) {}

  /** Listens on `host`: a port of `portRange` (MPI4TS_PORT_RANGE, as the peer listeners), else any free one. */
  static async open(host: string, portRange: readonly [number, number] | null, key: Buffer, base: number, count: number): Promise<SpawnRendezvous> {
    const [first, last] = portRange ?? [0, 0];
    let lastError: Error | null = null;
    for (let port = first; port <= last; port++) {
      try {
        const [server, bound] = await listenOn(host, port);
        return new SpawnRendezvous(server, bound, key, base, count);
      } catch (err) {
        lastError = err as Error;
      }
    }
    const where = portRange === null ? host : `${host}, ports ${first}-${last} (MPI4TS_PORT_RANGE)`;
    throw new JobError(`cannot listen on ${where} for the children: ${lastError?.message ?? ''}`);
  }

  /**
   * The children's addresses, by universe index, once child 0 proved the
   * key; rejects after `timeoutMs`. A connection that fails the proof is
   * dropped and the wait goes on: the port may face the network.
   */
  children(timeoutMs: number): Promise<PeerAddress[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.close();
        reject(new JobError(`the ${this.count} child process(es) did not report to their parents within ${timeoutMs / 1000} s ` +
          '(does their program import mpi4ts? MPI4TS_SPAWN_TIMEOUT sets the limit)'));
      }, timeoutMs);
      this.server.on('connection', (socket) => {
        socket.on('error', () => {});
        const dropAfter = setTimeout(() => socket.destroy(), PROOF_MS).unref();
        const lines = new LineReader(socket, 'the connection from child 0');
        void (async () => {
          const proof = await lines.next(PROOF_LINE_MAX);
          if (this.child !== null || !proofMatches(proofOf(this.key, CHILD_LABEL, this.nonce, this.base), Buffer.from(proof, 'hex'))) {
            throw new JobError('a connection failed the job key proof');
          }
          clearTimeout(dropAfter);
          this.child = socket;
          const table = checkedTable(JSON.parse(await lines.next(TABLE_LINE_MAX)) as unknown, this.base, this.count);
          clearTimeout(timer);
          this.server.close();
          resolve(table);
        })().catch((err: unknown) => {
          clearTimeout(dropAfter);
          socket.destroy();
          if (this.child !== socket) return;
          // Child 0 itself went wrong: its world cannot join.
          clearTimeout(timer);
          this.close();
          reject(new JobError(`child 0 sent no address table: ${(err as Error).message}`));
        });
      });
    });
  }

  /** Step 4: every parent knows the children; the root proves the key back and sends the parents' addresses. */
  go(parents: readonly PeerAddress[]): void {
    const child = this.child;
    if (child === null) return;
    child.end(`${JSON.stringify({ proof: proofOf(this.key, ROOT_LABEL, this.nonce, this.base).toString('hex'), parents })}\n`);
    this.server.close();
  }

  close(): void {
    this.server.close();
    this.child?.destroy();
  }
}

function listenOn(host: string, port: number): Promise<[Server, number]> {
  const server = createServer({ noDelay: true });
  server.maxConnections = MAX_CONNECTIONS;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve([server, typeof address === 'object' && address !== null ? address.port : 0]);
    });
  });
}

function checkedTable(table: unknown, base: number, count: number): PeerAddress[] {
  if (!Array.isArray(table) || table.length !== count) throw new JobError(`expected ${count} addresses, got ${Array.isArray(table) ? table.length : 'none'}`);
  table.forEach((address: unknown, i) => {
    if (typeof address !== 'object' || address === null || (address as PeerAddress).rank !== base + i) {
      throw new JobError(`address ${i} is not that of universe index ${base + i}`);
    }
  });
  return table as PeerAddress[];
}

/**
 * Child 0's end (steps 3 and 4): proves the key to the parent root, sends
 * its world's addresses, and resolves with the parents' once the root has
 * proved the key back.
 */
export async function joinParents(preput: ParentPreput, key: Buffer, children: readonly PeerAddress[]): Promise<PeerAddress[]> {
  const where = `the parent root at ${preput.host}:${preput.port}`;
  const socket = connect({ host: preput.host, port: preput.port, noDelay: true });
  const lines = new LineReader(socket, `the connection to ${where}`);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', (err) => reject(new JobError(`spawned process: cannot reach ${where}: ${err.message}`)));
  });
  socket.write(`${proofOf(key, CHILD_LABEL, preput.nonce, preput.base).toString('hex')}\n${JSON.stringify(children)}\n`);
  let answer: { proof?: unknown; parents?: unknown };
  try {
    answer = JSON.parse(await lines.next(TABLE_LINE_MAX)) as typeof answer;
  } catch (err) {
    throw new JobError(`spawned process: ${where} sent no parents' addresses: ${(err as Error).message}`);
  }
  socket.destroy();
  if (!proofMatches(proofOf(key, ROOT_LABEL, preput.nonce, preput.base), Buffer.from(String(answer.proof), 'hex'))) {
    throw new JobError(`spawned process: ${where} failed the job key proof`);
  }
  const group = new Set(preput.group);
  if (!Array.isArray(answer.parents) || !answer.parents.every((p: PeerAddress) => typeof p === 'object' && p !== null && group.has(p.rank))) {
    throw new JobError(`spawned process: ${where} sent addresses that are not its group's`);
  }
  return answer.parents as PeerAddress[];
}

/** The preput's value read back by a child, checked; throws naming what is wrong. */
export function parentPreputOf(text: string): ParentPreput {
  let value: Partial<ParentPreput>;
  try {
    value = JSON.parse(text) as Partial<ParentPreput>;
  } catch (err) {
    throw new JobError(`PMI-1: the spawn's ${PARENT_PREPUT} is not JSON: ${(err as Error).message}`);
  }
  const ok = typeof value.key === 'string' && /^[0-9a-f]{64}$/.test(value.key) && Number.isInteger(value.base) && value.base! >= 1 &&
    Array.isArray(value.group) && value.group.every((u) => Number.isInteger(u) && u >= 0) && Number.isInteger(value.context) &&
    typeof value.host === 'string' && Number.isInteger(value.port) && typeof value.nonce === 'string';
  if (!ok) throw new JobError(`PMI-1: the spawn's ${PARENT_PREPUT} is malformed: ${text.slice(0, 200)}`);
  return value as ParentPreput;
}

/** What the root's spawn needs of the PMI-1 connection. */
export interface PmiSpawnChannel {
  /** Sends the lines of `mcmd=spawn`; resolves once Hydra answered spawn_result rc=0, else rejects with its answer. */
  spawn(lines: readonly string[]): Promise<void>;
  /** The preput's value, cut into store entries (KvsBootstrap's chunking, so a child reads it back as any value). */
  chunks(name: string, rank: number, text: string): [string, string][];
}

/**
 * The parent root's spawns under Hydra (steps 1, 3 and 4 of the module's
 * header), each by its request id until its spawnGo. PMI-1 is one request
 * and its answer at a time; two spawns of one process never overlap on it,
 * as communicator creations in a process run one after the other
 * (comm/create.ts).
 */
export class Pmi1Spawner {
  private readonly pending = new Map<number, { rendezvous: SpawnRendezvous; parents: readonly PeerAddress[] }>();

  constructor(private readonly channel: PmiSpawnChannel) {}

  /** Never rejects: a problem is the reply, as the launcher's is. */
  async spawn(request: SpawnRequest, parents: SpawnParents, key: Buffer, advertiseHost: string): Promise<SpawnReply> {
    const count = request.commands.reduce((sum, c) => sum + c.maxprocs, 0);
    const base = parents.extent;
    let rendezvous: SpawnRendezvous;
    try {
      rendezvous = await SpawnRendezvous.open(advertiseHost, optionsOf(process.env).portRange, key, base, count);
    } catch (err) {
      return { id: request.id, error: (err as Error).message };
    }
    const preput: ParentPreput = {
      key: key.toString('hex'), base, group: request.parentGroup, context: request.context, host: advertiseHost, port: rendezvous.port, nonce: rendezvous.nonce,
    };
    const command = spawnCommandLines(request.commands, this.channel.chunks(PARENT_PREPUT, 0, JSON.stringify(preput)), request.cwd,
      { execPath: process.execPath, execArgv: process.execArgv });
    try {
      if ('problem' in command) throw new JobError(command.problem);
      await this.channel.spawn(command.lines);
      const table = await rendezvous.children(optionsOf(process.env).spawnTimeoutMs);
      this.pending.set(request.id, { rendezvous, parents: parents.addresses });
      return { id: request.id, base, table };
    } catch (err) {
      rendezvous.close();
      return { id: request.id, error: (err as Error).message };
    }
  }

  /** Every parent knows the children of spawn `id`: they may have the parents' addresses (and dial them). */
  go(id: number): void {
    const spawn = this.pending.get(id);
    if (spawn === undefined) return;
    this.pending.delete(id);
    spawn.rendezvous.go(spawn.parents);
  }
}
