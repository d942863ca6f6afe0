// The cost model (src/coll/model.ts) and the switch it drives: the analytic
// crossover of the allreduce's ring and recursive doubling is where the two
// costs cross, and the allreduce takes the ring exactly from the threshold
// the model scales with the rank count, which the in-memory runs show by the
// messages each call sends (recursive doubling: about p log2 p; the ring:
// the shapes' doubling plus 2p(p-1)).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as collectives from '../../src/coll/collectives.js';
import { takesRing } from '../../src/coll/allreduce.js';
import { SUM } from '../../src/coll/op.js';
import {
  GIGABIT_ETHERNET, SHARED_MEMORY, allreduceAlgorithm, allreduceRabenseifnerCost, allreduceRecursiveDoublingCost, allreduceRingCost, bcastBinomialCost,
  bcastTwoLevelCost, rabenseifnerRingCrossoverBytes, ringCrossoverBytes, ringThreshold,
} from '../../src/coll/model.js';
import { MemoryNetwork, valuesOf } from './memory-link.js';

const RING_MIN = 64 * 1024;

test('the ring crossover is where the two costs cross, on every link and rank count', () => {
  for (const link of [SHARED_MEMORY, GIGABIT_ETHERNET]) {
    for (const p of [2, 3, 4, 5, 8, 13, 64, 100, 256, 1024]) {
      const n = ringCrossoverBytes(p, link);
      assert.ok(Number.isFinite(n) && n > 0, `p ${p}: ${n}`);
      assert.ok(allreduceRingCost(p, n * 1.01, link) < allreduceRecursiveDoublingCost(p, n * 1.01, link), `p ${p} on ${link.name}: ring not cheaper just above ${n}`);
      assert.ok(allreduceRingCost(p, n * 0.99, link) > allreduceRecursiveDoublingCost(p, n * 0.99, link), `p ${p} on ${link.name}: ring cheaper just below ${n}`);
    }
  }
});

test('the threshold is the measured one up to 4 ranks and grows with the model beyond', () => {
  for (const p of [2, 3, 4]) assert.equal(ringThreshold(p, RING_MIN), RING_MIN);
  assert.equal(ringThreshold(7, 0), 0, 'MPI4TS_RING_MIN_BYTES=0 still forces the ring');
  // Off a power of two the fold makes doubling dearer: never below the measured floor there.
  for (const p of [5, 6, 7]) assert.equal(ringThreshold(p, RING_MIN), RING_MIN, `p ${p}`);
  let previous = RING_MIN;
  for (const p of [8, 16, 64, 256, 1024]) {
    const threshold = ringThreshold(p, RING_MIN);
    assert.ok(threshold > previous, `p ${p}: ${threshold} after ${previous}`);
    assert.equal(threshold, Math.round(RING_MIN * ringCrossoverBytes(p, SHARED_MEMORY) / ringCrossoverBytes(4, SHARED_MEMORY)));
    previous = threshold;
  }
  assert.ok(ringThreshold(1024, RING_MIN) > 3.5 * 2 ** 20 && ringThreshold(1024, RING_MIN) < 4.5 * 2 ** 20, String(ringThreshold(1024, RING_MIN)));
  // takesRing flips at it, a byte either side.
  for (const p of [2, 8, 64]) {
    const bytes = ringThreshold(p, RING_MIN);
    const elements = Math.ceil(bytes / 8);
    assert.equal(takesRing(new Float64Array(elements), SUM, p, RING_MIN), true, `p ${p}: ${elements * 8} B`);
    assert.equal(takesRing(new Uint8Array(bytes - 1), SUM, p, RING_MIN), false, `p ${p}: ${bytes - 1} B`);
  }
});

test('the allreduce switches where the model says: on 8 ranks a 96 KiB array goes by doubling, a 104 KiB one by Rabenseifner', async () => {
  const p = 8;
  assert.ok(ringThreshold(p, RING_MIN) > 96 * 1024 && ringThreshold(p, RING_MIN) < 104 * 1024);
  const messages = async (bytes: number): Promise<number> => {
    const network = new MemoryNetwork(p);
    const results = await valuesOf(p, 'allreduce', async (ch) => (await collectives.allreduce(ch, new Float64Array(bytes / 8).fill(ch.rank), SUM, RING_MIN) as Float64Array)[0], network);
    assert.deepEqual(results, Array(p).fill((p * (p - 1)) / 2));
    return network.activity / 2;
  };
  // Recursive doubling of 8 ranks: 3 rounds of 8 messages. Rabenseifner: the shapes' 24, then 3 halving and 3 doubling steps of 8.
  assert.equal(await messages(96 * 1024), 24);
  assert.equal(await messages(104 * 1024), 24 + 48);
});

test('Rabenseifner\'s cost is below the ring\'s on a power of two at any size; off one the ring wins from the crossover, which grows with p', () => {
  for (const link of [SHARED_MEMORY, GIGABIT_ETHERNET]) {
    for (const p of [2, 4, 8, 64, 1024]) {
      assert.equal(rabenseifnerRingCrossoverBytes(p, link), Infinity, `p ${p}`);
      for (const n of [8, 1 << 16, 1 << 24]) assert.ok(allreduceRabenseifnerCost(p, n, link) <= allreduceRingCost(p, n, link), `p ${p}, ${n} B`);
    }
    assert.equal(rabenseifnerRingCrossoverBytes(3, link), 0, 'on 3 ranks both take 4 steps: the ring, without the fold, always');
    let previous = 0;
    for (const p of [5, 7, 12, 100, 1000]) {
      const n = rabenseifnerRingCrossoverBytes(p, link);
      assert.ok(n > previous && Number.isFinite(n), `p ${p}: ${n} after ${previous}`);
      assert.ok(allreduceRingCost(p, n * 1.01, link) < allreduceRabenseifnerCost(p, n * 1.01, link), `p ${p}: ring not cheaper above ${n}`);
      assert.ok(allreduceRingCost(p, n * 0.99, link) > allreduceRabenseifnerCost(p, n * 0.99, link), `p ${p}: ring cheaper below ${n}`);
      previous = n;
    }
  }
  // The three-way choice: doubling below the ring's threshold, then Rabenseifner up to the crossover, then the ring.
  assert.equal(allreduceAlgorithm(8, 64 * 1024 - 1, RING_MIN), 'doubling');
  assert.equal(allreduceAlgorithm(8, 1 << 30, RING_MIN), 'rabenseifner');
  assert.equal(allreduceAlgorithm(7, 1 << 20, RING_MIN), 'ring');
  const cross1000 = rabenseifnerRingCrossoverBytes(1000, SHARED_MEMORY);
  assert.ok(ringThreshold(1000, RING_MIN) < cross1000, `${ringThreshold(1000, RING_MIN)} < ${cross1000}`);
  assert.equal(allreduceAlgorithm(1000, Math.ceil(cross1000) - 8, RING_MIN), 'rabenseifner');
  assert.equal(allreduceAlgorithm(1000, Math.ceil(cross1000) + 8, RING_MIN), 'ring');
});

test('on 12 ranks (the fold) the allreduce takes Rabenseifner below the crossover and the ring above, as the model says', async () => {
  const p = 12;
  const cross = rabenseifnerRingCrossoverBytes(p, SHARED_MEMORY);
  assert.ok(cross > 16 * 1024 && cross < 64 * 1024, String(cross));
  const messages = async (bytes: number): Promise<number> => {
    const network = new MemoryNetwork(p);
    const results = await valuesOf(p, 'allreduce', async (ch) => (await collectives.allreduce(ch, new Float64Array(bytes / 8).fill(ch.rank), SUM, 0) as Float64Array)[0], network);
    assert.deepEqual(results, Array(p).fill((p * (p - 1)) / 2));
    return network.activity / 2;
  };
  const below = Math.floor(cross / 8 - 1) * 8;
  const above = Math.ceil(cross / 8 + 1) * 8;
  // The shapes' doubling with the fold: 4 + 3 x 8 + 4. Rabenseifner: the same pattern twice over (4 + 2 x 3 x 8 + 4); the ring 2 x 11 x 12.
  assert.equal(await messages(below), 32 + 56);
  assert.equal(await messages(above), 32 + 264);
});

test('two levels beat a flat tree of ranks placed round robin at every size, as the model says (and as bench/two-level.ts measured)', () => {
  for (const [hosts, perHost] of [[4, 3], [16, 4], [64, 16]] as const) {
    for (const n of [8, 64 * 1024, 1 << 20]) {
      assert.ok(bcastTwoLevelCost(hosts, perHost, n, GIGABIT_ETHERNET, SHARED_MEMORY) < bcastBinomialCost(hosts * perHost, n, GIGABIT_ETHERNET));
    }
  }
});
