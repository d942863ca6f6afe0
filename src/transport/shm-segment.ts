/**
 * Shared memory between the ranks of one host (DESIGN.md "Transports").
 *
 * Each rank owns an inbox: an anonymous memory file (memfd_create) holding
 * one ring per other local rank, which that rank writes and the owner reads.
 * Peers open it through /proc/<owner pid>/fd/<fd> and map it. The file has no
 * name anywhere (nothing in /dev/shm), so a rank killed at any moment leaves
 * nothing behind: the kernel frees the memory with the last mapping. A
 * POSIX shm_open segment would need a handshake to shm_unlink it after every
 * rank mapped it, and would leak when a rank dies inside that window.
 *
 * Layout: a 4096-byte header, the owner's board slot (shm-board.ts), then
 * `ringCount` rings of a fixed stride.
 *
 *     0 i32 magic "mpi4"     16 i32 ready (1 once sized and filled in)
 *     4 i32 layout version   64 i32 asleep (1: the owner does not poll; ring its doorbell)
 *     8 i32 owner rank      128 32 bytes token, HMAC(job key, rank and pid): proves the
 *    12 i32 ring count              file is the owner's and not a reused pid's
 *    20 i32 ring capacity   192 i32 board (0 not yet known, 1 the owner meets its local
 *                                   peers on the board, 2 it does not: shm-board.ts)
 *
 * koffi (an optional dependency) calls libc; without it, or where memfd or
 * /proc is unavailable, ranks use Unix sockets.
 *
 * # Unfinished features
 * - Linux only (memfd_create, /proc/<pid>/fd): no POSIX shm_open or System V
 *   segment for other systems.
 * - Ranks that cannot open each other's /proc/<pid>/fd (other users, other
 *   PID namespaces, e.g. one container each) use sockets, not shared memory.
 * - No NUMA placement: the kernel puts each page where it is first touched.
 */
import { createHmac } from 'node:crypto';
import { closeSync, fstatSync, openSync } from 'node:fs';
import { loadOnce, openLibc, ProtocolError } from '../base/index.js';
import { checkRingCapacity, Ring, ringBytes } from './shm-ring.js';
import { BOARD_BYTES, BoardSlot } from './shm-board.js';

const MAGIC = 0x3469_706d; // "mpi4" little-endian
// 2: the board slot after the header.
const LAYOUT_VERSION = 2;
const HEADER_BYTES = 4096;
/** The header and the board slot: what a peer maps besides its ring. */
const FRONT_BYTES = HEADER_BYTES + BOARD_BYTES;
const I_MAGIC = 0;
const I_VERSION = 1;
const I_OWNER = 2;
const I_RINGS = 3;
const I_READY = 4;
const I_CAPACITY = 5;
const I_ASLEEP = 16;
const I_BOARD = 48;
const TOKEN_OFFSET = 128;
const TOKEN_BYTES = 32;

const PROT_READ_WRITE = 0x3;
const MAP_SHARED = 0x1;
const MFD_CLOEXEC = 0x1;

/** The libc calls we need, bound once. */
export interface ShmLib {
  memfdCreate(name: string): number;
  truncate(fd: number, size: number): void;
  /** Maps `size` bytes of the file from `offset` (a multiple of the page size). */
  map(fd: number, size: number, offset?: number): ArrayBuffer;
  /** sched_yield: lets another runnable process (the peer, on a loaded host) have this core. */
  yieldCpu(): void;
}

/** libc through koffi, or the reason shared memory is unavailable here. */
export const loadShmLib = loadOnce(bindLibc);

function bindLibc(): ShmLib {
  const { koffi, libc, yieldCpu } = openLibc('shared memory (memfd_create, /proc)');
  const memfdCreate = libc.func('int memfd_create(const char *name, unsigned int flags)');
  const ftruncate = libc.func('int ftruncate(int fd, int64_t length)');
  const mmap = libc.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)');
  const failed = (call: string): never => {
    throw new Error(`${call} failed: errno ${koffi.errno()}`);
  };
  return {
    memfdCreate: (name) => {
      const fd = memfdCreate(name, MFD_CLOEXEC) as number;
      return fd < 0 ? failed('memfd_create') : fd;
    },
    truncate: (fd, size) => {
      if ((ftruncate(fd, size) as number) !== 0) failed(`ftruncate(${size})`);
    },
    map: (fd, size, offset = 0) => {
      const pointer: unknown = mmap(null, size, PROT_READ_WRITE, MAP_SHARED, fd, offset);
      const address = pointer === null ? 0n : koffi.address(pointer);
      if (address === 0n || address === BigInt.asUintN(64, -1n) || address === 0xffff_ffffn) failed(`mmap(${size} bytes)`);
      // Never unmapped: views into it may live as long as the process.
      return koffi.view(pointer, size);
    },
    yieldCpu,
  };
}

/** Bytes from one ring to the next: whole pages, so rings never share a cache line. */
function ringStride(capacity: number): number {
  return Math.ceil(ringBytes(capacity) / 4096) * 4096;
}

export function segmentBytes(ringCount: number, capacity: number): number {
  return FRONT_BYTES + ringCount * ringStride(capacity);
}

export function inboxToken(key: Buffer, rank: number, pid: number): Buffer {
  return createHmac('sha256', key).update(`mpi4ts-shm-inbox:${rank}:${pid}`).digest();
}

/** Where an inbox's rings are mapped: all of them after the header (the owner's), or one alone (a peer's). */
interface MappedRings {
  buffer: ArrayBuffer;
  /** Byte offset of ring `first` in `buffer`. */
  offset: number;
  first: number;
  count: number;
}

/** A mapped inbox, the owner's (header and every ring) or a peer's (header and the one ring it writes). */
export class Inbox {
  private readonly header: Int32Array;
  private readonly rings: MappedRings;

  /** `buffer` starts with the header; the rings follow it there unless `rings` says where one is. */
  constructor(readonly buffer: ArrayBuffer, readonly ringCount: number, readonly capacity: number, rings?: MappedRings) {
    this.header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.rings = rings ?? { buffer, offset: FRONT_BYTES, first: 0, count: ringCount };
    this.board = new BoardSlot(buffer, HEADER_BYTES);
  }

  /** The owner's slot on the host's board. */
  readonly board: BoardSlot;

  ring(index: number): Ring {
    if (index < 0 || index >= this.ringCount) throw new RangeError(`ring ${index} of ${this.ringCount}`);
    const { buffer, offset, first, count } = this.rings;
    if (index < first || index >= first + count) throw new RangeError(`ring ${index} is not mapped here (only ${first})`);
    return new Ring(buffer, offset + (index - first) * ringStride(this.capacity), this.capacity);
  }

  /** Owner: peers must (true) or need not (false) ring the doorbell after writing. */
  setAsleep(asleep: boolean): void {
    Atomics.store(this.header, I_ASLEEP, asleep ? 1 : 0);
  }

  /** Peer: true once per time the owner went to sleep; the caller then rings the doorbell. */
  takeAsleep(): boolean {
    return Atomics.load(this.header, I_ASLEEP) === 1 && Atomics.compareExchange(this.header, I_ASLEEP, 1, 0) === 1;
  }

  /**
   * Whether the owner meets its local peers on the board: 0 not known yet,
   * 1 yes (it mapped every local peer's slot and MPI4TS_HOST_COLL allows
   * it), 2 no. Each rank says so once, at start; a board is used only where
   * every member says 1, which every member reads alike.
   */
  get boardOffer(): number {
    return Atomics.load(this.header, I_BOARD);
  }

  /** Owner: boardOffer, once. */
  setBoardOffer(offer: 1 | 2): void {
    Atomics.store(this.header, I_BOARD, offer);
  }

  /** Owner: fills in the header of a freshly sized inbox; peers may attach from then on. */
  initialise(owner: number, token: Buffer): void {
    const h = this.header;
    h[I_MAGIC] = MAGIC;
    h[I_VERSION] = LAYOUT_VERSION;
    h[I_OWNER] = owner;
    h[I_RINGS] = this.ringCount;
    h[I_CAPACITY] = this.capacity;
    h[I_ASLEEP] = 1;
    new Uint8Array(this.buffer, TOKEN_OFFSET, TOKEN_BYTES).set(token.subarray(0, TOKEN_BYTES));
    Atomics.store(h, I_READY, 1);
  }

  /** Peer: throws unless this is the inbox described (right owner, job and shape). */
  verify(owner: number, token: Buffer): void {
    const h = this.header;
    const what = `shared-memory inbox of rank ${owner}`;
    if (h[I_MAGIC] !== MAGIC || h[I_VERSION] !== LAYOUT_VERSION) throw new ProtocolError(`${what}: not an mpi4ts inbox of layout ${LAYOUT_VERSION}`);
    if (h[I_OWNER] !== owner || !Buffer.from(this.buffer, TOKEN_OFFSET, TOKEN_BYTES).equals(token.subarray(0, TOKEN_BYTES))) {
      throw new ProtocolError(`${what}: owned by another rank or job (the pid was reused?)`);
    }
    if (h[I_RINGS] !== this.ringCount || h[I_CAPACITY] !== this.capacity) {
      throw new ProtocolError(`${what}: ${h[I_RINGS]} rings of ${h[I_CAPACITY]} bytes, expected ${this.ringCount} of ${this.capacity}`);
    }
  }

  get ready(): boolean {
    return Atomics.load(this.header, I_READY) === 1;
  }
}

/** This rank's inbox: the file exists from start-up, sized once the local ranks are known. */
export class OwnInbox {
  private inbox: Inbox | null = null;

  private constructor(private readonly lib: ShmLib, readonly fd: number) {}

  static create(lib: ShmLib, rank: number): OwnInbox {
    return new OwnInbox(lib, lib.memfdCreate(`mpi4ts-inbox-${rank}`));
  }

  /** Sizes and maps the inbox for `ringCount` writers. */
  open(owner: number, token: Buffer, ringCount: number, capacity: number): Inbox {
    checkRingCapacity(capacity);
    const size = segmentBytes(ringCount, capacity);
    this.lib.truncate(this.fd, size);
    const inbox = new Inbox(this.lib.map(this.fd, size), ringCount, capacity);
    inbox.initialise(owner, token);
    this.inbox = inbox;
    return inbox;
  }

  /** Closes the file; the memory lives on while anyone maps it. */
  close(): void {
    try {
      closeSync(this.fd);
    } catch {
      // Already closed.
    }
  }

  get mapped(): Inbox | null {
    return this.inbox;
  }
}

const waitCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Maps a peer's inbox: its header and the one ring this rank writes
 * (`ring`), not the whole file. Mapping every peer's whole inbox cost each
 * rank (ranks on the host)^2 ring sizes of address space, which V8 counts
 * as external memory: 128 ranks of one host spent most of their start-up in
 * garbage collection (`mpi4ts run -n 64 test/programs/scale.mjs`, 2 cores:
 * 38 s, 46 s of one rank's profile in the collector). The peer sizes its
 * inbox right after the address exchange, so a rank attaching at its first
 * send may wait a moment for it.
 */
export function attachInbox(lib: ShmLib, pid: number, fd: number, owner: number, token: Buffer,
  ringCount: number, capacity: number, ring: number, timeoutMs = 10_000): Inbox {
  if (!Number.isInteger(ring) || ring < 0 || ring >= ringCount) throw new RangeError(`ring ${ring} of ${ringCount}`);
  return attach(lib, pid, fd, owner, token, ringCount, capacity, ring, timeoutMs);
}

/**
 * Maps a peer's header and board slot alone (attachInbox's checks, no
 * ring): what a rank reads of every local peer for the host's board, at
 * start, whether or not it ever sends to that peer.
 */
export function attachFront(lib: ShmLib, pid: number, fd: number, owner: number, token: Buffer,
  ringCount: number, capacity: number, timeoutMs = 10_000): Inbox {
  return attach(lib, pid, fd, owner, token, ringCount, capacity, -1, timeoutMs);
}

function attach(lib: ShmLib, pid: number, fd: number, owner: number, token: Buffer,
  ringCount: number, capacity: number, ring: number, timeoutMs: number): Inbox {
  const path = `/proc/${pid}/fd/${fd}`;
  const expected = segmentBytes(ringCount, capacity);
  const handle = openSync(path, 'r+');
  try {
    const deadline = Date.now() + timeoutMs;
    // Blocks the event loop, but only until a peer that is already up finishes a call or two.
    while (fstatSync(handle).size < expected) {
      if (Date.now() > deadline) throw new ProtocolError(`shared-memory inbox of rank ${owner} (${path}) was not sized within ${timeoutMs} ms`);
      Atomics.wait(waitCell, 0, 0, 1);
    }
    const stride = ringStride(capacity);
    const rings = ring < 0 ? { buffer: new ArrayBuffer(0), offset: 0, first: 0, count: 0 }
      : { buffer: lib.map(handle, stride, FRONT_BYTES + ring * stride), offset: 0, first: ring, count: 1 };
    const inbox = new Inbox(lib.map(handle, FRONT_BYTES), ringCount, capacity, rings);
    while (!inbox.ready) {
      if (Date.now() > deadline) throw new ProtocolError(`shared-memory inbox of rank ${owner} (${path}) was not filled in within ${timeoutMs} ms`);
      Atomics.wait(waitCell, 0, 0, 1);
    }
    inbox.verify(owner, token);
    return inbox;
  } finally {
    closeSync(handle);
  }
}
