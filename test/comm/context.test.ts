import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  collectiveContext, ContextPool, contextIdOf, MAX_CONTEXT_IDS, pointToPointContext, SELF_CONTEXT_ID, WORLD_CONTEXT_ID,
} from '../../src/comm/context.js';

/** The AND of two members' free masks, as the BAND allreduce of a creation computes it. */
function everywhereFree(a: ContextPool, b: ContextPool): Uint32Array {
  const other = b.freeMask();
  return a.freeMask().map((word, i) => word & other[i]!);
}

test('context ids and matching contexts: 2n for point-to-point, 2n + 1 for collectives', () => {
  assert.equal(pointToPointContext(WORLD_CONTEXT_ID), 0);
  assert.equal(collectiveContext(WORLD_CONTEXT_ID), 1);
  assert.equal(pointToPointContext(SELF_CONTEXT_ID), 2);
  assert.equal(collectiveContext(SELF_CONTEXT_ID), 3);
  assert.equal(pointToPointContext(MAX_CONTEXT_IDS - 1), 4094);
  assert.equal(collectiveContext(MAX_CONTEXT_IDS - 1), 4095);
  for (const id of [0, 1, 2, 31, 32, 2047]) assert.equal(contextIdOf(pointToPointContext(id)), id);
});

test('context pool: world and self are taken from the start, every other id is free', () => {
  const pool = new ContextPool();
  assert.equal(pool.isFree(WORLD_CONTEXT_ID), false);
  assert.equal(pool.isFree(SELF_CONTEXT_ID), false);
  for (let id = 2; id < MAX_CONTEXT_IDS; id++) assert.equal(pool.isFree(id), true, `id ${id}`);
  assert.equal(pool.freeMask().length, MAX_CONTEXT_IDS / 32);
});

test('context pool: take and release flip one id, on either side of a word boundary', () => {
  const pool = new ContextPool();
  for (const id of [31, 32, 2047]) pool.take(id);
  assert.deepEqual([30, 31, 32, 33, 2046, 2047].map((id) => pool.isFree(id)), [true, false, false, true, true, false]);
  pool.release(32);
  assert.deepEqual([31, 32, 33].map((id) => pool.isFree(id)), [false, true, true]);
});

test('context pool: the free mask is a copy, so an offer does not change with later takes', () => {
  const pool = new ContextPool();
  const offered = pool.freeMask();
  pool.take(2);
  assert.equal(ContextPool.lowestFree(offered), 2);
  assert.equal(ContextPool.lowestFree(pool.freeMask()), 3);
  offered.fill(0);
  assert.equal(pool.isFree(3), true);
});

test('lowestFree: the lowest id free on every member, in any word', () => {
  const pool = new ContextPool();
  assert.equal(ContextPool.lowestFree(pool.freeMask()), 2);
  pool.take(2);
  const other = new ContextPool();
  other.take(3);
  assert.equal(ContextPool.lowestFree(everywhereFree(pool, other)), 4);
  for (let id = 4; id < 40; id++) other.take(id);
  assert.equal(ContextPool.lowestFree(everywhereFree(pool, other)), 40);
  pool.release(2);
  assert.equal(ContextPool.lowestFree(pool.freeMask()), 2);
  const onlyTop = new Uint32Array(MAX_CONTEXT_IDS / 32);
  onlyTop[onlyTop.length - 1] = 0x8000_0000;
  assert.equal(ContextPool.lowestFree(onlyTop), 2047);
});

test('lowestFree: no id left says how many communicators exist and what to do', () => {
  const pool = new ContextPool();
  for (let id = 2; id < MAX_CONTEXT_IDS; id++) pool.take(id);
  assert.throws(() => ContextPool.lowestFree(pool.freeMask()), {
    name: 'MPIError',
    errorClass: 'ERR_OTHER',
    message: 'no communicator context left: 2048 communicators exist at once on some rank of the parent ' +
      'communicator; free() the ones you no longer use',
  });
  pool.release(2047);
  assert.equal(ContextPool.lowestFree(pool.freeMask()), 2047);
});

test('serialize: creations run one at a time, in the order they were started', async () => {
  const pool = new ContextPool();
  const events: string[] = [];
  let openFirst!: () => void;
  const first = pool.serialize(async () => {
    events.push('first starts');
    await new Promise<void>((resolve) => { openFirst = resolve; });
    events.push('first ends');
    return 1;
  });
  const second = pool.serialize(async () => {
    events.push('second starts');
    return 2;
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(events, ['first starts'], 'the second waits for the first');
  openFirst();
  assert.deepEqual(await Promise.all([first, second]), [1, 2]);
  assert.deepEqual(events, ['first starts', 'first ends', 'second starts']);
});

test('serialize: a failed creation rejects its own caller only, and the next one runs', async () => {
  const pool = new ContextPool();
  const failed = pool.serialize(() => Promise.reject(new Error('split: bad color')));
  const next = pool.serialize(() => Promise.resolve('dup done'));
  await assert.rejects(failed, /^Error: split: bad color$/);
  assert.equal(await next, 'dup done');
});
