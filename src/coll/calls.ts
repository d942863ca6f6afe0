/**
 * What every message of a collective call carries of the call
 * (FrameHeader.collective, 32 bits): which call it is and the arguments
 * that must agree on every rank, so that ranks that reach the same call
 * number with different calls fail with an error that says so, instead of
 * reading each other's data as their own.
 *
 *   bits  0-7   the call's code (CODES below; 0 is point-to-point)
 *   bits  8-11  the op of a reduction: 1-12 the predefined ones, 13 any user op
 *   bits 12-15  the element type of a buffer call's typed arrays (TYPES below)
 *   bits 16-31  the root + 1 of a rooted call; otherwise the count + 1 of a
 *               buffer call whose counts must agree (0xffff: 65534 or more)
 *
 * A field of 0 is open: the call has no such argument, or this rank could
 * not read it (a bad buffer, whose failure travels in place of its data).
 * Two words match when their codes are equal and every field is equal or
 * open on one side (sameCall): the engine compares words first, so a
 * correct program pays one integer comparison per message, and the fields
 * are read only when the words differ. Codes are on the wire: add, never
 * renumber.
 *
 * # Unfinished features
 * - A rooted buffer call (bcastInto, reduceInto, gatherInto, scatterInto)
 *   carries its root and element type, not its count: a count that differs
 *   is found where the part lands (ERR_TRUNCATE, ERR_COUNT).
 * - Counts past 65533, roots past 65534 and user ops are compared only
 *   as far as the field holds them (two user ops always match).
 * - A call added to the folder (index.ts lists those missing) takes a new code here.
 */
import { typedArrayTypeOf } from '../codec/index.js';
import type { Op } from './op.js';

const CODES: Record<string, number> = {
  barrier: 1,
  bcast: 2,
  scatter: 3,
  gather: 4,
  allgather: 5,
  alltoall: 6,
  reduce: 7,
  // The same call in MPI (MPI_Allreduce), and the same messages here.
  allreduce: 8,
  allreduceInto: 8,
  scan: 9,
  exscan: 10,
  gatherv: 11,
  scatterv: 12,
  allgatherv: 13,
  reduceScatter: 14,
  dup: 15,
  split: 16,
  splitType: 17,
  createCart: 18,
  // The buffer forms (buffers.ts): the same MPI calls as their value forms, other messages.
  bcastInto: 19,
  reduceInto: 20,
  gatherInto: 21,
  scatterInto: 22,
  allgatherInto: 23,
  alltoallInto: 24,
  alltoallv: 25,
  alltoallw: 26,
  scanInto: 27,
  exscanInto: 28,
  reduceScatterBlockInto: 29,
  reduceScatterInto: 30,
  gathervInto: 31,
  scattervInto: 32,
  allgathervInto: 33,
  create: 34,
  createGroup: 35,
  // Intercommunicators (comm/intercomm.ts); 36-39 left to another change. Their
  // collectives (barrier, bcast, ...) keep their calls' codes: they run in the
  // intercommunicator's own contexts.
  createIntercomm: 40,
  merge: 41,
  disconnect: 42,
};

/**
 * A nonblocking collective (ibcast) matches only its own kind on the other
 * ranks (MPI 4.1 section 6.12: never a blocking call): its code is the
 * blocking call's plus this.
 */
const NONBLOCKING = 100;

const NAMES = new Map<number, string>();
for (const [name, code] of Object.entries(CODES)) if (!NAMES.has(code)) NAMES.set(code, name);

/** The code of a collective call by its name (a code of 255 for one not listed). */
export function collectiveCode(call: string): number {
  const code = CODES[call];
  if (code !== undefined) return code;
  const blocking = call.startsWith('i') ? CODES[call[1]!.toLowerCase() + call.slice(2)] : undefined;
  return blocking === undefined ? 255 : blocking + NONBLOCKING;
}

/** The call a code stands for, for errors. */
export function collectiveName(code: number): string {
  if (code === 0) return 'a point-to-point message';
  const blocking = code > NONBLOCKING ? NAMES.get(code - NONBLOCKING) : undefined;
  if (blocking !== undefined) return `i${blocking}`;
  return NAMES.get(code) ?? `collective call ${code}`;
}

/** Reductions' ops by field value (bits 8-11); 13 stands for every user op. */
const OPS = ['', 'SUM', 'PROD', 'MAX', 'MIN', 'LAND', 'LOR', 'LXOR', 'BAND', 'BOR', 'BXOR', 'MAXLOC', 'MINLOC'];
const USER_OP = 13;

/** Element types by field value (bits 12-15). */
const TYPES = ['', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array'];

// Every call makes a word: maps, not searches of the lists above (a one-rank allreduce takes well under a microsecond).
const OP_FIELDS = new Map<string, number>(OPS.map((name, field) => [name, field]));
const TYPE_FIELDS = new Map<unknown, number>(TYPES.map((name, field) => [(globalThis as Record<string, unknown>)[name], field]));

const FIELD_FULL = 0xffff;
const CODE_BITS = 0x100;
const OP_AT = 0x100;
const TYPE_AT = 0x1000;
const EXTENT_AT = 0x1_0000;

/**
 * The word a call's messages carry (the layout above). `root` < 0: no root;
 * `op` null: no op; `buf`: the buffer argument (a typed array or `{ buf,
 * offset, count }`, as passed) whose element type must agree, or undefined;
 * `blocks`: it holds that many equal blocks, one block being the count that
 * must agree (0: only its type must).
 */
export function callSignature(call: string, root = -1, op: Op | null = null, buf?: unknown, blocks = 1): number {
  const code = collectiveCode(call);
  const opField = op === null ? 0 : op.isPredefined ? OP_FIELDS.get(op.name) ?? 0 : USER_OP;
  let typeField = 0;
  let extent = root >= 0 ? Math.min(root + 1, FIELD_FULL) : 0;
  if (buf !== undefined) {
    // A whole typed array first: the usual argument, one isView and one map look-up (a DataView's type is none).
    const whole = ArrayBuffer.isView(buf);
    const field = whole ? typeOfView(buf) : isPart(buf) && ArrayBuffer.isView(buf.buf) ? typeOfView(buf.buf) : 0;
    if (field !== 0) {
      typeField = field;
      const count = whole ? (buf as unknown as { length: number }).length : countOfPart(buf as Part);
      if (root < 0 && blocks > 0 && count >= 0 && count % blocks === 0) extent = Math.min(count / blocks + 1, FIELD_FULL);
    }
  }
  // Arithmetic rather than bit operators: these keep the word a non-negative 32-bit number.
  return code + opField * OP_AT + typeField * TYPE_AT + extent * EXTENT_AT;
}

/** The element type's field value of a view; a subclass (Buffer) by the built-in type it extends; 0 for a DataView. */
function typeOfView(view: ArrayBufferView): number {
  return TYPE_FIELDS.get(view.constructor) ?? TYPE_FIELDS.get(typedArrayTypeOf(view)) ?? 0;
}

/** `{ buf, offset, count }`, as a caller passed it: nothing checked yet. */
interface Part {
  buf: unknown;
  offset?: unknown;
  count?: unknown;
}

function isPart(arg: unknown): arg is Part {
  return typeof arg === 'object' && arg !== null && 'buf' in arg;
}

/** The count of a part whose buffer is a typed array; -1 for a count the call will refuse. */
function countOfPart(part: Part): number {
  const count = part.count ?? (part.buf as { length: number }).length - (typeof part.offset === 'number' ? part.offset : 0);
  return typeof count === 'number' && Number.isInteger(count) && count >= 0 ? count : -1;
}

interface Fields {
  code: number;
  op: number;
  type: number;
  extent: number;
}

function fieldsOf(word: number): Fields {
  return { code: word % CODE_BITS, op: (word >>> 8) & 0xf, type: (word >>> 12) & 0xf, extent: word >>> 16 };
}

/**
 * Whether two different words still name one call: the same code, and each
 * field equal or open (0) on one side. (Counts both past the field are equal
 * words already, 0xffff.)
 */
export function sameCall(mine: number, theirs: number): boolean {
  const a = fieldsOf(mine);
  const b = fieldsOf(theirs);
  const agree = (x: number, y: number): boolean => x === y || x === 0 || y === 0;
  return a.code === b.code && agree(a.op, b.op) && agree(a.type, b.type) && agree(a.extent, b.extent);
}

const ROOTED = new Set(['bcast', 'scatter', 'gather', 'reduce', 'gatherv', 'scatterv', 'bcastInto', 'reduceInto', 'gatherInto',
  'scatterInto', 'gathervInto', 'scattervInto']);

/** A word's call by name alone (`barrier`, `reduce`), for hang reports, which name the call and its number. */
export function callName(word: number): string {
  return collectiveName(fieldsOf(word).code);
}

/**
 * A word as the user's call with the arguments it carries, for errors:
 * `bcast(root=0)`, `allreduceInto(Float64Array(10), SUM)`, `barrier()`.
 */
export function describeCall(word: number): string {
  const f = fieldsOf(word);
  let name = collectiveName(f.code);
  // allreduce and allreduceInto share their code (the same messages): the buffer form is the one with an element type.
  if (f.type !== 0 && /^i?allreduce$/.test(name)) name += 'Into';
  // No blocking call's name starts with an i.
  const rooted = ROOTED.has(name.startsWith('i') ? name.slice(1) : name);
  const args: string[] = [];
  if (f.type !== 0) {
    const type = TYPES[f.type] ?? `element type ${f.type}`;
    if (rooted || f.extent === 0) args.push(type);
    else args.push(`${type}(${f.extent === FIELD_FULL ? `${FIELD_FULL - 1} or more` : f.extent - 1})`);
  }
  if (f.op !== 0) args.push(f.op === USER_OP ? 'a user op' : OPS[f.op] ?? `op ${f.op}`);
  if (rooted && f.extent !== 0) args.push(`root=${f.extent === FIELD_FULL ? `${FIELD_FULL - 1} or more` : f.extent - 1}`);
  return `${name}(${args.join(', ')})`;
}

/**
 * The words of a mismatch: `rank 1 called reduce(SUM, root=0) where rank 0
 * called bcast(root=0)`; the caller adds where ("as collective #7 on COMM_WORLD").
 */
export function mismatchWords(mine: number, theirs: number, rank: number, peer: number): string {
  return `rank ${rank} called ${describeCall(mine)} where rank ${peer} called ${describeCall(theirs)}`;
}
