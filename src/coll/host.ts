/**
 * Small collectives on the host's board (p2p/host-board.ts; DESIGN.md
 * "Collectives on one host"): barrier, bcast of a small value, allreduce of
 * a number and allreduceInto of at most BOARD_PAYLOAD_BYTES.
 *
 * Each call is one BoardWork: the entry this rank publishes (what the call
 * is, its data) and what it makes of every member's entry. The ranks run it
 * on the board only when every entry says the same call with the same
 * arguments; otherwise every rank, seeing the same entries, returns
 * MESSAGES and runs the call's message algorithm under the same call
 * number, whose checks then say what is wrong (a mismatch, a bad
 * argument) exactly as without the board. A call of any other kind
 * publishes a MESSAGES entry (messagesWork), so no rank waits on the board
 * for a rank that went the messages' way.
 *
 * Results are alike on every rank: each reduces the members' entries in
 * rank order, so even floating-point sums agree to the last bit.
 *
 * # Unfinished features
 * - No scatter, gather or allgather on the board: their data outgrow an
 *   entry quickly; they run by messages.
 */
import { BytesOwner, decode, encode } from '../codec/index.js';
import { BOARD_PAYLOAD_BYTES, BY_MESSAGES, type BoardEntries, type BoardWork, type ByMessages, type ViewType } from '../p2p/index.js';
import type { Op, TypedArray } from './op.js';
import { kernelFor, type KernelOp } from './kernels.js';
import { IN_PLACE } from './buffer.js';

/** What a call's work returns when the ranks must take the messages' path instead. */
const MESSAGES: ByMessages = BY_MESSAGES;

/** The kind of call an entry holds: its low four bits. */
const Kind = { MESSAGES: 1, BARRIER: 2, BCAST: 3, ALLREDUCE: 4, ALLREDUCE_INTO: 5 } as const;
/** A bcast root's flag: the value is too large for an entry, and goes by messages. */
const TOO_LARGE = 1 << 12;

const KERNEL_OPS: readonly KernelOp[] = ['SUM', 'PROD', 'MAX', 'MIN', 'LAND', 'LOR', 'LXOR', 'BAND', 'BOR', 'BXOR'];
/** Element types an entry may carry, by their code (their index + 1). */
const ELEMENT_TYPES = [Float64Array, Float32Array, Int32Array, Uint32Array, Int16Array, Uint16Array, Int8Array, Uint8Array,
  BigInt64Array, BigUint64Array] as const;

/** The op's code in an entry (1-10), or 0 for an op the board does not reduce (user ops, MAXLOC, MINLOC). */
function opCode(op: Op): number {
  return op.isPredefined ? KERNEL_OPS.indexOf(op.name as KernelOp) + 1 : 0;
}

/** The entry of a call that runs by messages: one object for every such call. */
export const messagesWork: BoardWork<never> = { code: Kind.MESSAGES, aux: 0, fill: null, readsBoard: false, waitsFor: -1, complete: () => MESSAGES };

/** Whether every member's entry holds `code` and `aux`. */
function agree(entries: BoardEntries, code: number, aux: number): boolean {
  for (let r = 0; r < entries.size; r++) if (entries.code(r) !== code || entries.aux(r) !== aux) return false;
  return true;
}

/** barrier: an entry that says so, and nothing to read; one object for every call. */
export const barrierWork: BoardWork<undefined> = {
  code: Kind.BARRIER, aux: 0, fill: null, readsBoard: true, waitsFor: -1,
  complete: (entries) => (agree(entries, Kind.BARRIER, 0) ? undefined : MESSAGES),
};

/**
 * bcast: the root's entry holds the encoded value and its payload type
 * (bits 4-11 of its code), or TOO_LARGE, and every rank then goes by
 * messages. As a message bcast, it does not synchronise: the root goes on
 * once its entry is out, and each other rank waits for the root's entry
 * alone and decodes a copy (the entry is reused later). A rank whose call
 * is not this bcast sees it in the root's entry and goes by messages, where
 * a wrong program then waits (the deadlock check names the calls) instead of
 * failing with a mismatch.
 */
export function bcastWork<T>(value: T, root: number, rank: number): BoardWork<T> {
  return new BcastWork(value, root, rank);
}

/** A class, not an object of closures: one allocation a call on the latency path. */
class BcastWork<T> implements BoardWork<T> {
  readonly code: number = Kind.BCAST;
  readonly readsBoard = true;
  readonly waitsFor: number;
  readonly aux: number;
  readonly fill: ((area: Uint8Array) => number) | null = null;
  /** The root's encoded value, or null. */
  private bytes: Uint8Array | null = null;
  /** Whether `bytes` is the encoder's scratch (or the caller's array), valid only until the next encode. */
  private borrowed = false;

  constructor(private readonly value: T, private readonly root: number, private readonly rank: number) {
    this.aux = root;
    this.waitsFor = root;
    if (rank !== root) return;
    let encoded: ReturnType<typeof encode> | null = null;
    try {
      encoded = encode(value);
    } catch {
      // The messages' path says why it cannot be sent, to every rank.
    }
    if (encoded === null || encoded.bytes.byteLength > BOARD_PAYLOAD_BYTES || encoded.type > 0xff) {
      this.code |= TOO_LARGE;
      return;
    }
    this.code |= encoded.type << 4;
    this.bytes = encoded.bytes;
    this.borrowed = encoded.owner !== BytesOwner.FRESH;
    this.fill = this.copyIn;
  }

  /** The call waits behind others before its entry is filled: the bytes are copied now, as the value was. */
  hold(): void {
    if (this.bytes === null || !this.borrowed) return;
    this.bytes = this.bytes.slice();
    this.borrowed = false;
  }

  private readonly copyIn = (area: Uint8Array): number => {
    const bytes = this.bytes!;
    const n = bytes.length;
    // A loop: TypedArray.prototype.set costs more than the copy for a few dozen bytes.
    for (let i = 0; i < n; i++) area[i] = bytes[i]!;
    return n;
  };

  complete(entries: BoardEntries): T | ByMessages {
    const root = this.root;
    const rootCode = entries.code(root);
    if ((rootCode & 0xf) !== Kind.BCAST || entries.aux(root) !== root || (rootCode & TOO_LARGE) !== 0) return MESSAGES;
    if (this.rank === root) return this.value;
    return decode((rootCode >> 4) & 0xff, entries.view(root, Uint8Array).subarray(0, entries.length(root)), false) as T;
  }
}

/**
 * allreduce of a number under a predefined op: each entry an 8-byte double,
 * combined in rank order. Anything else (bigints, arrays, user ops) goes by
 * messages.
 */
export function allreduceWork<T>(value: T, op: Op): BoardWork<T> {
  const opId = opCode(op);
  if (typeof value !== 'number' || opId === 0 || op.problem(value) !== null) return messagesWork;
  const code = Kind.ALLREDUCE | (opId << 4);
  return {
    code, aux: 0, readsBoard: true, waitsFor: -1,
    fill: (area, entries) => {
      entries.view(entries.rank, Float64Array)[0] = value;
      return 8;
    },
    complete: (entries) => {
      if (!agree(entries, code, 0)) return MESSAGES;
      let acc: unknown = entries.view(0, Float64Array)[0];
      for (let r = 1; r < entries.size; r++) acc = op.combine(acc, entries.view(r, Float64Array)[0]);
      return acc as T;
    },
  };
}

/**
 * allreduceInto of at most BOARD_PAYLOAD_BYTES of a built-in typed array
 * under a predefined op: each entry this rank's sendbuf, reduced in rank
 * order into recvbuf. Any argument the messages' path would refuse (another
 * type or length of recvbuf, overlap, an op that cannot take the type) or
 * any other shape goes by messages, which say so.
 */
export function allreduceIntoWork<A extends TypedArray>(sendbuf: unknown, recvbuf: unknown, op: Op): BoardWork<A> {
  const recv = recvbuf as A;
  const send = (sendbuf === IN_PLACE ? recvbuf : sendbuf) as A;
  const type = typeCode(recv);
  const opId = opCode(op);
  if (type === 0 || opId === 0 || typeCode(send) !== type || send.length !== recv.length || recv.byteLength > BOARD_PAYLOAD_BYTES
    || recv.length === 0 || (send !== recv && overlaps(send, recv)) || op.problem(recv) !== null) {
    return messagesWork;
  }
  const code = Kind.ALLREDUCE_INTO | (opId << 4) | (type << 8);
  const ctor = ELEMENT_TYPES[type - 1]! as unknown as ViewType<A>;
  const kernel = kernelFor(KERNEL_OPS[opId - 1]!, ctor as unknown as { name: string });
  const n = recv.length;
  return {
    code, aux: recv.byteLength, readsBoard: true, waitsFor: -1,
    fill: (_area, entries) => {
      const own = entries.view(entries.rank, ctor);
      for (let i = 0; i < n; i++) own[i] = send[i]!;
      return recv.byteLength;
    },
    complete: (entries) => {
      if (!agree(entries, code, recv.byteLength)) return MESSAGES;
      const first = entries.view(0, ctor);
      for (let i = 0; i < n; i++) recv[i] = first[i]!;
      for (let r = 1; r < entries.size; r++) kernel(recv, entries.view(r, ctor));
      return recv;
    },
  };
}

/** The code of a built-in typed array's type (1..), or 0 for anything else (a subclass such as Buffer included). */
function typeCode(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const proto = Object.getPrototypeOf(value) as { constructor?: unknown } | null;
  const ctor = proto?.constructor;
  for (let i = 0; i < ELEMENT_TYPES.length; i++) if (ctor === ELEMENT_TYPES[i]) return i + 1;
  return 0;
}

function overlaps(a: TypedArray, b: TypedArray): boolean {
  return a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

