// Group and group-made communicator checks, run at several sizes by test/groups.test.ts.
// Each check throws on a wrong result; rank 0 prints "ok <check>" once all ranks passed it.
import * as MPI from 'mpi4ts';
import assert from 'node:assert/strict';
import { agree } from './agree.js';

const world = MPI.COMM_WORLD;
const { rank, size } = world;
const all = [...Array(size).keys()];
/** A group's members as ranks in COMM_WORLD. */
const worldRanks = (g: MPI.Group): number[] => g.translateRanks([...Array(g.size).keys()], world.getGroup());

/** The group operations, against the same sets computed on plain arrays. */
async function groupAlgebra(): Promise<void> {
  const g = world.getGroup();
  assert.equal(g.size, size);
  assert.equal(g.rank, rank);
  const evens = g.rangeIncl([[0, size - 1, 2]]);
  const odds = g.rangeExcl([[0, size - 1, 2]]);
  assert.deepEqual(worldRanks(evens), all.filter((r) => r % 2 === 0));
  assert.deepEqual(worldRanks(odds), all.filter((r) => r % 2 === 1));
  assert.equal(evens.rank, rank % 2 === 0 ? rank / 2 : MPI.UNDEFINED);
  const reversed = g.incl([...all].reverse());
  assert.equal(reversed.rank, size - 1 - rank);
  assert.equal(g.compare(reversed), size === 1 ? MPI.IDENT : MPI.SIMILAR);
  assert.equal(g.compare(world.getGroup()), MPI.IDENT);
  assert.equal(evens.compare(odds), MPI.UNEQUAL);
  assert.deepEqual(worldRanks(odds.union(evens)), [...worldRanks(odds), ...worldRanks(evens)]);
  assert.equal(odds.union(evens).compare(g), size === 1 ? MPI.IDENT : MPI.SIMILAR);
  assert.equal(g.intersection(odds).compare(odds), MPI.IDENT);
  assert.equal(g.difference(g).size, 0);
  assert.equal(g.difference(MPI.GROUP_EMPTY).compare(g), MPI.IDENT);
  assert.equal(MPI.GROUP_EMPTY.union(g).rank, rank, 'a union with GROUP_EMPTY still knows this process');
  assert.equal(MPI.GROUP_EMPTY.size, 0);
  assert.equal(MPI.GROUP_EMPTY.rank, MPI.UNDEFINED);
  assert.deepEqual(worldRanks(g.excl([0])), all.slice(1));
  // translateRanks: into the reversed group, and from a subgroup back to the world.
  assert.deepEqual(g.translateRanks(all, reversed), all.map((r) => size - 1 - r));
  assert.deepEqual(odds.translateRanks([...worldRanks(odds).keys()], g), worldRanks(odds));
  assert.deepEqual(g.translateRanks([0, MPI.PROC_NULL], odds), [MPI.UNDEFINED, MPI.PROC_NULL]);
  // A descending range, as MPI allows: [last..first] with a negative stride.
  assert.deepEqual(worldRanks(g.rangeIncl([[size - 1, 0, -1]])), [...all].reverse());
}

/** create: one group for all; the others get null; the new communicator works and is isolated. */
async function createOne(): Promise<void> {
  const firstHalf = world.getGroup().rangeIncl([[0, Math.ceil(size / 2) - 1, 1]]);
  const half = await world.create(firstHalf);
  if (rank < Math.ceil(size / 2)) {
    assert.ok(half !== null);
    assert.equal(half.rank, rank);
    assert.equal(half.size, Math.ceil(size / 2));
    assert.equal(await half.allreduce(rank + 1), (half.size * (half.size + 1)) / 2);
    assert.equal(half.compare(world), half.size === size ? MPI.CONGRUENT : MPI.UNEQUAL);
    assert.equal(half.name, '');
    half.free();
  } else {
    assert.equal(half, null);
  }
  // The world goes on after a creation some ranks got null from.
  assert.equal(await world.allreduce(1), size);
}

/** create with disjoint groups, each member passing its own (MPI 2.2): evens and odds at once. */
async function createDisjoint(): Promise<void> {
  const g = world.getGroup();
  const mine = g.incl(all.filter((r) => r % 2 === rank % 2).reverse());
  const comm = await world.create(mine);
  assert.ok(comm !== null);
  assert.deepEqual(worldRanks(comm.getGroup()), worldRanks(mine));
  const expected = worldRanks(mine).reduce((a, b) => a + b, 0);
  assert.equal(await comm.allreduce(rank), expected);
  // Messages on it match by rank in it, in the group's (reversed) order.
  const got = await comm.sendrecv(rank, (comm.rank + 1) % comm.size, 3, (comm.rank - 1 + comm.size) % comm.size, 3);
  assert.equal(got, worldRanks(mine)[(comm.rank - 1 + comm.size) % comm.size]);
  comm.free();
}

/**
 * createGroup: only the members call it, and the others are free to do
 * something else meanwhile (here a split among themselves); two createGroup
 * calls with different tags on overlapping groups.
 */
async function createGroupOnly(): Promise<void> {
  const g = world.getGroup();
  const members = g.excl([size - 1]);
  if (members.rank !== MPI.UNDEFINED) {
    const sub = await world.createGroup(members, 5);
    assert.equal(sub.size, size - 1);
    assert.equal(sub.rank, rank);
    assert.equal(await sub.allreduce(1), size - 1);
    const [a, b] = await Promise.all([world.createGroup(members, 6), world.createGroup(members, 7)]);
    assert.equal(a.compare(b), MPI.CONGRUENT);
    assert.equal(await a.bcast(rank === 0 ? 'from a' : null, 0), 'from a');
    assert.equal(await b.bcast(rank === 0 ? 'from b' : null, 0), 'from b');
    for (const c of [sub, a, b]) c.free();
  } else {
    // The last rank is outside: createGroup refuses it, naming why.
    await assert.rejects(world.createGroup(members), (err: MPI.MPIError) =>
      err.code === 'MPI4TS_ERR_GROUP' && /createGroup: this process \(rank \d+ of the communicator\) is not in the group/.test(err.message));
  }
  assert.equal(await world.allreduce(1), size);
}

/** Names and comparisons of the predefined communicators and a dup. */
async function namesAndCompare(): Promise<void> {
  assert.equal(world.name, 'MPI_COMM_WORLD');
  assert.equal(MPI.COMM_SELF.name, 'MPI_COMM_SELF');
  const copy = await world.dup();
  assert.equal(copy.name, '');
  copy.name = 'copy of world';
  assert.equal(copy.name, 'copy of world');
  assert.equal(world.compare(world), MPI.IDENT);
  assert.equal(world.compare(copy), MPI.CONGRUENT);
  assert.equal(world.compare(MPI.COMM_SELF), size === 1 ? MPI.CONGRUENT : MPI.UNEQUAL);
  assert.throws(() => { copy.name = 'x'.repeat(128); }, /name: a name of 128 characters is not a valid communicator name \(a string of at most 127 characters\)/);
  copy.free();
}

/** Bad input names the call, the argument and what is allowed, and leaves the world usable. */
async function badInput(): Promise<void> {
  const g = world.getGroup();
  assert.throws(() => g.incl([size]), new RegExp(`incl: rank ${size} is out of range for a group of size ${size} \\(0\\.\\.${size - 1}\\)`));
  assert.throws(() => g.incl([0, 0]), /incl: rank 0 appears twice in ranks; each may appear once/);
  assert.throws(() => g.excl([-1]), /excl: rank -1 is out of range/);
  assert.throws(() => g.rangeIncl([[0, 1, 0]]), /rangeIncl: the range \[0, 1, 0\] never reaches 1 from 0/);
  assert.throws(() => g.rangeIncl([[0, 1] as unknown as MPI.RankRange]), /rangeIncl: each range must be a \[first, last, stride\] triplet of integers, got \[0, 1\]/);
  assert.throws(() => g.rangeIncl([[0, size, 1]]), new RegExp(`rangeIncl: rank ${size} is out of range`));
  assert.throws(() => g.union([0] as unknown as MPI.Group), /union: group must be an MPI.Group .*got \[0\]/);
  assert.throws(() => g.rangeIncl(3 as unknown as MPI.RankRange[]), /rangeIncl: ranges must be an array of \[first, last, stride\] triplets, got 3/);
  assert.throws(() => world.createGroup(null as unknown as MPI.Group), (err: MPI.MPIError) => err.code === 'MPI4TS_ERR_GROUP' && /^createGroup: group must be an MPI.Group/.test(err.message));
  assert.throws(() => { world.name = 5 as unknown as string; }, /name: 5 is not a valid communicator name \(a string of at most 127 characters\)/);
  assert.throws(() => g.translateRanks([size], g), /translateRanks: rank \d+ is out of range for a group of size \d+ \(0\.\.\d+, or PROC_NULL\)/);
  assert.throws(() => world.create({} as MPI.Group), (err: MPI.MPIError) => err.code === 'MPI4TS_ERR_GROUP' && /^create: group must be an MPI.Group/.test(err.message));
  assert.throws(() => world.createGroup(g, -3), /createGroup: tag -3 is not a valid tag/);
  assert.throws(() => world.compare(null as unknown as MPI.Comm), { message: 'compare: other must be an MPI.Comm or MPI.Intercomm, got null' });
  // A group from COMM_SELF holds this process only; passed to create on a
  // communicator without it (the split of the others), every rank of that
  // communicator fails, naming the rank whose group was bad.
  const others = await world.split(rank === 0 ? MPI.UNDEFINED : 0);
  if (others !== null && size > 2) {
    const bad = others.rank === 0 ? MPI.COMM_SELF.getGroup().union(world.getGroup().incl([0])) : others.getGroup();
    await assert.rejects(others.create(bad), (err: MPI.MPIError) => err.code === 'MPI4TS_ERR_GROUP' &&
      (others.rank === 0 ? /^create: the group's rank 1 \(rank 0 of COMM_WORLD\) is not in this communicator/ : /^create: rank 0 passed a bad group: create: the group's rank 1/).test(err.message));
  }
  if (others !== null && size > 3) {
    // Members that disagree on their group: every rank says which.
    const disagree = others.getGroup().incl(others.rank === 0 ? [0, 1] : [...Array(others.size).keys()]);
    await assert.rejects(others.create(disagree), /create: rank \d passed the group \[[\d, ]+\] and rank \d, a member of it, passed \[[\d, ]+\]/);
    assert.equal(await others.allreduce(1), size - 1);
  }
  others?.free();
}

const checks: Record<string, () => Promise<void>> = {
  groupAlgebra, createOne, createDisjoint, createGroupOnly, namesAndCompare, badInput,
};
const selected = process.argv.slice(2).filter((a) => a in checks);
for (const name of selected.length > 0 ? selected : Object.keys(checks)) {
  await checks[name]!();
  await agree(name);
}
