/**
 * Argument checks shared by the Comm calls. A message names the argument, its
 * value and what is allowed; given `call`, it starts with the user's call
 * (`send: dest 9 is out of range ...`), and the collectives prefix theirs
 * (Comm.collective). The name is composed only when a check fails, so the
 * send and receive paths build no string per message.
 *
 * # Unfinished features
 * None of its own: error handlers (MPI 4.1 section 9.3), which would decide
 * what a failed check does instead of throwing, are listed in comm.ts.
 */
import { ANY_SOURCE, ANY_TAG, PROC_NULL, ROOT, TAG_UB, MPIError } from '../base/index.js';
import { Op } from '../coll/index.js';

export function show(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => show(v)).join(', ')}]`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  return String(value);
}

/** The argument's name, after the call's when given: composed only for an error, not per message. */
function argName(what: string, call: string | undefined): string {
  return call === undefined ? what : `${call}: ${what}`;
}

function isInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

/**
 * dest of a send: 0..size-1 or PROC_NULL. `space` names what the ranks are
 * of: a communicator, or an intercommunicator's remote group (MPI 4.1
 * section 7.6: there dest and source name remote ranks).
 */
export function checkDest(dest: unknown, size: number, what = 'dest', call?: string, space = 'a communicator'): number {
  if (isInt(dest) && ((dest >= 0 && dest < size) || dest === PROC_NULL)) return dest;
  throw new MPIError('ERR_RANK', `${argName(what, call)} ${show(dest)} is out of range for ${space} of size ${size} (0..${size - 1}, or PROC_NULL)`);
}

/** source of a receive: 0..size-1, ANY_SOURCE or PROC_NULL; `space` as for checkDest. */
export function checkSource(source: unknown, size: number, what = 'source', call?: string, space = 'a communicator'): number {
  if (isInt(source) && ((source >= 0 && source < size) || source === PROC_NULL || source === ANY_SOURCE)) return source;
  throw new MPIError('ERR_RANK', `${argName(what, call)} ${show(source)} is out of range for ${space} of size ${size} (0..${size - 1}, ANY_SOURCE or PROC_NULL)`);
}

/** tag of a send: 0..TAG_UB. */
export function checkSendTag(tag: unknown, what = 'tag', call?: string): number {
  if (isInt(tag) && tag >= 0 && tag <= TAG_UB) return tag;
  throw new MPIError('ERR_TAG', `${argName(what, call)} ${show(tag)} is not a valid tag (an integer from 0 to TAG_UB = ${TAG_UB})`);
}

/** tag of a receive or probe: 0..TAG_UB or ANY_TAG. */
export function checkRecvTag(tag: unknown, what = 'tag', call?: string): number {
  if (isInt(tag) && ((tag >= 0 && tag <= TAG_UB) || tag === ANY_TAG)) return tag;
  throw new MPIError('ERR_TAG', `${argName(what, call)} ${show(tag)} is not a valid tag (an integer from 0 to TAG_UB = ${TAG_UB}, or ANY_TAG)`);
}

/** root of a collective: 0..size-1. */
export function checkRoot(root: unknown, size: number): number {
  if (isInt(root) && root >= 0 && root < size) return root;
  throw new MPIError('ERR_ROOT', `root ${show(root)} is out of range for a communicator of size ${size} (0..${size - 1})`);
}

/**
 * root of a collective on an intercommunicator (MPI 4.1 section 6.2.2):
 * ROOT at the root, PROC_NULL at the other ranks of its group, the root's
 * rank in the remote group (0..remoteSize-1) at the ranks of the other group.
 */
export function checkInterRoot(root: unknown, remoteSize: number): number {
  if (isInt(root) && ((root >= 0 && root < remoteSize) || root === ROOT || root === PROC_NULL)) return root;
  throw new MPIError('ERR_ROOT', `root ${show(root)} is not valid on an intercommunicator whose remote group has size ${remoteSize} ` +
    `(MPI.ROOT at the root, MPI.PROC_NULL at the other ranks of its group, the root's rank 0..${remoteSize - 1} in the other group)`);
}

export function checkBuffer(buf: unknown, what = 'buf', call?: string): void {
  if (ArrayBuffer.isView(buf) || buf instanceof ArrayBuffer) return;
  const kind = buf === null ? 'null' : typeof buf === 'object' ? (buf.constructor?.name ?? 'object') : typeof buf;
  throw new TypeError(`${argName(what, call)} must be a typed array, DataView, ArrayBuffer or Buffer, got ${kind}`);
}

/** Two buffers of one call that MPI says must not overlap (sendrecv's); ERR_BUFFER names both. */
export function checkDisjoint(a: ArrayBufferView | ArrayBuffer, b: ArrayBufferView | ArrayBuffer, call: string): void {
  const [bufA, startA, lengthA] = extent(a);
  const [bufB, startB, lengthB] = extent(b);
  if (bufA !== bufB || lengthA === 0 || lengthB === 0) return;
  if (startA < startB + lengthB && startB < startA + lengthA) {
    throw new MPIError('ERR_BUFFER', `${call}: sendbuf (bytes ${startA}..${startA + lengthA - 1}) and recvbuf (bytes ${startB}..${startB + lengthB - 1}) ` +
      'overlap in one ArrayBuffer; pass separate arrays, or use sendrecvReplace to send and receive in one');
  }
}

function extent(view: ArrayBufferView | ArrayBuffer): [ArrayBufferLike, number, number] {
  return view instanceof ArrayBuffer ? [view, 0, view.byteLength] : [view.buffer, view.byteOffset, view.byteLength];
}

/** op must be an MPI.Op (a plain function is not one: wrap it with MPI.Op.create). */
export function checkOp(op: unknown): void {
  if (!(op instanceof Op)) {
    const got = typeof op === 'function' ? 'a function (wrap it with MPI.Op.create)' : String(op);
    throw new TypeError(`op must be an MPI.Op such as MPI.SUM or one made by MPI.Op.create, got ${got}`);
  }
}
