// bcastInto's scatter + allgather (src/coll/bcast-scatter-allgather.ts) on
// the in-memory network: forced, at every size from 1 to 64 ranks and every
// root of the smaller ones, every element type, zero counts and counts below
// the rank count, the same buffers as the binomial tree gives; the root's
// choice followed by every rank when counts disagree or a buffer is bad (no
// rank left waiting: runRanks rejects with Stuck otherwise); and the choice
// where the model puts it (test/coll/model.test.ts style: by messages sent).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as buffers from '../../src/coll/buffers.js';
import type { TypedArray } from '../../src/coll/op.js';
import { BCAST_SCATTER_MIN_BYTES, bcastAlgorithm, bcastBinomialCost, bcastScatterThreshold, bcastScatterAllgatherCost, bcastScatterCrossoverBytes, SHARED_MEMORY, GIGABIT_ETHERNET } from '../../src/coll/model.js';
import { MPIError } from '../../src/base/index.js';
import { MemoryNetwork, runRanks, valuesOf } from './memory-link.js';
import { filled, TYPES, type Ctor } from './typed-arrays.js';

async function broadcast(size: number, root: number, type: Ctor, length: number, algorithm: 'binomial' | 'scatter-allgather',
  network = new MemoryNetwork(size)): Promise<TypedArray[]> {
  return valuesOf(size, 'bcastInto', async (ch) => {
    const buf = ch.rank === root ? filled(type, length, root + 1) : new type(length);
    assert.equal(await buffers.bcastInto(ch, buf, root, algorithm), buf, 'the caller\'s own array comes back');
    return buf;
  }, network);
}

test('scatter + allgather equals the binomial tree at every size from 1 to 64 ranks', async () => {
  for (let size = 1; size <= 64; size++) {
    const roots = size <= 8 ? Array.from({ length: size }, (_, r) => r) : [0, size - 1];
    for (const root of roots) {
      for (const length of size <= 16 ? [0, 1, size + 3, 5 * size] : [5 * size]) {
        const tree = await broadcast(size, root, Float64Array, length, 'binomial');
        const scattered = await broadcast(size, root, Float64Array, length, 'scatter-allgather');
        assert.deepEqual(scattered, tree, `${size} ranks from ${root}, ${length} elements`);
        for (const buf of scattered) assert.deepEqual(buf, filled(Float64Array, length, root + 1));
      }
    }
  }
});

test('scatter + allgather of every element type, and of a part of an array', async () => {
  for (const size of [3, 5, 8]) {
    for (const type of TYPES) {
      for (const root of [0, size - 1]) {
        for (const buf of await broadcast(size, root, type, 4 * size + 1, 'scatter-allgather')) assert.deepEqual(buf, filled(type, 4 * size + 1, root + 1), type.name);
      }
    }
    const wholes = await valuesOf(size, 'bcastInto', async (ch) => {
      const whole = new Float64Array(3 * size + 4).fill(-1);
      if (ch.rank === 1) whole.fill(9, 2, 2 + 3 * size);
      await buffers.bcastInto(ch, { buf: whole, offset: 2, count: 3 * size }, 1, 'scatter-allgather');
      return whole;
    });
    const expected = new Float64Array(3 * size + 4).fill(-1).fill(9, 2, 2 + 3 * size);
    for (const whole of wholes) assert.deepEqual(whole, expected, `only the part is written, ${size} ranks`);
  }
});

/** The outcome on each rank: 'ok' or its error's message. */
async function outcomes(size: number, make: (rank: number) => unknown, root = 0, algorithm: 'auto' | 'scatter-allgather' = 'scatter-allgather'): Promise<string[]> {
  const results = await runRanks(size, 'bcastInto', (ch) => buffers.bcastInto(ch, make(ch.rank), root, algorithm));
  return results.map((outcome) => {
    if (outcome.error === undefined) return 'ok';
    assert.ok(outcome.error instanceof MPIError || outcome.error instanceof TypeError, outcome.error.name);
    return outcome.error.message;
  });
}

test('the root chooses: a rank whose count differs fails naming both counts, the ranks after it in the ring learn of it, and every rank runs the whole pattern', async () => {
  for (const size of [3, 4, 7, 12]) {
    for (const odd of [1, size - 1]) {
      for (const length of [4 * size - 1, 4 * size + 8]) {
        const got = await outcomes(size, (r) => new Float64Array(r === odd ? length : 4 * size));
        assert.match(got[odd]!, new RegExp(`^bcastInto: the root's buffer holds ${32 * size} bytes but this rank's takes ${8 * length} .*the ranks' counts disagree`), `${size} ranks, rank ${odd}`);
      }
    }
  }
});

test('a rank whose buffer is bad drains the parts and fails; a bad root buffer goes by the tree, failing every rank', async () => {
  for (const size of [3, 5, 8]) {
    const got = await outcomes(size, (r) => (r === 2 ? [1, 2] : new Float64Array(4 * size)));
    assert.match(got[2]!, /^bcastInto: buf must be a typed array/);
    const root = await outcomes(size, (r) => (r === 0 ? 'nothing' : new Float64Array(4 * size)));
    for (const message of root) assert.match(message, /buf must be a typed array/, `${size} ranks`);
  }
});

test('the model: scatter + allgather from the crossover on 3 ranks or more, never on 2; bcastInto switches there', async () => {
  assert.equal(bcastScatterCrossoverBytes(2, SHARED_MEMORY), Infinity);
  for (const link of [SHARED_MEMORY, GIGABIT_ETHERNET]) {
    for (const p of [3, 4, 8, 64, 1024]) {
      const n = bcastScatterCrossoverBytes(p, link);
      assert.ok(bcastScatterAllgatherCost(p, n * 1.01, link) < bcastBinomialCost(p, n * 1.01, link), `p ${p} on ${link.name}`);
      assert.ok(bcastScatterAllgatherCost(p, n * 0.99, link) > bcastBinomialCost(p, n * 0.99, link), `p ${p} on ${link.name}`);
    }
  }
  const p = 8;
  const cross = bcastScatterThreshold(p);
  assert.equal(cross, Math.max(BCAST_SCATTER_MIN_BYTES, bcastScatterCrossoverBytes(p, SHARED_MEMORY)), 'the measured floor, or the model above it');
  assert.ok(bcastScatterThreshold(1 << 20) > BCAST_SCATTER_MIN_BYTES, 'at a million ranks the model\'s crossover is above the floor');
  assert.equal(bcastAlgorithm(p, Math.floor(cross) - 1), 'binomial');
  assert.equal(bcastAlgorithm(p, Math.ceil(cross)), 'scatter-allgather');
  assert.equal(bcastAlgorithm(2, 1 << 30), 'binomial');
  const messages = async (bytes: number): Promise<number> => {
    const network = new MemoryNetwork(p);
    await valuesOf(p, 'bcastInto', (ch) => buffers.bcastInto(ch, new Uint8Array(bytes).fill(ch.rank === 3 ? 1 : 0), 3, 'auto'), network);
    return network.activity / 2;
  };
  // The tree: 7 messages. The scatter: 7 announcements and 7 parts down the tree, then 7 ring steps of 8.
  assert.equal(await messages(Math.floor(cross) - 1), 7);
  assert.equal(await messages(Math.ceil(cross)), 7 + 7 + 56);
});
