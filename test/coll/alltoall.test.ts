// The value alltoall's two algorithms (src/coll/alltoall.ts) on the
// in-memory network: Bruck's equals pairwise at every size from 1 to 64
// ranks, for numbers, strings, objects and holes; a bad input fails every
// rank on both with nothing left in flight; and the choice by rank count is
// where the model puts it, seen by the messages each call sends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as collectives from '../../src/coll/collectives.js';
import { alltoallBruck, alltoallPairwise } from '../../src/coll/alltoall.js';
import { BRUCK_MIN_RANKS, alltoallAlgorithm, alltoallBruckCost, alltoallPairwiseCost, bruckBlocks, NOMINAL_VALUE_BLOCK_BYTES, SHARED_MEMORY } from '../../src/coll/model.js';
import { MemoryNetwork, runRanks, valuesOf } from './memory-link.js';

const item = (from: number, to: number): unknown => {
  switch ((from + to) % 4) {
    case 0: return from * 100 + to;
    case 1: return `${from}->${to}`;
    case 2: return { from, to, list: [from, to] };
    default: return null;
  }
};
const itemsOf = (rank: number, size: number): unknown[] => Array.from({ length: size }, (_, to) => item(rank, to));

test('Bruck\'s alltoall equals pairwise at every size from 1 to 64 ranks', async () => {
  for (let size = 1; size <= 64; size++) {
    const pairwise = await valuesOf(size, 'alltoall', (ch) => alltoallPairwise(ch, itemsOf(ch.rank, size)));
    const bruck = await valuesOf(size, 'alltoall', (ch) => alltoallBruck(ch, itemsOf(ch.rank, size)));
    assert.deepEqual(bruck, pairwise, `${size} ranks`);
    assert.deepEqual(bruck, Array.from({ length: size }, (_, r) => Array.from({ length: size }, (_, from) => item(from, r))), `${size} ranks`);
  }
});

test('a bad input on one rank fails every rank, on both algorithms, with nothing left in flight', async () => {
  for (const size of [2, 3, 5, 8, 13]) {
    for (const algorithm of ['pairwise', 'bruck'] as const) {
      for (const bad of [0, size - 1]) {
        const outcomes = await runRanks(size, 'alltoall', (ch) => collectives.alltoall(ch, ch.rank === bad ? [1] : itemsOf(ch.rank, size), algorithm));
        for (const outcome of outcomes) {
          assert.match(outcome.error?.message ?? '', new RegExp(`values must be an array of ${size} items`), `${algorithm}, ${size} ranks, rank ${outcome.rank}`);
        }
      }
    }
  }
});

test('the choice: the model prefers Bruck from 4 ranks for a small value, the measured floor from 8; each sends what it should', async () => {
  assert.equal(bruckBlocks(8, 4), 4);
  for (const p of [2, 3]) {
    assert.ok(alltoallBruckCost(p, NOMINAL_VALUE_BLOCK_BYTES, SHARED_MEMORY) >= alltoallPairwiseCost(p, NOMINAL_VALUE_BLOCK_BYTES, SHARED_MEMORY));
  }
  for (const p of [2, 3, 4, 7]) assert.equal(alltoallAlgorithm(p), 'pairwise', `p ${p}`);
  for (const p of [4, 5, 8, 64, 1024]) {
    assert.equal(alltoallAlgorithm(p), p >= BRUCK_MIN_RANKS ? 'bruck' : 'pairwise', `p ${p}`);
    assert.ok(alltoallBruckCost(p, NOMINAL_VALUE_BLOCK_BYTES, SHARED_MEMORY) < alltoallPairwiseCost(p, NOMINAL_VALUE_BLOCK_BYTES, SHARED_MEMORY));
  }
  // For large items pairwise wins: each item of Bruck travels once per set bit of its offset.
  assert.ok(alltoallBruckCost(64, 1 << 20, SHARED_MEMORY) > alltoallPairwiseCost(64, 1 << 20, SHARED_MEMORY));
  for (const [p, messages] of [[3, 3 * 2], [7, 7 * 6], [8, 8 * 3], [12, 12 * 4]] as const) {
    const network = new MemoryNetwork(p);
    await valuesOf(p, 'alltoall', (ch) => collectives.alltoall(ch, itemsOf(ch.rank, p), 'auto'), network);
    assert.equal(network.activity / 2, messages, `${p} ranks`);
  }
});
