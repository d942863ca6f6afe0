/**
 * Each buffer collective as the library runs it (mpi4py's upper-case calls:
 * `Bcast(buf)`, `Reduce(sendbuf, recvbuf)`, `Gatherv(sendbuf, [recvbuf,
 * counts, displs, type])`, `Alltoallv`...): the checks of the buffers,
 * counts and displacements (which become failures that travel with the
 * data, so every rank that depends on a bad one learns of it), then the
 * algorithm, which fills the caller's receive buffer.
 *
 * The choice of algorithm never depends on anything a rank might fail to
 * know (its own buffer may be the bad one): only on the op and, for the
 * reductions, on a length every rank passes; and where two algorithms may
 * meet (a rank whose input failed, or whose array is shorter, takes the
 * short path) both begin with the same recursive-doubling exchange, where
 * the failure or the difference in shapes reaches every rank.
 *
 * # Unfinished features
 * None of its own: buffer.ts lists those of the buffer arguments, and each
 * algorithm's module those of its area.
 */
import { MPIError, options, type BcastAlgorithm } from '../base/index.js';
import { Failure, type Channel } from './channel.js';
import type { Op, TypedArray } from './op.js';
import { agreeOnShapes, allreduceRecursiveDoubling, takesRing } from './allreduce.js';
import { reduceBinomial, reduceIntoChain, reduceIntoRing } from './reduce.js';
import { reduceScatterBinomial } from './reduce-scatter.js';
import { ringReduceScatter } from './ring.js';
import { isNothing, scanRecursiveDoubling } from './scan.js';
import { levelsOf, spansHosts } from './hierarchy.js';
import { bcastIntoChosen } from './bcast-scatter-allgather.js';
import { guard, noteFailure } from './step.js';
import { acquireLike, release } from './scratch.js';
import {
  allgatherPartsRing, alltoallPartsPairwise, bcastIntoBinomial, gatherPartsLinear, scatterPartsLinear,
} from './parts.js';
import {
  blockOf, blocksOf, checkApart, checkPerRank, checkSameType, IN_PLACE, overlap, packedDispls, partsOf, sendViewOf, viewOf,
} from './buffer.js';

function inPlaceAtRootOnly(call: string): MPIError {
  return new MPIError('ERR_BUFFER', `IN_PLACE is for the root of ${call} only; the other ranks pass their sendbuf`);
}

function lengthsDiffer(send: TypedArray, recv: TypedArray, needed: number, what: string): MPIError {
  return new MPIError('ERR_COUNT', `recvbuf has ${recv.length} elements but ${what} ${needed} (sendbuf has ${send.length} elements of ${send.constructor.name})`);
}

/** Send and receive buffers of one type, apart, the receive one `needed` long. */
function checkPair(send: TypedArray, recv: TypedArray, needed: number, what: string): void {
  checkSameType(send, recv);
  if (recv.length !== needed) throw lengthsDiffer(send, recv, needed, what);
  checkApart(send, recv);
}

// ---- broadcast ----

/**
 * The root's buffer into every other rank's (MPI_Bcast on a buffer): on one
 * host by the binomial tree or the scatter + allgather, as the root chooses
 * (bcast-scatter-allgather.ts; `algorithm` forces one, MPI4TS_ALGO_BCAST).
 */
export function bcastInto<A extends TypedArray>(ch: Channel, buf: unknown, root: number,
  algorithm: 'auto' | BcastAlgorithm = options().bcastAlgorithm): Promise<A | Failure> {
  const view = guard(ch, () => viewOf<A>(buf, 'buf'));
  if (!spansHosts(ch)) return bcastIntoChosen(ch, view, root, algorithm);
  return bcastIntoTwoLevel(ch, view, root);
}

/** Across hosts: the leaders' tree from the root, then each host's from its leader (hierarchy.ts). */
async function bcastIntoTwoLevel<A extends TypedArray>(ch: Channel, view: A | Failure, root: number): Promise<A | Failure> {
  const { local, localLeader, leaders, rootLeader } = levelsOf(ch, root);
  const across = leaders === null ? view : await bcastIntoBinomial(leaders, view, rootLeader);
  return bcastIntoBinomial(local, across, localLeader);
}

// ---- reductions ----

/**
 * Reduce into the root's recvbuf (MPI_Reduce on buffers); IN_PLACE at the
 * root takes its operand from recvbuf. Predefined ops on long arrays go by
 * the ring (reduce.ts), the rest as the value reduce, copied into recvbuf.
 */
export async function reduceInto<A extends TypedArray>(ch: Channel, sendbuf: unknown, recvbuf: unknown, op: Op, root: number,
  ringMinBytes: number): Promise<A | null | Failure> {
  const isRoot = ch.rank === root;
  const checked = guard(ch, () => {
    const recv = isRoot ? viewOf<A>(recvbuf, 'recvbuf at the root') : null;
    const send = sendViewOf<A>(sendbuf, 'sendbuf') ?? recv;
    if (send === null) throw inPlaceAtRootOnly('reduceInto');
    if (recv !== null && recv !== send) checkPair(send, recv, send.length, 'it must have the length of sendbuf,');
    const problem = op.problem(send);
    if (problem !== null) throw new TypeError(problem);
    return { send, recv };
  });
  if (!(checked instanceof Failure) && takesRing(checked.send, op, ch.size, ringMinBytes)) {
    // Two ranks: the pipelined chain, one write and one addition of the data each (reduce.ts says why).
    const failed = ch.size === 2 ? await reduceIntoChain(ch, checked.send, checked.recv, op, root) : await reduceIntoRing(ch, checked.send, checked.recv, op, root);
    return failed ?? checked.recv;
  }
  const operand = checked instanceof Failure ? checked : checked.send;
  // Predefined ops run as the recursive-doubling allreduce (collectives.ts says why), user ops up a tree.
  const result = op.isPredefined ? await allreduceRecursiveDoubling(ch, operand, op) : await reduceBinomial(ch, operand, op, root);
  if (result instanceof Failure) return result;
  if (!isRoot || checked instanceof Failure) return ch.failure ?? null;
  return into(ch, result, checked.recv!);
}

/** A value result into the caller's buffer: a user op may give anything, so it is checked. */
function into<A extends TypedArray>(ch: Channel, result: unknown, recv: A): A | Failure {
  if (result === recv) return recv;
  if (!ArrayBuffer.isView(result) || result.constructor !== recv.constructor || (result as TypedArray).length !== recv.length) {
    return noteFailure(ch, new MPIError('ERR_TYPE', `the result is not ${recv.length} elements of ${recv.constructor.name} for recvbuf`));
  }
  recv.set(result as never);
  return ch.failure ?? recv;
}

/** MPI_Allreduce on buffers, IN_PLACE as sendbuf: the checked pair for collectives.allreduceInto. */
export function allreducePair<A extends TypedArray>(ch: Channel, sendbuf: unknown, recvbuf: unknown): { send: A; recv: A } | Failure {
  return guard(ch, () => {
    const recv = viewOf<A>(recvbuf, 'recvbuf');
    return { send: sendViewOf<A>(sendbuf, 'sendbuf') ?? recv, recv };
  });
}

/** Inclusive or exclusive prefix into recvbuf (MPI_Scan, MPI_Exscan on buffers); exscan leaves rank 0's recvbuf alone. */
export async function scanInto<A extends TypedArray>(ch: Channel, sendbuf: unknown, recvbuf: unknown, op: Op,
  exclusive: boolean): Promise<A | Failure> {
  const checked = guard(ch, () => {
    const recv = viewOf<A>(recvbuf, 'recvbuf');
    const send = sendViewOf<A>(sendbuf, 'sendbuf') ?? recv;
    if (send !== recv) checkPair(send, recv, send.length, 'it must have the length of sendbuf,');
    return { send, recv };
  });
  // The scan copies its operand before reducing into it: in place is safe.
  const prefix = await scanRecursiveDoubling(ch, checked instanceof Failure ? checked : checked.send, op);
  if (prefix instanceof Failure) return prefix;
  const recv = (checked as { recv: A }).recv;
  if (!exclusive) return into(ch, prefix.inclusive, recv);
  return isNothing(prefix.exclusive) ? recv : into(ch, prefix.exclusive, recv);
}

/**
 * Reduce-scatter into recvbuf (MPI_Reduce_scatter and, with equal counts,
 * MPI_Reduce_scatter_block). IN_PLACE: the input is recvbuf itself (the
 * whole of it) and this rank's part lands at its start.
 */
export async function reduceScatterInto<A extends TypedArray>(ch: Channel, sendbuf: unknown, recvbuf: unknown,
  counts: readonly number[] | null, op: Op): Promise<A | Failure> {
  const { rank, size } = ch;
  const checked = guard(ch, () => {
    const recv = viewOf<A>(recvbuf, 'recvbuf');
    const send = sendViewOf<A>(sendbuf, 'sendbuf');
    // Block form: counts all equal, from recvbuf (of the whole input, in place).
    const perRank = counts !== null ? checkPerRank(counts, size, 'counts')
      : new Array<number>(size).fill(send === null ? blockOf(recv.length, size, 'recvbuf (in place)') : recv.length);
    let total = 0;
    for (const c of perRank) total += c;
    const input = send ?? recv;
    if (input.length !== total) {
      throw new MPIError('ERR_COUNT', `${send === null ? 'recvbuf (in place)' : 'sendbuf'} has ${input.length} elements but the counts add up to ${total}`);
    }
    const output = send === null ? recv.subarray(0, perRank[rank]) as A : recv;
    if (send !== null) checkPair(send, recv, perRank[rank]!, `counts[${rank}] is`);
    const problem = op.problem(input);
    if (problem !== null) throw new TypeError(problem);
    return { input, output, counts: perRank };
  });
  if (!op.isPredefined) {
    // User ops combine whole arrays in rank order: the value algorithm, then a copy.
    const part = await reduceScatterBinomial(ch, checked instanceof Failure ? checked : checked.input, checked instanceof Failure ? [] : checked.counts, op);
    return part instanceof Failure ? part : into(ch, part, (checked as { output: A }).output);
  }
  // The op took the input in the checks above.
  const agreed = await agreeOnShapes(ch, checked instanceof Failure ? checked : checked.input, null,
    checked instanceof Failure ? '' : checked.counts.join(','));
  if (agreed !== null) return agreed;
  const { input, output, counts: perRank } = checked as Exclude<typeof checked, Failure>;
  const starts = packedDispls(perRank);
  starts.push(input.length);
  // The ring leaves partial results in every chunk but this rank's: they go to kept scratch memory.
  const reduced = acquireLike(input, input.length);
  try {
    await ringReduceScatter(ch, input, reduced, op, starts);
    output.set(reduced.subarray(starts[rank], starts[rank + 1]) as never);
  } finally {
    release(reduced);
  }
  return ch.failure ?? output;
}

// ---- gather, scatter, allgather ----

/**
 * recvbuf as `size` equal blocks, one per rank (gatherInto at the root,
 * allgatherInto): a block is sendbuf's length, or with IN_PLACE (null
 * sendbuf) recvbuf's length over size.
 */
function blockLayout<A extends TypedArray>(sendbuf: unknown, recv: A, size: number): { send: A | null; recv: A; places: A[] } {
  const send = sendViewOf<A>(sendbuf, 'sendbuf');
  const count = send === null ? blockOf(recv.length, size, 'recvbuf') : send.length;
  if (send !== null) checkPair(send, recv, size * count, `it must hold ${size} blocks of sendbuf's length,`);
  return { send, recv, places: blocksOf(recv, count, size) };
}

/**
 * Every rank's sendbuf into its block of the root's recvbuf (MPI_Gather on
 * buffers); IN_PLACE at the root: its block is already there.
 */
export async function gatherInto<A extends TypedArray>(ch: Channel, sendbuf: unknown, recvbuf: unknown, root: number): Promise<A | null | Failure> {
  const { rank, size } = ch;
  if (rank !== root) return done(ch, await gatherPartsLinear(ch, guard(ch, () => viewOf<A>(sendbuf, 'sendbuf')), null, root), null);
  const checked = guard(ch, () => blockLayout<A>(sendbuf, viewOf<A>(recvbuf, 'recvbuf at the root'), size));
  if (checked instanceof Failure) return done(ch, await gatherPartsLinear(ch, checked, checked, root), null);
  return done(ch, await gatherPartsLinear(ch, checked.send, checked.places, root), checked.recv);
}

/** Gatherv on buffers: rank r's sendbuf into `counts[r]` elements at `displs[r]` of the root's recvbuf. */
export async function gathervInto<A extends TypedArray>(ch: Channel, sendbuf: unknown, recvbuf: unknown, counts: unknown,
  displs: unknown, root: number): Promise<A | null | Failure> {
  if (ch.rank !== root) return done(ch, await gatherPartsLinear(ch, guard(ch, () => viewOf<A>(sendbuf, 'sendbuf')), null, root), null);
  const checked = guard(ch, () => {
    const recv = viewOf<A>(recvbuf, 'recvbuf at the root');
    const places = partsOf(recv, counts, displs, ch.size, 'recvbuf', true);
    const send = sendViewOf<A>(sendbuf, 'sendbuf');
    if (send !== null) checkPair(send, places[root]!, send.length, `counts[${root}] (the root's own) must be sendbuf's length,`);
    if (send !== null) checkApart(send, recv);
    return { send, recv, places };
  });
  if (checked instanceof Failure) return done(ch, await gatherPartsLinear(ch, checked, checked, root), null);
  return done(ch, await gatherPartsLinear(ch, checked.send, checked.places, root), checked.recv);
}

/** The root's sendbuf cut into blocks, one into each rank's recvbuf (MPI_Scatter on buffers); IN_PLACE recvbuf at the root. */
export async function scatterInto<A extends TypedArray>(ch: Channel, sendbuf: unknown, recvbuf: unknown, root: number): Promise<A | Failure> {
  const { rank, size } = ch;
  if (rank !== root) {
    const recv = guard(ch, () => viewOf<A>(recvbuf, 'recvbuf'));
    return done(ch, await scatterPartsLinear(ch, null, recv, root), recv as A);
  }
  const checked = guard(ch, () => {
    const send = viewOf<A>(sendbuf, 'sendbuf at the root');
    const recv = recvbuf === IN_PLACE ? null : viewOf<A>(recvbuf, 'recvbuf');
    const count = recv === null ? blockOf(send.length, size, 'sendbuf') : recv.length;
    if (recv !== null) {
      checkSameType(send, recv);
      if (send.length !== size * count) {
        throw new MPIError('ERR_COUNT', `sendbuf at the root has ${send.length} elements but must hold ${size} blocks of recvbuf's ${count}`);
      }
      checkApart(send, recv);
    }
    const parts = blocksOf(send, count, size);
    return { parts, recv: recv ?? parts[root]! };
  });
  if (checked instanceof Failure) return done(ch, await scatterPartsLinear(ch, checked, checked, root), null as never);
  return done(ch, await scatterPartsLinear(ch, checked.parts, checked.recv === checked.parts[root] ? null : checked.recv, root), checked.recv);
}

/** Scatterv on buffers: `counts[r]` elements at `displs[r]` of the root's sendbuf into rank r's recvbuf. */
export async function scattervInto<A extends TypedArray>(ch: Channel, sendbuf: unknown, counts: unknown, displs: unknown,
  recvbuf: unknown, root: number): Promise<A | Failure> {
  if (ch.rank !== root) {
    const recv = guard(ch, () => viewOf<A>(recvbuf, 'recvbuf'));
    return done(ch, await scatterPartsLinear(ch, null, recv, root), recv as A);
  }
  const checked = guard(ch, () => {
    const send = viewOf<A>(sendbuf, 'sendbuf at the root');
    const parts = partsOf(send, counts, displs, ch.size, 'sendbuf', false);
    const recv = recvbuf === IN_PLACE ? null : viewOf<A>(recvbuf, 'recvbuf');
    if (recv !== null) {
      checkPair(parts[root]!, recv, parts[root]!.length, `counts[${root}] (the root's own) is`);
      checkApart(send, recv);
    }
    return { parts, recv };
  });
  if (checked instanceof Failure) return done(ch, await scatterPartsLinear(ch, checked, checked, root), null as never);
  return done(ch, await scatterPartsLinear(ch, checked.parts, checked.recv, root), checked.recv ?? checked.parts[root]!);
}

/** Every rank's sendbuf into its block of every rank's recvbuf (MPI_Allgather on buffers); IN_PLACE: this rank's block is there. */
export async function allgatherInto<A extends TypedArray>(ch: Channel, sendbuf: unknown, recvbuf: unknown): Promise<A | Failure> {
  const { size } = ch;
  const checked = guard(ch, () => blockLayout<A>(sendbuf, viewOf<A>(recvbuf, 'recvbuf'), size));
  if (checked instanceof Failure) return done(ch, await allgatherPartsRing(ch, checked, checked), null as never);
  return done(ch, await allgatherPartsRing(ch, checked.send, checked.places), checked.recv);
}

/** Allgatherv on buffers: rank r's sendbuf into `counts[r]` elements at `displs[r]` of every recvbuf. */
export async function allgathervInto<A extends TypedArray>(ch: Channel, sendbuf: unknown, recvbuf: unknown, counts: unknown,
  displs: unknown): Promise<A | Failure> {
  const checked = guard(ch, () => {
    const recv = viewOf<A>(recvbuf, 'recvbuf');
    const places = partsOf(recv, counts, displs, ch.size, 'recvbuf', true);
    const send = sendViewOf<A>(sendbuf, 'sendbuf');
    if (send !== null) {
      checkPair(send, places[ch.rank]!, send.length, `counts[${ch.rank}] (this rank's own) must be sendbuf's length,`);
      checkApart(send, recv);
    }
    return { send, recv, places };
  });
  if (checked instanceof Failure) return done(ch, await allgatherPartsRing(ch, checked, checked), null as never);
  return done(ch, await allgatherPartsRing(ch, checked.send, checked.places), checked.recv);
}

// ---- all-to-all ----

/** Block i of sendbuf to rank i, rank i's block into block i of recvbuf (MPI_Alltoall on buffers); IN_PLACE works on recvbuf. */
export function alltoallInto<A extends TypedArray>(ch: Channel, sendbuf: unknown, recvbuf: unknown): Promise<A | Failure> {
  return alltoallvInto(ch, sendbuf, null, null, recvbuf, null, null);
}

/**
 * MPI_Alltoallv: `sendcounts[i]` elements at `sdispls[i]` of sendbuf to
 * rank i, whose part lands at `rdispls[i]` of recvbuf (`recvcounts[i]`
 * elements). Null counts: equal blocks (alltoallInto); null displacements:
 * parts back to back. IN_PLACE takes the outgoing parts from recvbuf's
 * layout, copied aside first (a part may go out where another comes in).
 */
export async function alltoallvInto<A extends TypedArray>(ch: Channel, sendbuf: unknown, sendcounts: unknown, sdispls: unknown,
  recvbuf: unknown, recvcounts: unknown, rdispls: unknown): Promise<A | Failure> {
  const { size } = ch;
  let aside: A | null = null;
  const checked = guard(ch, () => {
    const recv = viewOf<A>(recvbuf, 'recvbuf');
    const blocks = recvcounts === null;
    const rcounts = blocks ? new Array<number>(size).fill(blockOf(recv.length, size, 'recvbuf')) : recvcounts;
    const recvParts = partsOf(recv, rcounts, rdispls, size, 'recvbuf', true);
    let send = sendViewOf<A>(sendbuf, 'sendbuf');
    if (send === null) {
      aside = acquireLike(recv, recv.length);
      aside.set(recv as never);
      return { recv, recvParts, sendParts: partsOf(aside, rcounts, rdispls, size, 'recvbuf', false) };
    }
    checkSameType(send, recv);
    checkApart(send, recv);
    if (blocks && send.length !== recv.length) throw lengthsDiffer(send, recv, send.length, 'it must have the length of sendbuf,');
    send = send as A;
    const sendParts = partsOf(send, blocks ? rcounts : sendcounts, blocks ? null : sdispls, size, 'sendbuf', false);
    return { recv, recvParts, sendParts };
  });
  try {
    if (checked instanceof Failure) return done(ch, await alltoallPartsPairwise(ch, checked, checked), null as never);
    return done(ch, await alltoallPartsPairwise(ch, checked.sendParts, checked.recvParts), checked.recv);
  } finally {
    if (aside !== null) release(aside);
  }
}

/**
 * MPI_Alltoallw as typed arrays: `sendbufs[i]` goes to rank i, whose
 * `sendbufs[rank]` lands in `recvbufs[i]`; each pair may be of any types of
 * one byte length (the role of MPI's per-peer datatypes).
 */
export async function alltoallw(ch: Channel, sendbufs: unknown, recvbufs: unknown): Promise<TypedArray[] | Failure> {
  const { size } = ch;
  const checked = guard(ch, () => {
    const send = perPeer(sendbufs, size, 'sendbufs');
    const recv = perPeer(recvbufs, size, 'recvbufs');
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < size; j++) {
        if (overlap(send[i]!, recv[j]!)) throw new MPIError('ERR_BUFFER', `sendbufs[${i}] and recvbufs[${j}] overlap`);
        if (i < j && overlap(recv[i]!, recv[j]!)) throw new MPIError('ERR_BUFFER', `recvbufs[${i}] and recvbufs[${j}] overlap; each element of a receive buffer can be written once`);
      }
    }
    return { send, recv };
  });
  if (checked instanceof Failure) return done(ch, await alltoallPartsPairwise(ch, checked, checked), null as never);
  return done(ch, await alltoallPartsPairwise(ch, checked.send, checked.recv), checked.recv);
}

function perPeer(values: unknown, size: number, what: string): TypedArray[] {
  if (!Array.isArray(values) || values.length !== size) {
    throw new MPIError('ERR_COUNT', `${what} must be an array of ${size} typed arrays (one per rank), got ${values === null ? 'null' : Array.isArray(values) ? `an array of length ${values.length}` : typeof values}`);
  }
  return values.map((v: unknown, i) => viewOf(v, `${what}[${i}]`));
}

/** The result, or the failure the pattern ran into (every one it met is in ch.failure). */
function done<R>(ch: Channel, failure: Failure | null, result: R): R | Failure {
  return failure ?? ch.failure ?? result;
}
