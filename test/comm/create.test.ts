/**
 * Communicator creation (src/comm/create.ts) on a parent of one rank, whose
 * collectives exchange no message: what a creation takes from the context
 * pool and the parent's collective order, and the errors it reports. The
 * multi-rank behaviour is test/programs/comm.ts's, under real jobs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMM_TYPE_SHARED, UNDEFINED } from '../../src/base/index.js';
import { ContextPool, MAX_CONTEXT_IDS } from '../../src/comm/context.js';
import { cartCreate, commCreate, commCreateGroup, commDup, commSplit, commSplitType, type CommInit, type Parent } from '../../src/comm/create.js';
import { Group, GROUP_EMPTY } from '../../src/comm/group.js';
import type { CommEngine, CommWorld } from '../../src/comm/world.js';

interface FakeParent extends Parent {
  /** How many collective tags the creations took. */
  readonly tagsTaken: () => number;
}

/** A parent communicator of one rank; its engine must never be used (one rank sends nothing). */
function oneRankParent(): FakeParent {
  // A one-rank parent sends nothing: any use of the engine is a bug.
  const engine = new Proxy({}, { get: (_, name) => { throw new Error(`the engine was used (${String(name)})`); } }) as CommEngine;
  const world: CommWorld = { rank: 0, contexts: new ContextPool(), table: [{ hostId: 'here' }], engine, bootstrap: { abort: () => Promise.resolve() } };
  let tags = 0;
  return {
    rank: 0, size: 1, world, group: [0], collContext: 1,
    worldRankOf: (rank) => rank,
    nextCollectiveTag: () => tags++,
    tagsTaken: () => tags,
  };
}

const asInit = (init: CommInit): CommInit => init;

test('dup takes the lowest free context id and keeps the group', async () => {
  const parent = oneRankParent();
  const first = await commDup(parent, asInit);
  const second = await commDup(parent, asInit);
  assert.deepEqual([first.context, second.context], [4, 6], 'ids 2 and 3: point-to-point contexts 4 and 6');
  assert.equal(first.group, parent.group);
  assert.equal(first.world, parent.world);
  assert.equal(parent.world.contexts.isFree(2), false);
  assert.equal(parent.world.contexts.isFree(3), false);
});

test('a creation takes its collective tags when called, not when it runs', () => {
  const parent = oneRankParent();
  const dup = commDup(parent, asInit);
  assert.equal(parent.tagsTaken(), 1, 'dup: the context agreement');
  const split = commSplit(parent, 0, 0, asInit);
  assert.equal(parent.tagsTaken(), 3, 'split: the allgather of colors, then the agreement');
  return Promise.all([dup, split]);
});

test('split and createCart give the new communicator to its members, null to UNDEFINED', async () => {
  const parent = oneRankParent();
  const sub = await commSplit(parent, 7, 0, asInit);
  assert.deepEqual(sub?.group, [0]);
  assert.equal(sub?.context, 4);
  assert.equal(await commSplit(parent, UNDEFINED, 0, asInit), null);
  assert.equal(parent.world.contexts.isFree(3), true, 'UNDEFINED takes no id');
  const grid = await cartCreate(parent, { dims: [1], periods: [true] }, asInit);
  assert.equal(grid?.context, 6);
  assert.deepEqual((await commSplitType(parent, COMM_TYPE_SHARED, 0, asInit))?.group, [0]);
  assert.equal(await commSplitType(parent, UNDEFINED, 0, asInit), null);
});

test('bad split arguments reject with the call, the argument and what is allowed', async () => {
  const parent = oneRankParent();
  await assert.rejects(commSplit(parent, -4, 0, asInit),
    { name: 'MPIError', errorClass: 'ERR_ARG', message: 'split: color -4 must be a non-negative integer or UNDEFINED' });
  await assert.rejects(commSplit(parent, 0, 1.5, asInit),
    { name: 'MPIError', errorClass: 'ERR_ARG', message: 'split: key 1.5 must be an integer' });
  await assert.rejects(commSplitType(parent, 99, 0, asInit),
    { name: 'MPIError', errorClass: 'ERR_ARG', message: `splitType: type 99 is not supported (COMM_TYPE_SHARED = ${COMM_TYPE_SHARED}, or UNDEFINED)` });
  assert.equal(ContextPool.lowestFree(parent.world.contexts.freeMask()), 2, 'no id was taken');
  assert.equal((await commDup(parent, asInit)).context, 4, 'the parent still creates');
});

test('no context id left: the creation rejects and the next one, after a free, succeeds', async () => {
  const parent = oneRankParent();
  const pool = parent.world.contexts;
  for (let id = 2; id < MAX_CONTEXT_IDS; id++) pool.take(id);
  await assert.rejects(commDup(parent, asInit), /^MPIError: no communicator context left: 2048 communicators exist at once/);
  pool.release(100);
  assert.equal((await commDup(parent, asInit)).context, 200);
});

test('create takes two collective tags and gives its members the group, null to a rank outside its group', async () => {
  const parent = oneRankParent();
  const made = commCreate(parent, new Group([0], 0), asInit);
  assert.equal(parent.tagsTaken(), 2, 'create: the allgather of groups, then the agreement');
  assert.deepEqual((await made)?.group, [0]);
  assert.equal(await commCreate(parent, GROUP_EMPTY, asInit), null);
  await assert.rejects(commCreate(parent, new Group([5], 0), asInit),
    /^MPIError: create: the group's rank 0 \(rank 5 of COMM_WORLD\) is not in this communicator/);
});

test('createGroup takes no collective tag of the parent, refuses a non-member and a group from elsewhere', async () => {
  const parent = oneRankParent();
  const made = await commCreateGroup(parent, new Group([0], 0), 3, asInit);
  assert.equal(parent.tagsTaken(), 0, 'only the members call it: no sequence number of the parent');
  assert.deepEqual(made.group, [0]);
  assert.equal(made.context, 4);
  await assert.rejects(commCreateGroup(parent, GROUP_EMPTY, 0, asInit), (err: Error & { code?: string }) =>
    err.code === 'MPI4TS_ERR_GROUP' && /createGroup: this process \(rank 0 of the communicator\) is not in the group \(0 processes\)/.test(err.message));
  await assert.rejects(commCreateGroup(parent, new Group([0, 9], 0), 0, asInit), /createGroup: the group's rank 1 \(rank 9 of COMM_WORLD\)/);
});
