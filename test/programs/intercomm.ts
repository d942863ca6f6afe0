// Intercommunicator checks, run at several sizes by test/intercomm.test.ts.
// COMM_WORLD splits into a lower half A (world ranks 0..a-1, a = ceil(size/2))
// and an upper half B (a..size-1); the intercommunicator joins them. Each
// check throws on a wrong result; rank 0 prints "ok <check>" once all ranks
// passed it. With one rank there is no second group: only oneRank runs.
import * as MPI from 'mpi4ts';
import assert from 'node:assert/strict';
import { agree } from './agree.js';

const world = MPI.COMM_WORLD;
const { rank, size } = world;
const a = Math.ceil(size / 2);
const inA = rank < a;
/** World ranks of A and of B. */
const groupA = [...Array(a).keys()];
const groupB = [...Array(size - a).keys()].map((i) => a + i);
const mine = inA ? groupA : groupB;
const theirs = inA ? groupB : groupA;
const tagOfIntercomm = 12;

const worldRanks = (g: MPI.Group): number[] => g.translateRanks([...Array(g.size).keys()], world.getGroup());
/** The value each world rank puts into the collectives: its world rank + 1. */
const valueOf = (worldRank: number): number => worldRank + 1;
const sum = (list: readonly number[]): number => list.reduce((x, y) => x + y, 0);

/** What this rank passes as root when local rank `root` of group A (or B) is the root. */
function rootArg(rootInA: boolean, root: number, local: MPI.Intercomm): number {
  if (inA === rootInA) return local.rank === root ? MPI.ROOT : MPI.PROC_NULL;
  return root;
}

const half = (await world.split(inA ? 0 : 1, rank))!;
const inter = size === 1 ? null : await half.createIntercomm(0, world, inA ? a : 0, tagOfIntercomm);

/** Sizes, groups, isInter, compare. */
async function shape(ic: MPI.Intercomm): Promise<void> {
  assert.equal(ic.isInter, true);
  assert.equal(ic.isIntra, false);
  assert.equal(world.isInter, false);
  assert.equal(world.isIntra, true);
  assert.equal(ic.rank, half.rank);
  assert.equal(ic.size, mine.length);
  assert.equal(ic.remoteSize, theirs.length);
  assert.equal(ic.getRemoteSize(), theirs.length);
  assert.deepEqual(worldRanks(ic.getGroup()), mine);
  assert.deepEqual(worldRanks(ic.remoteGroup), theirs);
  assert.equal(ic.remoteGroup.rank, MPI.UNDEFINED);
  assert.equal(ic.getGroup().rank, ic.rank);
  assert.equal(ic.compare(ic), MPI.IDENT);
  assert.equal(ic.compare(world), MPI.UNEQUAL);
  assert.equal(world.compare(ic), MPI.UNEQUAL);
  assert.equal(half.compare(ic), MPI.UNEQUAL);
  const copy = await ic.dup();
  assert.equal(ic.compare(copy), MPI.CONGRUENT);
  assert.equal(copy.compare(ic), MPI.CONGRUENT);
  assert.equal(copy.remoteSize, ic.remoteSize);
  assert.equal(ic.name, '');
  copy.name = 'copy';
  assert.equal(copy.name, 'copy');
  copy.free();
}

/** Point-to-point names remote ranks: every rank sends to every remote rank and hears from each. */
async function p2p(ic: MPI.Intercomm): Promise<void> {
  const sends = theirs.map((_, dest) => ic.isend({ from: rank, to: dest }, dest, 5));
  const heard: number[] = [];
  for (let i = 0; i < theirs.length; i++) {
    const status = new MPI.Status();
    const got = await ic.recv<{ from: number; to: number }>(MPI.ANY_SOURCE, 5, status);
    assert.equal(got.to, ic.rank);
    assert.equal(got.from, theirs[status.source], 'status.source is the sender\'s rank in the remote group');
    heard.push(status.source);
  }
  await MPI.Request.waitall(sends);
  assert.deepEqual(heard.sort((x, y) => x - y), [...theirs.keys()]);
  // sendrecv with the partner of the same local rank, where the other group has one.
  const partner = ic.rank < ic.remoteSize ? ic.rank : MPI.PROC_NULL;
  const back = await ic.sendrecv(rank, partner, 6, partner, 6);
  assert.equal(back, partner === MPI.PROC_NULL ? null : theirs[ic.rank]);
  // A probe by remote rank.
  if (ic.rank === 0) await ic.send('probe me', 0, 7);
  if (ic.rank === 0) {
    const status = await ic.probe(0, 7);
    assert.equal(status.source, 0);
    assert.equal(await ic.recv(0, 7), 'probe me');
  }
  // The intercommunicator's traffic stays in it: COMM_WORLD sees none of it.
  assert.equal(world.iprobe(MPI.ANY_SOURCE, 5), false);
  await ic.barrier();
}

async function barrier(ic: MPI.Intercomm): Promise<void> {
  for (let i = 0; i < 3; i++) await ic.barrier();
}

/** bcast from A's last rank to B, then from B's rank 0 to A. */
async function bcast(ic: MPI.Intercomm): Promise<void> {
  const fromA = await ic.bcast(inA && ic.rank === a - 1 ? { hello: 'from A' } : null, rootArg(true, a - 1, ic));
  assert.deepEqual(fromA, inA ? null : { hello: 'from A' });
  const fromB = await ic.bcast(!inA && ic.rank === 0 ? [1, 2, 3] : 'ignored', rootArg(false, 0, ic));
  assert.deepEqual(fromB, inA ? [1, 2, 3] : null);
}

/** scatter from A's rank 0 to B; gather at B's last rank from A. */
async function scatterGather(ic: MPI.Intercomm): Promise<void> {
  const items = theirs.map((w) => `item for ${w}`);
  const got = await ic.scatter(inA && ic.rank === 0 ? items : null, rootArg(true, 0, ic));
  assert.equal(got, inA ? null : `item for ${rank}`);
  const gathered = await ic.gather(valueOf(rank), rootArg(false, size - a - 1, ic));
  assert.deepEqual(gathered, !inA && ic.rank === size - a - 1 ? groupA.map(valueOf) : null);
}

/** reduce to A's rank 0 of B's values; allgather and allreduce give each group the other's. */
async function reductions(ic: MPI.Intercomm): Promise<void> {
  const reduced = await ic.reduce(valueOf(rank), MPI.SUM, rootArg(true, 0, ic));
  assert.equal(reduced, inA && ic.rank === 0 ? sum(groupB.map(valueOf)) : null);
  const maxOfA = await ic.reduce(valueOf(rank), MPI.MAX, rootArg(false, 0, ic));
  assert.equal(maxOfA, !inA && ic.rank === 0 ? a : null);
  assert.deepEqual(await ic.allgather(valueOf(rank)), theirs.map(valueOf));
  assert.equal(await ic.allreduce(valueOf(rank)), sum(theirs.map(valueOf)));
  assert.equal(await ic.allreduce(valueOf(rank), MPI.PROD), theirs.map(valueOf).reduce((x, y) => x * y, 1));
  const user = MPI.Op.create((x: string, y: string) => `${x}${y}`, false);
  assert.equal(await ic.allreduce(String(rank), user), theirs.join(''));
  // The nonblocking forms.
  const [all, gathered] = await Promise.all([ic.iallreduce(valueOf(rank)).wait(), ic.iallgather(rank).wait()]);
  assert.equal(all, sum(theirs.map(valueOf)));
  assert.deepEqual(gathered, theirs);
  assert.equal(await ic.ibcast(inA ? 'x' : null, rootArg(true, 0, ic)).wait(), inA ? null : 'x');
  await ic.ibarrier().wait();
}

/** bcastInto, reduceInto, gathervInto (mpi4py's Bcast, Reduce, Gatherv across), rooted in each group in turn, and a part of the wrong length. */
async function bufferForms(ic: MPI.Intercomm): Promise<void> {
  // bcastInto from A's rank 0: B's buffers get it; the root's group gets null.
  const buf = new Float64Array(3);
  if (inA && ic.rank === 0) buf.set([1.5, 2.5, 3.5]);
  const got = await ic.bcastInto(buf, rootArg(true, 0, ic));
  if (inA) assert.equal(got, null);
  else assert.deepEqual(got, new Float64Array([1.5, 2.5, 3.5]));
  // reduceInto at B's last rank: the sum of A's arrays.
  const last = (groupB.length) - 1;
  const isRoot = !inA && ic.rank === last;
  const into = new Int32Array(2);
  const reduced = await ic.reduceInto(inA ? new Int32Array([rank, 1]) : null, isRoot ? into : null, MPI.SUM, rootArg(false, last, ic));
  if (isRoot) assert.deepEqual(reduced, new Int32Array([sum(groupA), groupA.length]));
  else assert.equal(reduced, null);
  // gathervInto at A's rank 0: remote rank r sends r + 1 elements, placed from the back.
  const counts = theirs.map((_, r) => r + 1);
  const total = sum(counts);
  const displs = counts.map((_, r) => total - sum(counts.slice(0, r + 1)));
  const rootA = inA && ic.rank === 0;
  const gathered = new Uint16Array(total);
  const mineToSend = new Uint16Array(ic.rank + 1).fill(valueOf(rank));
  const result = await ic.gathervInto(inA ? null : mineToSend, rootA ? gathered : null, rootA ? counts : null, rootA ? displs : null,
    rootArg(true, 0, ic));
  if (rootA) {
    const expected = new Uint16Array(total);
    theirs.forEach((w, r) => expected.fill(valueOf(w), displs[r]!, displs[r]! + counts[r]!));
    assert.deepEqual(result, expected);
  }
  // A Bcast into a buffer of another length fails the receiving group, the root's goes on.
  const wrong = await ic.bcastInto(new Float64Array(inA ? 2 : 5), rootArg(true, 0, ic)).then(() => null, (e: MPI.MPIError) => e);
  if (inA) assert.equal(wrong, null);
  else {
    assert.ok(wrong instanceof MPI.MPIError);
    assert.equal(wrong.errorClass, 'ERR_COUNT');
    assert.match(wrong.message, /^bcastInto: buf: 2 elements came for a buffer of 5/);
  }
  assert.equal(await ic.allreduce(1), ic.remoteSize);
}

/** merge(high) in both orders, and the tie. */
async function merge(ic: MPI.Intercomm): Promise<void> {
  const lowFirst = await ic.merge(!inA);
  assert.equal(lowFirst.rank, rank, 'A (high=false) first: ranks as in COMM_WORLD');
  assert.equal(lowFirst.size, size);
  assert.equal(lowFirst.isIntra, true);
  assert.equal(await lowFirst.allreduce(1), size);
  assert.equal(lowFirst.compare(world), MPI.CONGRUENT);
  const highFirst = await ic.merge(inA);
  const expected = [...groupB, ...groupA];
  assert.equal(highFirst.rank, expected.indexOf(rank), 'B (high=false) first');
  assert.deepEqual(await highFirst.allgather(rank), expected);
  assert.equal(highFirst.compare(world), MPI.SIMILAR);
  const tie = await ic.merge(true);
  assert.equal(tie.rank, rank, 'a tie puts first the group whose rank 0 is lower in COMM_WORLD');
  lowFirst.free();
  highFirst.free();
  tie.free();
}

/** A dup is a separate matching space; disconnect frees it and its use then fails. */
async function dupAndDisconnect(ic: MPI.Intercomm): Promise<void> {
  const copy = await ic.dup();
  const partner = ic.rank < ic.remoteSize ? ic.rank : MPI.PROC_NULL;
  if (partner !== MPI.PROC_NULL) {
    const sent = copy.isend('on the copy', partner, 3);
    assert.equal(ic.iprobe(partner, 3), false);
    assert.equal(await copy.recv(partner, 3), 'on the copy');
    await sent.wait();
  }
  assert.equal(await copy.allreduce(1), ic.remoteSize);
  await copy.disconnect();
  const gone = (call: string) => (err: MPI.MPIError) =>
    err.code === 'MPI4TS_ERR_COMM' && err.message === `${call}: this intercommunicator was disconnected`;
  await assert.rejects(copy.send(1, 0), gone('send'));
  await assert.rejects(copy.bcast(1, 0), gone('bcast'));
  await assert.rejects(copy.barrier(), gone('barrier'));
  await assert.rejects(copy.merge(false), gone('merge'));
  await assert.rejects(copy.disconnect(), gone('disconnect'));
  assert.throws(() => copy.getRemoteGroup(), gone('getRemoteGroup'));
  const freed = await ic.dup();
  freed.free();
  await assert.rejects(freed.allreduce(1), { message: 'allreduce: this intercommunicator was freed' });
  assert.throws(() => freed.free(), { message: 'free: this intercommunicator was freed' });
  // The original is untouched.
  assert.equal(await ic.allreduce(1), ic.remoteSize);
}

/** Bad input: the messages, exactly; and every rank that would wait fails instead. */
async function badInput(ic: MPI.Intercomm): Promise<void> {
  const n = ic.remoteSize;
  const roots = `(MPI.ROOT at the root, MPI.PROC_NULL at the other ranks of its group, the root's rank 0..${n - 1} in the other group)`;
  await assert.rejects(ic.bcast(1, n), (err: MPI.MPIError) => err.code === 'MPI4TS_ERR_ROOT' &&
    err.message === `bcast: root ${n} is not valid on an intercommunicator whose remote group has size ${n} ${roots}`);
  await assert.rejects(ic.reduce(1, MPI.SUM, -7), { message: `reduce: root -7 is not valid on an intercommunicator whose remote group has size ${n} ${roots}` });
  await assert.rejects(ic.gather(1, 0.5), { message: `gather: root 0.5 is not valid on an intercommunicator whose remote group has size ${n} ${roots}` });
  await assert.rejects(ic.allreduce(1, ((x: number, y: number) => x + y) as unknown as MPI.Op),
    { message: 'allreduce: op must be an MPI.Op such as MPI.SUM or one made by MPI.Op.create, got a function (wrap it with MPI.Op.create)' });
  await assert.rejects(ic.send(1, n), { message: `send: dest ${n} is out of range for the remote group of size ${n} (0..${n - 1}, or PROC_NULL)` });
  await assert.rejects(ic.recv(n + 1), { message: `recv: source ${n + 1} is out of range for the remote group of size ${n} (0..${n - 1}, ANY_SOURCE or PROC_NULL)` });
  assert.throws(() => ic.compare(null as unknown as MPI.Comm), { message: 'compare: other must be an MPI.Comm or MPI.Intercomm, got null' });

  // scatter: a root array of the wrong length fails the root and the whole other group.
  const scattered = ic.scatter(inA && ic.rank === 0 ? [...groupB, 'one too many'] : null, rootArg(true, 0, ic));
  const want = `values at the root must be an array of ${size - a} items (one per rank of the remote group), got an array of length ${size - a + 1}`;
  if (inA && ic.rank === 0) await assert.rejects(scattered, (err: MPI.MPIError) => err.code === 'MPI4TS_ERR_COUNT' && err.message === `scatter: ${want}`);
  else if (inA) assert.equal(await scattered, null);
  else if (ic.rank === 0) await assert.rejects(scattered, { message: `scatter: rank 0 of the remote group failed: ${want}` });
  else await assert.rejects(scattered, { message: `scatter: rank 0 failed: rank 0 of the remote group failed: ${want}` });

  // gather: a value that cannot be sent, in B's part: B's leader cannot pass the array on, and the root
  // across learns why, naming B's leader by its rank in the remote group.
  const badGather = ic.gather(!inA && ic.rank === 0 ? (): number => 1 : 0, rootArg(true, 0, ic));
  let senderText = '';
  if (!inA && ic.rank === 0) await assert.rejects(badGather, (err: Error) => { senderText = err.message.replace(/^gather: /, ''); return err.message.startsWith('gather: '); });
  else if (inA && ic.rank === 0) await assert.rejects(badGather, (err: Error) => /^gather: rank 0 of the remote group failed: \S/.test(err.message));
  else assert.equal(await badGather, null);
  if (!inA && ic.rank === 0) await ic.send(senderText, 0, 8);
  if (inA && ic.rank === 0) assert.match(await ic.recv<string>(0, 8), /function/i, 'the codec names what it cannot send');

  // merge: a non-boolean high on A's rank 0 fails every rank of both groups.
  const highArg = inA && ic.rank === 0 ? (1 as unknown as boolean) : false;
  const bad = 'high must be a boolean (true or false), got 1';
  await assert.rejects(ic.merge(highArg), (err: MPI.MPIError) => err.code === 'MPI4TS_ERR_ARG' && err.message ===
    (inA && ic.rank === 0 ? `merge: ${bad}` : `merge: rank 0 of ${inA ? 'this group' : 'the remote group'} passed a bad argument: ${bad}`));
  if (a >= 2) {
    // Ranks of one group that disagree on high.
    const values = groupA.map((_, r) => `rank ${r}: ${String(r === 0)}`).join(', ');
    await assert.rejects(ic.merge(inA ? ic.rank === 0 : false), {
      message: `merge: the ranks of ${inA ? 'this group' : 'the remote group'} passed different values of high (${values}); MPI requires one value per group`,
    });
  }

  // createIntercomm: localLeader out of range, on every rank.
  await assert.rejects(half.createIntercomm(half.size, world, 0), (err: MPI.MPIError) => err.code === 'MPI4TS_ERR_RANK' &&
    err.message === `createIntercomm: localLeader ${half.size} is out of range for a communicator of size ${half.size} (0..${half.size - 1})`);
  await assert.rejects(half.createIntercomm(0, world, 0, -1), { message: `createIntercomm: tag -1 is not a valid tag (an integer from 0 to TAG_UB = ${MPI.TAG_UB})` });
  // A peerComm that is not a Comm, at both leaders: both groups fail, the leaders' ranks naming it.
  const notAComm = `peerComm must be an MPI.Comm holding both leaders (an intracommunicator such as COMM_WORLD), got 42`;
  await assert.rejects(half.createIntercomm(0, (half.rank === 0 ? 42 : null) as unknown as MPI.Comm, 0, 1), (err: MPI.MPIError) =>
    err.code === 'MPI4TS_ERR_COMM' && err.message === `createIntercomm: ${half.rank === 0 ? '' : 'local leader 0 failed: '}${notAComm}`);
  // An intercommunicator is no peerComm either.
  await assert.rejects(half.createIntercomm(0, ic as unknown as MPI.Comm, 0, 1), {
    message: `createIntercomm: ${half.rank === 0 ? '' : 'local leader 0 failed: '}${notAComm.replace('got 42', 'got an MPI.Intercomm')}`,
  });
  // remoteLeader out of range, and the leader itself.
  await assert.rejects(half.createIntercomm(0, world, size, 1), {
    message: `createIntercomm: ${half.rank === 0 ? '' : 'local leader 0 failed: '}remoteLeader ${size} is out of range for peerComm of size ${size} (0..${size - 1})`,
  });
  await assert.rejects(half.createIntercomm(0, world, mine[0]!, 1), {
    message: `createIntercomm: ${half.rank === 0 ? '' : 'local leader 0 failed: '}remoteLeader ${mine[0]} is this process itself (the local leader); it must be the other group's leader`,
  });
  if (a >= 2) {
    // A's leader names a rank of its own group; B's leader names itself, so that B fails too instead of waiting.
    await assert.rejects(half.createIntercomm(0, world, inA ? 1 : a, 1), {
      message: `createIntercomm: ${half.rank === 0 ? '' : 'local leader 0 failed: '}` + (inA
        ? 'remoteLeader 1 of peerComm is a member of this communicator; the two groups of an intercommunicator must be disjoint (MPI 4.1 section 7.6.2)'
        : `remoteLeader ${a} is this process itself (the local leader); it must be the other group's leader`),
    });
  }
  // After all that, the intercommunicator and the world still work.
  assert.equal(await ic.allreduce(1), ic.remoteSize);
  assert.equal(await world.allreduce(1), size);
}

/** One rank: there is no second group, and createIntercomm says why. */
async function oneRank(): Promise<void> {
  await assert.rejects(MPI.COMM_SELF.createIntercomm(0, world, 0, 3), (err: MPI.MPIError) => err.code === 'MPI4TS_ERR_RANK' &&
    err.message === 'createIntercomm: remoteLeader 0 is this process itself (the local leader); it must be the other group\'s leader');
  assert.equal(MPI.ROOT, -3);
  assert.notEqual(MPI.ROOT, MPI.PROC_NULL);
  assert.notEqual(MPI.ROOT, MPI.ANY_SOURCE);
}

const checks: Record<string, (ic: MPI.Intercomm) => Promise<void>> = {
  shape, p2p, barrier, bcast, scatterGather, reductions, bufferForms, merge, dupAndDisconnect, badInput,
};
if (inter === null) {
  await oneRank();
  await agree('oneRank');
} else {
  const selected = process.argv.slice(2).filter((arg) => arg in checks);
  for (const name of selected.length > 0 ? selected : Object.keys(checks)) {
    await checks[name]!(inter);
    await agree(name);
  }
  await inter.disconnect();
}
half.free();
