import { test } from 'node:test';
import assert from 'node:assert/strict';
import { placeRanks, type PlacementRequest } from '../../src/launcher/placement.js';
import type { HostEntry } from '../../src/launcher/hostfile.js';

const host = (name: string, slots: number, maxSlots: number | null = null): HostEntry => ({ name, slots, maxSlots });
const fourByTwo = [host('a', 2), host('b', 2), host('c', 2), host('d', 2)];
const base: PlacementRequest = { hosts: fourByTwo, np: 8, mapBy: 'slot', ppn: null, oversubscribe: false };

test('slot filling (default) fills each host before the next', () => {
  assert.deepEqual(placeRanks(base), ['a', 'a', 'b', 'b', 'c', 'c', 'd', 'd']);
  assert.deepEqual(placeRanks({ ...base, np: 3 }), ['a', 'a', 'b']);
});

test('--map-by node goes round robin over hosts', () => {
  assert.deepEqual(placeRanks({ ...base, mapBy: 'node' }), ['a', 'b', 'c', 'd', 'a', 'b', 'c', 'd']);
  assert.deepEqual(placeRanks({ ...base, mapBy: 'node', hosts: [host('a', 3), host('b', 1)], np: 4 }), ['a', 'b', 'a', 'a']);
});

test('no -n: one rank per slot', () => {
  assert.equal(placeRanks({ ...base, np: null }).length, 8);
});

test('--ppn N gives every host N slots', () => {
  assert.deepEqual(placeRanks({ ...base, ppn: 1, np: 4 }), ['a', 'b', 'c', 'd']);
  assert.deepEqual(placeRanks({ ...base, ppn: 3, np: 4 }), ['a', 'a', 'a', 'b']);
});

test('more ranks than slots is an error without --oversubscribe', () => {
  assert.throws(() => placeRanks({ ...base, np: 9 }),
    /^UsageError: -n 9 needs 9 slots but the hosts offer 8 \(a:2, b:2, c:2, d:2\); add hosts or slots, or allow more ranks than slots with --oversubscribe$/);
});

test('--oversubscribe places the extra ranks round robin, within max_slots', () => {
  assert.deepEqual(placeRanks({ ...base, np: 10, oversubscribe: true }), ['a', 'a', 'b', 'b', 'c', 'c', 'd', 'd', 'a', 'b']);
  const capped = [host('a', 1, 1), host('b', 1, 3)];
  assert.deepEqual(placeRanks({ ...base, hosts: capped, np: 4, oversubscribe: true }), ['a', 'b', 'b', 'b']);
  assert.throws(() => placeRanks({ ...base, hosts: capped, np: 5, oversubscribe: true }),
    /-n 5 is more than the hosts' max_slots allow \(4 in all\), even with --oversubscribe/);
});
