/**
 * The patterns that move parts of typed arrays straight between the callers'
 * buffers (MPI 4.1 sections 6.4-6.8 on buffers): each part travels as raw
 * bytes from a view of the sender's array and lands in a view of the
 * receiver's, with no copy in between beyond the transport's own.
 *
 * Failures travel in place of parts (channel.ts): a rank whose buffer is bad
 * sends a failure marker where its part would go and still runs its whole
 * pattern, draining what it is sent; a receiver whose part is not the size it
 * expects (ranks that disagree on counts) fails and passes the failure on
 * wherever it would have passed the part.
 *
 * # Unfinished features
 * None of its own: the scatter-allgather broadcast for long messages is in
 * bcast-scatter-allgather.ts, which also chooses between it and the tree.
 */
import { MPIError } from '../base/index.js';
import { Failure, type Channel } from './channel.js';
import type { TypedArray } from './op.js';
import { BinomialTree } from './binomial-tree.js';
import { noteFailure } from './step.js';

/**
 * The receive of a part into `place` from `from`, judged: null when it filled
 * `place` exactly, else the Failure (noted). A rank that cannot receive into
 * a place of its own (its buffer is bad: `place` is a Failure) drains the
 * message as a value.
 */
export async function receivePart(ch: Channel, from: number, place: TypedArray | Failure): Promise<Failure | null> {
  if (place instanceof Failure) {
    await ch.recv(from);
    return place;
  }
  const got = await ch.recvInto(from, place);
  if (got instanceof Failure) return got;
  if (got === place.byteLength) return null;
  return noteFailure(ch, new MPIError('ERR_COUNT', `rank ${from} sent ${got} bytes where this rank's buffer takes ` +
    `${place.byteLength} (${place.length} elements of ${place.constructor.name}); the ranks' counts disagree`));
}

/**
 * Binomial broadcast into every rank's buffer: the root's `buf` is the
 * source, the others receive into theirs straight from their parent and pass
 * it on to their children, farthest first.
 */
export async function bcastIntoBinomial<A extends TypedArray>(ch: Channel, buf: A | Failure, root: number): Promise<A | Failure> {
  const tree = new BinomialTree(ch.rank, ch.size, root);
  let state: A | Failure = buf;
  if (tree.parent >= 0) state = (await receivePart(ch, tree.parent, buf)) ?? buf;
  return passDown(ch, tree, state);
}

/** The binomial broadcast's second half: `state` (the buffer, or the failure in its place) to each child, farthest first. */
export async function passDown<S>(ch: Channel, tree: BinomialTree, state: S): Promise<S> {
  const sends: Promise<void>[] = [];
  for (let i = tree.children.length - 1; i >= 0; i--) sends.push(ch.send(tree.children[i]!, state));
  await Promise.all(sends);
  return state;
}

/**
 * Linear gather into the root's places (as MPICH's v-variants and long
 * gathers): every rank sends its part straight to the root, which receives
 * them all at once, each into its place. `own` is the root's part (null: in
 * place, already there). Returns null off the root.
 */
export async function gatherPartsLinear(ch: Channel, send: TypedArray | Failure | null, places: readonly TypedArray[] | Failure | null,
  root: number): Promise<Failure | null> {
  if (ch.rank !== root) {
    await ch.send(root, send);
    return ch.failure;
  }
  if (send instanceof Failure) noteFailure(ch, send);
  const receives: Promise<Failure | null>[] = [];
  for (let r = 0; r < ch.size; r++) {
    if (r !== root) receives.push(receivePart(ch, r, places instanceof Failure || places === null ? failed(ch, places) : places[r]!));
  }
  if (send !== null && !(send instanceof Failure) && places !== null && !(places instanceof Failure)) copyOwn(ch, send, places[root]!);
  await Promise.all(receives);
  return ch.failure;
}

/**
 * Linear scatter from the root's parts: the root sends each rank its part
 * straight from its array; each rank receives into its buffer (`recv` null
 * at the root: in place, the root's part stays where it is).
 */
export async function scatterPartsLinear(ch: Channel, parts: readonly TypedArray[] | Failure | null, recv: TypedArray | Failure | null,
  root: number): Promise<Failure | null> {
  if (ch.rank !== root) {
    await receivePart(ch, root, recv ?? failed(ch, null));
    return ch.failure;
  }
  if (recv instanceof Failure) noteFailure(ch, recv);
  const sends: Promise<void>[] = [];
  for (let r = 0; r < ch.size; r++) {
    if (r !== root) sends.push(ch.send(r, parts instanceof Failure || parts === null ? failed(ch, parts) : parts[r]!));
  }
  if (recv !== null && !(recv instanceof Failure) && parts !== null && !(parts instanceof Failure)) copyOwn(ch, parts[root]!, recv);
  await Promise.all(sends);
  return ch.failure;
}

/**
 * Ring allgather over the parts of every rank's receive buffer (places[r]
 * is rank r's part, counts and displacements already applied): each rank
 * copies its own part into place (unless `own` is null, in place), then in
 * size-1 steps passes to its right neighbour the part it got last, receiving
 * the next straight into its place. Bandwidth-optimal; a failure entering
 * the ring goes round it in place of the parts that follow.
 */
export async function allgatherPartsRing(ch: Channel, own: TypedArray | Failure | null, places: readonly TypedArray[] | Failure): Promise<Failure | null> {
  const { rank, size } = ch;
  if (own instanceof Failure) noteFailure(ch, own);
  else if (own !== null && !(places instanceof Failure)) copyOwn(ch, own, places[rank]!);
  if (places instanceof Failure) noteFailure(ch, places);
  const right = (rank + 1) % size;
  const left = (rank - 1 + size) % size;
  for (let step = 0; step < size - 1; step++) {
    const sent = (rank - step + size) % size;
    const received = (rank - step - 1 + size) % size;
    const broken = ch.failure;
    const outgoing = broken ?? (places as readonly TypedArray[])[sent]!;
    await Promise.all([ch.send(right, outgoing), receivePart(ch, left, broken ?? (places as readonly TypedArray[])[received]!)]);
  }
  return ch.failure;
}

/**
 * Pairwise exchange of parts (alltoall, alltoallv, alltoallw): in step k each
 * rank sends its part for rank + k and receives rank - k's part for it, so
 * every step is a permutation and no rank is flooded. Parts are compared in
 * bytes only (alltoallw's may differ in type on the two sides, as MPI's
 * datatypes may when their signatures match).
 */
export async function alltoallPartsPairwise(ch: Channel, sendParts: readonly TypedArray[] | Failure,
  recvParts: readonly TypedArray[] | Failure): Promise<Failure | null> {
  const { rank, size } = ch;
  if (sendParts instanceof Failure) noteFailure(ch, sendParts);
  if (recvParts instanceof Failure) noteFailure(ch, recvParts);
  const own = !(sendParts instanceof Failure) && !(recvParts instanceof Failure) ? [sendParts[rank]!, recvParts[rank]!] as const : null;
  // A large part to itself is copied while the first exchange's handshake goes on (COPY_ALONG_MIN_BYTES);
  // a small one at once, before any message.
  const along = own !== null && size > 1 && own[0].byteLength >= COPY_ALONG_MIN_BYTES && ch.progress !== undefined;
  if (own !== null && !along) copyOwn(ch, own[0], own[1]);
  for (let step = 1; step < size; step++) {
    const dest = (rank + step) % size;
    const source = (rank - step + size) % size;
    const broken = ch.failure;
    const exchange = Promise.all([
      ch.send(dest, sendParts instanceof Failure ? sendParts : broken ?? sendParts[dest]!),
      receivePart(ch, source, recvParts instanceof Failure ? recvParts : recvParts[source]!),
    ]);
    if (step === 1 && along) copyOwn(ch, own[0], own[1], true);
    await exchange;
  }
  return ch.failure;
}

/**
 * Own parts from this size up are copied in COPY_ALONG_CHUNK pieces with the
 * rings polled between them, after the first exchange is posted: its
 * request-to-send, the peer's, and both clear-to-sends then cross while this
 * rank copies, and the peer's direct write can start before the copy ends.
 * Copied first and whole, the handshake waited for the copy: alltoallv of
 * 1 MiB blocks on two ranks spent about 25 us of its 220 there.
 */
const COPY_ALONG_MIN_BYTES = 256 * 1024;
const COPY_ALONG_CHUNK = 128 * 1024;

/**
 * This rank's own part into its place, which must take it exactly; with
 * `along`, piece by piece with the channel's messages moved along between
 * pieces (COPY_ALONG_MIN_BYTES).
 */
function copyOwn(ch: Channel, from: TypedArray, to: TypedArray, along = false): void {
  if (from.byteLength !== to.byteLength) {
    noteFailure(ch, new MPIError('ERR_COUNT', `this rank's part to itself is ${from.byteLength} bytes but its place in recvbuf ` +
      `takes ${to.byteLength}; the counts disagree`));
    return;
  }
  if (from === to || (from.buffer === to.buffer && from.byteOffset === to.byteOffset)) return;
  const source = new Uint8Array(from.buffer, from.byteOffset, from.byteLength);
  const target = new Uint8Array(to.buffer, to.byteOffset, to.byteLength);
  if (!along) {
    target.set(source);
    return;
  }
  for (let at = 0; at < source.length; at += COPY_ALONG_CHUNK) {
    const end = Math.min(at + COPY_ALONG_CHUNK, source.length);
    target.set(source.subarray(at, end), at);
    ch.progress?.();
  }
}

/** The failure to send or drain with when this rank has no buffer for the data. */
function failed(ch: Channel, why: Failure | null): Failure {
  return why ?? ch.failure ?? noteFailure(ch, new MPIError('ERR_BUFFER', 'no buffer for this rank\'s part'));
}
