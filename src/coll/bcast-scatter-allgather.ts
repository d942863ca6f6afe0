/**
 * bcastInto's two algorithms and the choice between them (MPI 4.1 section
 * 6.4 on buffers): the binomial tree (parts.ts bcastIntoBinomial) for short
 * buffers, and van de Geijn's scatter + allgather for long ones on three
 * ranks or more (as MPICH's scatter_ring_allgather): a binomial scatter of
 * the buffer's p parts, then a ring allgather of the parts in place. The
 * tree sends the whole buffer down each of its log2 p levels; the scatter +
 * allgather sends each rank 2(p-1)/p of it in all, for p - 1 + log2 p
 * latencies (model.ts bcastAlgorithm says from where it wins).
 *
 * Who chooses. Every rank passes the same count (MPI's rule), but a rank
 * whose buffer is bad does not know it, and one whose count is wrong knows
 * another: a choice made on each rank from its own buffer could leave ranks
 * in two patterns, waiting for messages that never come. So the root alone
 * chooses, from its own buffer, and the choice travels with the data: in the
 * tree a rank's first message from its parent is the raw buffer (or a
 * failure marker); in the scatter it is a number, the root's byte count,
 * just before the rank's part. A rank learns the pattern from that first
 * message, at no cost to the tree: short broadcasts send nothing more.
 * Against the announced count each rank checks its own buffer, so a rank
 * whose count differs fails with both counts named and still runs the
 * pattern, failure markers in place of its parts.
 *
 * # Unfinished features
 * - The value bcast (collectives.bcast) of a long typed array keeps the tree:
 *   its receivers learn the size only from the data.
 * - Across hosts each level keeps the tree (hierarchy.ts).
 */
import { MPIError, type BcastAlgorithm } from '../base/index.js';
import { Failure, type Channel } from './channel.js';
import type { TypedArray } from './op.js';
import { BinomialTree } from './binomial-tree.js';
import { allgatherPartsRing, passDown, receivePart } from './parts.js';
import { chunkStarts } from './ring.js';
import { bcastAlgorithm } from './model.js';
import { noteFailure } from './step.js';

/**
 * The root's buffer into every rank's, by the algorithm the root chooses
 * (`forced`, from MPI4TS_ALGO_BCAST, unless "auto": the model's choice for
 * its byte length); the other ranks follow what arrives.
 */
export async function bcastIntoChosen<A extends TypedArray>(ch: Channel, buf: A | Failure, root: number,
  forced: 'auto' | BcastAlgorithm): Promise<A | Failure> {
  const tree = new BinomialTree(ch.rank, ch.size, root);
  if (tree.parent < 0) {
    // A root whose buffer is bad knows no size: the tree carries its failure.
    if (buf instanceof Failure || ch.size === 1) return passDown(ch, tree, buf);
    const algorithm = forced === 'auto' ? bcastAlgorithm(ch.size, buf.byteLength) : forced;
    return algorithm === 'binomial' ? passDown(ch, tree, buf) : bcastIntoScatterAllgather(ch, tree, buf, root, buf.byteLength);
  }
  const first = await firstFromParent(ch, tree.parent, buf);
  if (typeof first !== 'number') return passDown(ch, tree, first);
  return bcastIntoScatterAllgather(ch, tree, checkedAgainst(ch, buf, first), root, first);
}

/**
 * The first message from the parent: a number is the scatter's announcement
 * (the root's byte count; nothing is received into `buf` yet); anything
 * else is the tree's data, landed in `buf` and judged as parts.ts judges a
 * part, or the failure that came in its place. A rank without a buffer
 * (`buf` a Failure) drains the data as a value.
 */
async function firstFromParent<A extends TypedArray>(ch: Channel, parent: number, buf: A | Failure): Promise<number | A | Failure> {
  if (buf instanceof Failure) {
    const value = await ch.recv(parent);
    return typeof value === 'number' ? value : buf;
  }
  const got = await ch.recvIntoOrValue(parent, buf);
  if (got instanceof Failure) return got;
  if (typeof got !== 'number') {
    if (typeof got.instead === 'number') return got.instead;
    return noteFailure(ch, new MPIError('ERR_TYPE', `rank ${parent} sent a value where this rank expected raw data of a typed array`));
  }
  if (got === buf.byteLength) return buf;
  return noteFailure(ch, new MPIError('ERR_COUNT', `rank ${parent} sent ${got} bytes where this rank's buffer takes ` +
    `${buf.byteLength} (${buf.length} elements of ${buf.constructor.name}); the ranks' counts disagree`));
}

/** This rank's buffer, if it holds the root's announced bytes; else the failure that says so. */
function checkedAgainst<A extends TypedArray>(ch: Channel, buf: A | Failure, rootBytes: number): A | Failure {
  if (buf instanceof Failure || buf.byteLength === rootBytes) return buf;
  return noteFailure(ch, new MPIError('ERR_COUNT', `the root's buffer holds ${rootBytes} bytes but this rank's takes ` +
    `${buf.byteLength} (${buf.length} elements of ${buf.constructor.name}); the ranks' counts disagree`));
}

/**
 * Scatter + allgather, the announcement received (off the root). Part k of
 * the buffer (chunkStarts over its elements, p parts) belongs to the rank k
 * places after the root. Down the binomial tree each rank receives its
 * subtree's parts, which are contiguous (binomial-tree.ts), straight into
 * its buffer, and sends each child the announcement and the child's
 * subtree's parts, farthest first; then the ring allgather (parts.ts
 * allgatherPartsRing) passes the parts round in place. Failures go in
 * place of parts, so every rank runs the whole pattern.
 */
async function bcastIntoScatterAllgather<A extends TypedArray>(ch: Channel, tree: BinomialTree, buf: A | Failure, root: number,
  rootBytes: number): Promise<A | Failure> {
  const { rank, size } = ch;
  const relative = (rank - root + size) % size;
  const starts = chunkStarts(buf instanceof Failure ? 0 : buf.length, size);
  const parts = (from: number, to: number): TypedArray | Failure => (buf instanceof Failure ? buf : buf.subarray(starts[from], starts[Math.min(to, size)]));
  let state: A | Failure = buf;
  if (tree.parent >= 0) {
    // A subtree spans the relative ranks from its head up to the head's lowest set bit.
    state = (await receivePart(ch, tree.parent, parts(relative, relative + (relative & -relative)))) ?? buf;
  }
  const sends: Promise<void>[] = [];
  for (let i = tree.children.length - 1; i >= 0; i--) {
    const head = relative + 2 ** i;
    sends.push(ch.send(tree.children[i]!, rootBytes), ch.send(tree.children[i]!, state instanceof Failure ? state : parts(head, head + 2 ** i)));
  }
  await Promise.all(sends);
  const places = state instanceof Failure ? state : Array.from({ length: size }, (_, r) => parts((r - root + size) % size, (r - root + size) % size + 1) as TypedArray);
  const failed = await allgatherPartsRing(ch, state instanceof Failure ? state : null, places);
  return failed ?? state;
}
