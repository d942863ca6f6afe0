/**
 * MPI.Group (src/comm/group.ts): the local set operations, on groups of
 * world ranks made directly. The multi-rank behaviour, and groups made into
 * communicators, are test/programs/groups.ts's, under real jobs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONGRUENT, IDENT, PROC_NULL, SIMILAR, UNDEFINED, UNEQUAL } from '../../src/base/index.js';
import { compareComms, compareMembers, Group, GROUP_EMPTY } from '../../src/comm/group.js';

/** The group of world ranks 10..15 as seen by world rank 12. */
const g = new Group([10, 11, 12, 13, 14, 15], 12);

test('size and rank: this process\'s place, UNDEFINED outside', () => {
  assert.equal(g.size, 6);
  assert.equal(g.rank, 2);
  assert.equal(g.excl([2]).rank, UNDEFINED);
  assert.equal(g.incl([5, 2]).rank, 1);
});

test('incl keeps the order given, excl the group\'s; ranges run both ways and stop at last', () => {
  assert.deepEqual(g.incl([5, 0, 3]).members, [15, 10, 13]);
  assert.deepEqual(g.excl([5, 0]).members, [11, 12, 13, 14]);
  assert.deepEqual(g.rangeIncl([[0, 5, 2], [5, 3, -2]]).members, [10, 12, 14, 15, 13]);
  assert.deepEqual(g.rangeIncl([[1, 4, 3]]).members, [11, 14]);
  assert.deepEqual(g.rangeExcl([[0, 4, 2]]).members, [11, 13, 15]);
  assert.deepEqual(g.incl([]).members, []);
});

test('union, intersection and difference keep MPI\'s order: the first group\'s, then the second\'s', () => {
  const a = g.incl([4, 0, 2]);
  const b = g.incl([1, 2, 3, 4]);
  assert.deepEqual(a.union(b).members, [14, 10, 12, 11, 13]);
  assert.deepEqual(a.intersection(b).members, [14, 12]);
  assert.deepEqual(a.difference(b).members, [10]);
  assert.deepEqual(GROUP_EMPTY.union(a).members, [14, 10, 12]);
  assert.equal(GROUP_EMPTY.union(a).rank, 2, 'the union knows this process from the other group');
  assert.equal(a.intersection(GROUP_EMPTY).size, 0);
});

test('translateRanks and compare', () => {
  const reversed = g.incl([5, 4, 3, 2, 1, 0]);
  assert.deepEqual(g.translateRanks([0, 5, PROC_NULL, 0], reversed), [5, 0, PROC_NULL, 5]);
  assert.deepEqual(g.translateRanks([0, 1], g.excl([0])), [UNDEFINED, 0]);
  assert.equal(g.compare(new Group([10, 11, 12, 13, 14, 15], 3)), IDENT);
  assert.equal(g.compare(reversed), SIMILAR);
  assert.equal(g.compare(g.excl([0])), UNEQUAL);
  assert.equal(compareMembers([1, 2], [2, 3]), UNEQUAL);
  assert.equal(GROUP_EMPTY.compare(new Group([], 0)), IDENT);
  assert.equal(compareComms(true, [1, 2], [1, 2]), IDENT);
  assert.equal(compareComms(false, [1, 2], [1, 2]), CONGRUENT);
  assert.equal(compareComms(false, [1, 2], [2, 1]), SIMILAR);
});

test('bad ranks and ranges name the call, the value and what is allowed', () => {
  assert.throws(() => g.incl([6]), /^MPIError: incl: rank 6 is out of range for a group of size 6 \(0\.\.5\)$/);
  assert.throws(() => g.excl([1.5]), /excl: rank 1\.5 is out of range/);
  assert.throws(() => g.incl(['1'] as unknown as number[]), /incl: rank "1" is out of range/);
  assert.throws(() => GROUP_EMPTY.incl([0]), /incl: rank 0 is out of range for a group of size 0 \(it has no ranks\)/);
  assert.throws(() => g.incl(3 as unknown as number[]), /incl: ranks must be an array of ranks, got 3/);
  assert.throws(() => g.rangeExcl([[0, 2, 1], [2, 3, 1]]), /rangeExcl: rank 2 appears twice/);
  assert.throws(() => g.rangeIncl([[3, 0, 1]]), /rangeIncl: the range \[3, 0, 1\] never reaches 0 from 3/);
  // A huge last stops at the first rank beyond the group, named.
  assert.throws(() => g.rangeIncl([[0, 2 ** 40, 1]]), /rangeIncl: rank 6 is out of range/);
  assert.throws(() => g.translateRanks([7], g), /translateRanks: rank 7 is out of range for a group of size 6 \(0\.\.5, or PROC_NULL\)/);
  assert.throws(() => g.compare(null as unknown as Group), (err: Error & { code?: string }) =>
    err.code === 'MPI4TS_ERR_GROUP' && /^compare: group must be an MPI.Group .*, got null$/.test(err.message));
});
