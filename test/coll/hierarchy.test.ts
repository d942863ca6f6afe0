// The two-level broadcasts (src/coll/hierarchy.ts) on an in-memory network
// whose ranks are spread over hosts: by blocks (as mpi4ts run places them),
// round robin (as --map-by node), and unevenly. Each result is checked
// against the serial one, at every root, and the messages between hosts are
// counted: two levels must cross the network once per leader per round
// (hosts - 1 messages for a bcast), where a flat tree of a round-robin
// placement crosses it with nearly every message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as collectives from '../../src/coll/collectives.js';
import * as buffers from '../../src/coll/buffers.js';
import { spansHosts } from '../../src/coll/hierarchy.js';
import { MAX, SUM } from '../../src/coll/op.js';
import { MemoryNetwork, runRanks, valuesOf } from './memory-link.js';

type Layout = (size: number) => number[];
const LAYOUTS: [string, Layout][] = [
  ['blocks of 4', (size) => Array.from({ length: size }, (_, r) => Math.floor(r / 4))],
  ['round robin over 3', (size) => Array.from({ length: size }, (_, r) => r % 3)],
  ['uneven', (size) => Array.from({ length: size }, (_, r) => (r * r) % 5 === 0 ? 0 : r % 2 + 1)],
];
const SIZES = [3, 4, 5, 7, 8, 9, 13, 16, 17];
const ranks = (size: number): number[] => Array.from({ length: size }, (_, r) => r);
const hostCount = (hosts: readonly number[]): number => new Set(hosts).size;

for (const [name, layout] of LAYOUTS) {
  test(`two levels, ${name}: bcast and bcastInto match the serial results at every root, and the flat calls beside them still do`, async () => {
    for (const size of SIZES) {
      const hosts = layout(size);
      const two = new MemoryNetwork(size, hosts).channel(0);
      if (!spansHosts(two)) continue;
      for (const root of ranks(size)) {
        const got = await valuesOf(size, 'bcast', (ch) => collectives.bcast(ch, ch.rank === root ? { from: root, list: [1, 2] } : null, root),
          new MemoryNetwork(size, hosts));
        assert.deepEqual(got, ranks(size).map(() => ({ from: root, list: [1, 2] })), `bcast, ${size} ranks, root ${root}`);
        const into = await valuesOf(size, 'bcastInto', async (ch) => Array.from(await buffers.bcastInto(ch,
          ch.rank === root ? Float64Array.of(root, 2.5, -1) : new Float64Array(3), root) as Float64Array), new MemoryNetwork(size, hosts));
        assert.deepEqual(into, ranks(size).map(() => [root, 2.5, -1]), `bcastInto, ${size} ranks, root ${root}`);
        const reduced = await valuesOf(size, 'reduce', (ch) => collectives.reduce(ch, ch.rank + 1, SUM, root), new MemoryNetwork(size, hosts));
        assert.deepEqual(reduced, ranks(size).map((r) => (r === root ? (size * (size + 1)) / 2 : null)), `reduce, ${size} ranks, root ${root}`);
      }
      const sum = await valuesOf(size, 'allreduce', (ch) => collectives.allreduce(ch, ch.rank * 10, SUM), new MemoryNetwork(size, hosts));
      assert.deepEqual(sum, ranks(size).map(() => 10 * (size * (size - 1)) / 2), `allreduce, ${size} ranks`);
      const max = await valuesOf(size, 'allreduce', (ch) => collectives.allreduce(ch, (ch.rank * 7) % size, MAX), new MemoryNetwork(size, hosts));
      assert.deepEqual(max, ranks(size).map(() => Math.max(...ranks(size).map((r) => (r * 7) % size))), `allreduce MAX, ${size} ranks`);
      // Long arrays: the leaders take the ring (a 16-element threshold here), with chunks of every host's sum.
      const arrays = await valuesOf(size, 'allreduce', async (ch) => Array.from(await collectives.allreduce(ch,
        Float64Array.from({ length: 40 }, (_, i) => ch.rank * 100 + i), SUM, 16) as Float64Array), new MemoryNetwork(size, hosts));
      const expected = Array.from({ length: 40 }, (_, i) => 100 * (size * (size - 1)) / 2 + i * size);
      for (const result of arrays) assert.deepEqual(result, expected, `allreduce of arrays, ${size} ranks`);
      const intoBuffers = await valuesOf(size, 'allreduceInto', async (ch) => {
        const recv = new Float64Array(40);
        await collectives.allreduceInto(ch, Float64Array.from({ length: 40 }, (_, i) => ch.rank * 100 + i), recv, SUM, 16);
        return Array.from(recv);
      }, new MemoryNetwork(size, hosts));
      for (const result of intoBuffers) assert.deepEqual(result, expected, `allreduceInto, ${size} ranks`);
      await valuesOf(size, 'barrier', (ch) => collectives.barrier(ch), new MemoryNetwork(size, hosts));
    }
  });
}

test('two levels cross the network once per leader and round: a bcast sends hosts - 1 messages between hosts', async () => {
  for (const size of [6, 9, 12, 16, 17]) {
    const hosts = Array.from({ length: size }, (_, r) => r % 3);
    for (const root of [0, 1, size - 1]) {
      const twoLevel = new MemoryNetwork(size, hosts);
      await valuesOf(size, 'bcast', (ch) => collectives.bcast(ch, ch.rank === root ? 'x' : null, root), twoLevel);
      assert.equal(twoLevel.crossings, hostCount(hosts) - 1, `bcast, ${size} ranks round robin over 3 hosts, root ${root}`);
      // The same call flat (no host known) on the same placement crosses between hosts for most of its size - 1 messages.
      const flat = new MemoryNetwork(size, hosts, true);
      await valuesOf(size, 'bcast', (ch) => collectives.bcast(ch, ch.rank === root ? 'x' : null, root), flat);
      assert.ok(flat.crossings >= size / 2, `flat bcast crossed ${flat.crossings} times`);
    }
  }
});

test('two levels: a failure at the root of a bcastInto (a buffer that is no typed array) reaches every rank, nothing left waiting', async () => {
  for (const size of [5, 8, 13]) {
    const hosts = Array.from({ length: size }, (_, r) => Math.floor(r / 3));
    for (const root of [0, 1, size - 1]) {
      const outcomes = await runRanks(size, 'bcastInto', (ch) => buffers.bcastInto(ch, ch.rank === root ? 'not an array' : new Float64Array(4), root),
        new MemoryNetwork(size, hosts));
      for (const outcome of outcomes) {
        assert.ok(outcome.error !== undefined, `rank ${outcome.rank} of ${size} did not fail (bad buffer at root ${root})`);
        assert.match(outcome.error.message, outcome.rank === root ? /^bcastInto: buf must be/ : new RegExp(`^bcastInto: rank ${root} failed: buf must be`));
      }
    }
  }
});

test('one host, or one rank per host: no two levels (the flat algorithm is the same thing)', () => {
  assert.equal(spansHosts(new MemoryNetwork(6, [0, 0, 0, 0, 0, 0]).channel(0)), false);
  assert.equal(spansHosts(new MemoryNetwork(4, [0, 1, 2, 3]).channel(0)), false);
  assert.equal(spansHosts(new MemoryNetwork(4).channel(0)), false);
  assert.equal(spansHosts(new MemoryNetwork(4, [0, 0, 1, 1]).channel(0)), true);
});
