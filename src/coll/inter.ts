/**
 * Collectives on an intercommunicator (MPI 4.1 section 6.2.2): two disjoint
 * groups, where a rooted call moves data from the root's group to the other
 * group and the all-to-all calls give each group the other group's data.
 *
 * Every algorithm here has two channels (InterChannels): `local`, over the
 * intercommunicator's own group (a private intracommunicator of it), and
 * `remote`, whose sends and receives name ranks of the other group. Each
 * group's leader is its rank 0: the groups meet only where their leaders
 * talk, and each group spreads or collects the data with its own binomial
 * trees or recursive doubling, as MPICH's intercommunicator collectives do
 * (root to remote leader, then a local broadcast, and the mirror for
 * reductions): log2 of a group's size rounds, plus one between the groups.
 *
 * Roots (section 6.2.2): ROOT at the root, PROC_NULL at the other ranks of
 * its group, who neither send nor receive; in the other group, the root's
 * rank there. Failures travel with the data as everywhere in coll/: a
 * root's bad value reaches the other group in its place; a bad value in a
 * sending group reaches the root.
 *
 * # Unfinished features
 * - **6.2.2**: on intercommunicators, alltoall(v,w), reduce_scatter(_block),
 *   the v-variants and the buffer forms other than bcastInto, reduceInto and
 *   gathervInto (those mpi4py's spawn demos use), which move their arrays as
 *   values and copy them into place (a copy more than the intracommunicator
 *   forms); scan and exscan are intracommunicator calls in MPI.
 */
import { PROC_NULL, ROOT } from '../base/index.js';
import { Failure, type Channel } from './channel.js';
import { bcastBinomial } from './bcast.js';
import { barrierDissemination } from './barrier.js';
import { gatherBinomial, scatterBinomial, allgatherRecursiveDoubling } from './scatter-gather.js';
import { allreduce, reduce } from './collectives.js';
import { describe, type Op } from './op.js';
import { exchange, guard } from './step.js';
import { MPIError } from '../base/index.js';
import { isTypedArray, type TypedArray } from './op.js';
import { partsOf, viewOf, type Buf } from './buffer.js';

/** The two sides of one call on an intercommunicator. */
export interface InterChannels {
  /** This rank's own group: its rank and size there. */
  readonly local: Channel;
  /** The other group: `rank` is this rank's in its own group, `size` the other group's, peers are its ranks. */
  readonly remote: Channel;
}

/** Each group's leader, the one rank that talks to the other group. */
const LEADER = 0;

/**
 * MPI_Barrier on an intercommunicator: a local barrier, the leaders signal
 * each other, a local broadcast of the signal. No rank leaves before every
 * rank of both groups has entered.
 */
export async function barrierInter(chs: InterChannels): Promise<void> {
  await barrierDissemination(chs.local);
  if (chs.local.rank === LEADER) await exchange(chs.remote, LEADER, null);
  await bcastBinomial(chs.local, null, LEADER);
}

/** The root's value to every rank of the other group; null in the root's group (mpi4py gives None). */
export async function bcastInter<T>(chs: InterChannels, value: T, root: number): Promise<T | Failure | null> {
  if (root === ROOT) {
    await chs.remote.send(LEADER, value);
    return null;
  }
  if (root === PROC_NULL) return null;
  const received = chs.local.rank === LEADER ? await chs.remote.recv<T>(root) : null;
  return bcastBinomial<T | null>(chs.local, received, LEADER);
}

/** The root's array of one item per rank of the other group, item i to its rank i; null in the root's group. */
export async function scatterInter<T>(chs: InterChannels, values: readonly T[] | null, root: number): Promise<T | Failure | null> {
  if (root === ROOT) {
    const items = guard(chs.remote, () => {
      const want = `values at the root must be an array of ${chs.remote.size} items (one per rank of the remote group)`;
      if (!Array.isArray(values)) throw new TypeError(`${want}, got ${describe(values)}`);
      if (values.length !== chs.remote.size) throw new MPIError('ERR_COUNT', `${want}, got an array of length ${values.length}`);
      return values;
    });
    await chs.remote.send(LEADER, items);
    return null;
  }
  if (root === PROC_NULL) return null;
  const items = chs.local.rank === LEADER ? await chs.remote.recv<readonly T[]>(root) : null;
  return scatterBinomial(chs.local, items, LEADER);
}

/** Every value of the other group, in its rank order, at the root; null elsewhere. */
export async function gatherInter<T>(chs: InterChannels, value: T, root: number): Promise<T[] | Failure | null> {
  if (root === ROOT) return chs.remote.recv<T[]>(LEADER);
  if (root === PROC_NULL) return null;
  const gathered = await gatherBinomial(chs.local, value, LEADER);
  if (chs.local.rank === LEADER) await chs.remote.send(root, gathered);
  return null;
}

/** The reduction of the other group's values at the root (MPI 4.1 section 6.9.1); null elsewhere. */
export async function reduceInter<T>(chs: InterChannels, value: T, op: Op, root: number): Promise<T | Failure | null> {
  if (root === ROOT) return chs.remote.recv<T>(LEADER);
  if (root === PROC_NULL) return null;
  const reduced = await reduce(chs.local, value, op, LEADER);
  if (chs.local.rank === LEADER) await chs.remote.send(root, reduced);
  return null;
}

/** Every rank gets the other group's values in its rank order (MPI_Allgather on an intercommunicator). */
export async function allgatherInter<T>(chs: InterChannels, value: T): Promise<T[] | Failure> {
  const both = await allgatherBoth(chs, value);
  return both instanceof Failure ? both : both.remote;
}

/** Every rank gets the reduction of the other group's values (MPI_Allreduce on an intercommunicator). */
export async function allreduceInter<T>(chs: InterChannels, value: T, op: Op): Promise<T | Failure> {
  // A local allreduce rather than a reduce: every local rank then holds a T to pass on, and learns of a local failure.
  const mine = await allreduce(chs.local, value, op);
  const theirs = chs.local.rank === LEADER ? await exchange(chs.remote, LEADER, mine) : mine;
  return bcastBinomial(chs.local, theirs, LEADER);
}

/**
 * Both groups' values on every rank of both, each in rank order: what
 * creations on an intercommunicator (merge, dup) agree on. A local
 * allgather, the leaders swap, a local broadcast.
 */
export async function allgatherBoth<T>(chs: InterChannels, value: T): Promise<{ local: T[]; remote: T[] } | Failure> {
  const mine = await allgatherRecursiveDoubling(chs.local, value);
  const theirs = chs.local.rank === LEADER ? await exchange(chs.remote, LEADER, mine) : mine;
  const remote = await bcastBinomial(chs.local, theirs, LEADER);
  if (mine instanceof Failure) return mine;
  return remote instanceof Failure ? remote : { local: mine, remote };
}

/**
 * What came for a buffer, copied into `into`: the same element type, and
 * exactly `into.length` elements (a Bcast's or a v-part's count); else why not.
 */
function land<A extends TypedArray>(into: A, got: unknown, what: string, rank: number): A | Failure {
  if (got instanceof Failure) return got;
  if (!isTypedArray(got) || got.constructor !== into.constructor) {
    return Failure.of(new MPIError('ERR_TYPE', `${what}: a ${describe(got)} came for a ${into.constructor.name}`), rank);
  }
  if (got.length !== into.length) {
    return Failure.of(new MPIError('ERR_COUNT', `${what}: ${got.length} elements came for a buffer of ${into.length}`), rank);
  }
  into.set(got as never);
  return into;
}

/** MPI_Bcast of a buffer (mpi4py's Bcast) across: the root's buffer lands in `buf` on every rank of the other group; null in the root's group. */
export async function bcastIntoInter<A extends TypedArray>(chs: InterChannels, buf: Buf<A> | null, root: number): Promise<A | Failure | null> {
  if (root === ROOT) {
    await chs.remote.send(LEADER, guard(chs.remote, () => viewOf<A>(buf, 'buf')));
    return null;
  }
  if (root === PROC_NULL) return null;
  const view = guard(chs.local, () => viewOf<A>(buf, 'buf'));
  const got = await bcastInter<unknown>(chs, null, root);
  return view instanceof Failure ? view : land(view, got, 'buf', chs.local.rank);
}

/** MPI_Reduce of buffers (mpi4py's Reduce) across: the other group's sendbufs reduced into the root's recvbuf; null elsewhere. */
export async function reduceIntoInter<A extends TypedArray>(chs: InterChannels, sendbuf: Buf<A> | null, recvbuf: Buf<A> | null, op: Op,
  root: number): Promise<A | Failure | null> {
  if (root === ROOT) {
    const view = guard(chs.local, () => viewOf<A>(recvbuf, 'recvbuf'));
    const got = await chs.remote.recv<unknown>(LEADER);
    return view instanceof Failure ? view : land(view, got, 'recvbuf', chs.local.rank);
  }
  if (root === PROC_NULL) return null;
  const mine = guard(chs.local, () => viewOf<A>(sendbuf, 'sendbuf'));
  const reduced = await reduce(chs.local, mine, op, LEADER);
  if (chs.local.rank === LEADER) await chs.remote.send(root, reduced);
  return mine instanceof Failure ? mine : null;
}

/**
 * MPI_Gatherv of buffers (mpi4py's Gatherv) across: rank r of the other
 * group's sendbuf lands in the root's recvbuf, `counts[r]` elements from
 * `displs[r]` (back to back when null); null elsewhere.
 */
export async function gathervIntoInter<A extends TypedArray>(chs: InterChannels, sendbuf: Buf<A> | null, recvbuf: Buf<A> | null,
  counts: readonly number[] | null, displs: readonly number[] | null, root: number): Promise<A | Failure | null> {
  if (root === ROOT) {
    const parts = guard(chs.local, () => {
      const view = viewOf<A>(recvbuf, 'recvbuf');
      return { view, parts: partsOf(view, counts, displs, chs.remote.size, 'recvbuf', true) };
    });
    const got = await chs.remote.recv<unknown[]>(LEADER);
    if (parts instanceof Failure) return parts;
    if (got instanceof Failure) return got;
    for (let r = 0; r < parts.parts.length; r++) {
      const landed = land(parts.parts[r]!, got[r], `recvbuf's part for rank ${r} of the remote group`, chs.local.rank);
      if (landed instanceof Failure) return landed;
    }
    return parts.view;
  }
  if (root === PROC_NULL) return null;
  const mine = guard(chs.local, () => viewOf<A>(sendbuf, 'sendbuf'));
  const gathered = await gatherBinomial<unknown>(chs.local, mine, LEADER);
  if (chs.local.rank === LEADER) await chs.remote.send(root, gathered);
  return mine instanceof Failure ? mine : null;
}
