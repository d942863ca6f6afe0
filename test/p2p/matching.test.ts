import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MatchQueues } from '../../src/p2p/matching.js';
import { ANY_SOURCE, ANY_TAG } from '../../src/base/index.js';

interface Env { source: number; tag: number; id: string }

test('a message matches the earliest posted receive that accepts it', () => {
  const q = new MatchQueues<Env, Env>();
  q.post({ source: 1, tag: 5, id: 'r1' });
  q.post({ source: ANY_SOURCE, tag: 7, id: 'r2' });
  q.post({ source: 2, tag: ANY_TAG, id: 'r3' });
  q.post({ source: ANY_SOURCE, tag: ANY_TAG, id: 'r4' });
  assert.equal(q.arrive({ source: 2, tag: 7, id: 'm1' })?.id, 'r2');
  assert.equal(q.arrive({ source: 2, tag: 9, id: 'm2' })?.id, 'r3');
  assert.equal(q.arrive({ source: 3, tag: 5, id: 'm3' })?.id, 'r4');
  assert.equal(q.arrive({ source: 3, tag: 5, id: 'm4' }), undefined);
  assert.equal(q.arrive({ source: 1, tag: 5, id: 'm5' })?.id, 'r1');
  assert.deepEqual(q.unexpectedMessages.map((m) => m.id), ['m4']);
});

test('a receive takes the earliest unexpected message it matches (non-overtaking)', () => {
  const q = new MatchQueues<Env, Env>();
  for (const [source, tag, id] of [[1, 1, 'a'], [2, 1, 'b'], [1, 2, 'c'], [1, 1, 'd']] as const) q.arrive({ source, tag, id });
  assert.equal(q.peek(1, ANY_TAG)?.id, 'a');
  assert.equal(q.post({ source: 1, tag: 2, id: 'r' })?.id, 'c');
  assert.equal(q.post({ source: 1, tag: 1, id: 'r' })?.id, 'a');
  assert.equal(q.post({ source: ANY_SOURCE, tag: ANY_TAG, id: 'r' })?.id, 'b');
  assert.equal(q.post({ source: 1, tag: ANY_TAG, id: 'r' })?.id, 'd');
  assert.ok(q.isEmpty);
});

test('withdraw takes back only receives that have not matched', () => {
  const q = new MatchQueues<Env, Env>();
  const r = { source: 0, tag: 0, id: 'r' };
  q.post(r);
  assert.equal(q.withdraw(r), true);
  assert.equal(q.withdraw(r), false);
  assert.equal(q.arrive({ source: 0, tag: 0, id: 'm' }), undefined);
});
