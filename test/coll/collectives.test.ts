// Every collective algorithm of src/coll/ on 1 to 17 ranks of an in-memory
// network (memory-link.ts), against the result computed serially: sizes that
// are powers of two, one more and one less exercise the fold and the trees'
// cut-off subtrees; several roots exercise the relative renumbering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as collectives from '../../src/coll/collectives.js';
import { allreduceRecursiveDoubling, allreduceRing } from '../../src/coll/allreduce.js';
import { MAX, Op, PROD, SUM, type TypedArray } from '../../src/coll/op.js';
import { valuesOf } from './memory-link.js';

const SIZES = Array.from({ length: 17 }, (_, i) => i + 1);

/** The first, second, middle and last ranks. */
function rootsOf(size: number): number[] {
  return [...new Set([0, 1 % size, size >> 1, size - 1])];
}

const ranks = (size: number): number[] => Array.from({ length: size }, (_, r) => r);

/** The serial reduction in rank order, by the op's own combine. */
function reduced<T>(values: readonly T[], op: Op): T {
  return values.reduce((lower, higher) => op.combine(lower, higher) as T);
}

/** Integer-valued doubles, so that a sum is exact in any order; elements differ by rank and index. */
function doubles(rank: number, length: number): Float64Array {
  return Float64Array.from({ length }, (_, i) => rank * 1000 + i - 7);
}

/** Non-commutative: joins in order, so the result shows the order the op saw. */
const JOIN = Op.create((a: string, b: string) => `${a}${b}`, false);
/** Commutative, not predefined: takes the user-op paths. */
const USER_SUM = Op.create((a: number, b: number) => a + b);
const letter = (rank: number): string => String.fromCharCode(65 + rank);

/** Values of every kind the wire carries, different on every rank. */
function payload(rank: number): unknown {
  return { rank, name: `rank ${rank}`, list: [rank, [rank * 2]], map: new Map([[rank, 'x']]), big: BigInt(rank) ** 20n };
}

test('barrier: no rank leaves before every rank has entered, whatever the order they enter in', async () => {
  for (const size of SIZES) {
    for (const lateness of [(r: number) => r, (r: number) => size - r, (r: number) => (r * 7) % 5]) {
      let entered = 0;
      const early = await valuesOf(size, 'barrier', async (ch) => {
        for (let turn = 0; turn < 3 * lateness(ch.rank); turn++) await null;
        entered++;
        await collectives.barrier(ch);
        return entered;
      });
      assert.deepEqual(early, early.map(() => size), `barrier on ${size} ranks: ranks left when only ${Math.min(...early)} had entered`);
    }
  }
});

test('bcast: every rank gets the root\'s value, of every kind', async () => {
  const values = [0, 'text', null, undefined, 12n, payload(3), new Float64Array([1.5, 2.5]), new Int16Array([1, 2, 3, 4]).subarray(1, 3)];
  for (const size of SIZES) {
    for (const root of rootsOf(size)) {
      for (const value of values) {
        const got = await valuesOf(size, 'bcast', (ch) => collectives.bcast(ch, ch.rank === root ? value : `not the root's`, root));
        assert.deepEqual(got, got.map(() => value), `bcast of ${String(value)} on ${size} ranks from ${root}`);
      }
    }
  }
});

test('scatter: rank i gets item i of the root\'s array', async () => {
  for (const size of SIZES) {
    for (const root of rootsOf(size)) {
      const items = ranks(size).map(payload);
      const got = await valuesOf(size, 'scatter', (ch) => collectives.scatter(ch, ch.rank === root ? items : null, root));
      assert.deepEqual(got, items, `scatter on ${size} ranks from ${root}`);
    }
  }
});

test('gather: the root gets every value in rank order, the others null', async () => {
  for (const size of SIZES) {
    for (const root of rootsOf(size)) {
      const got = await valuesOf(size, 'gather', (ch) => collectives.gather(ch, payload(ch.rank), root));
      assert.deepEqual(got, ranks(size).map((r) => (r === root ? ranks(size).map(payload) : null)), `gather on ${size} ranks to ${root}`);
    }
  }
});

test('allgather: every rank gets every value in rank order', async () => {
  for (const size of SIZES) {
    const got = await valuesOf(size, 'allgather', (ch) => collectives.allgather(ch, payload(ch.rank)));
    assert.deepEqual(got, ranks(size).map(() => ranks(size).map(payload)), `allgather on ${size} ranks`);
  }
});

test('alltoall: item i of rank r\'s result is what rank i put at index r', async () => {
  for (const size of SIZES) {
    const got = await valuesOf(size, 'alltoall', (ch) => collectives.alltoall(ch, ranks(size).map((dest) => `${ch.rank}>${dest}`)));
    assert.deepEqual(got, ranks(size).map((r) => ranks(size).map((source) => `${source}>${r}`)), `alltoall on ${size} ranks`);
  }
});

test('allreduce by recursive doubling: numbers, typed arrays, user ops in rank order', async () => {
  for (const size of SIZES) {
    const cases: [string, (rank: number) => unknown, Op][] = [
      ['SUM of numbers', (r) => r * 3 + 1, SUM],
      ['PROD of bigints', (r) => BigInt(r + 2), PROD],
      ['SUM of Float64Arrays', (r) => doubles(r, 5), SUM],
      ['MAX of Int32Arrays', (r) => Int32Array.from([r, -r, (r * 5) % 7]), MAX],
      ['a non-commutative user op', letter, JOIN],
      ['a commutative user op', (r) => r, USER_SUM],
    ];
    for (const [what, input, op] of cases) {
      const got = await valuesOf(size, 'allreduce', (ch) => allreduceRecursiveDoubling(ch, input(ch.rank), op));
      const expected = reduced(ranks(size).map(input), op);
      assert.deepEqual(got, got.map(() => expected), `recursive-doubling allreduce, ${what}, on ${size} ranks`);
    }
  }
});

test('allreduce by ring: typed arrays of every length from size up, not a multiple of it too', async () => {
  for (const size of SIZES) {
    for (const length of new Set([size, size + 1, 3 * size + 2])) {
      const cases: [string, (rank: number) => TypedArray, Op][] = [
        ['SUM of Float64Arrays', (r) => doubles(r, length), SUM],
        ['MAX of Int32Arrays', (r) => Int32Array.from({ length }, (_, i) => (r * 7 + i * 3) % 11), MAX],
        ['SUM of BigInt64Arrays', (r) => BigInt64Array.from({ length }, (_, i) => BigInt(r - i)), SUM],
      ];
      for (const [what, input, op] of cases) {
        const expected = reduced(ranks(size).map(input), op);
        const direct = await valuesOf(size, 'allreduce', (ch) => allreduceRing(ch, input(ch.rank), op));
        assert.deepEqual(direct, direct.map(() => expected), `ring allreduce, ${what} of ${length}, on ${size} ranks`);
      }
      // The selection sends a typed array of any byte length to the ring at threshold 0.
      const [what, input, op] = cases[0]!;
      const chosen = await valuesOf(size, 'allreduce', (ch) => collectives.allreduce(ch, input(ch.rank), op, 0));
      assert.deepEqual(chosen, chosen.map(() => reduced(ranks(size).map(input), op)), `allreduce with threshold 0, ${what} of ${length}, on ${size} ranks`);
    }
  }
});

test('allreduce leaves every rank\'s input as it was, on both algorithms', async () => {
  for (const size of [1, 3, 4, 6]) {
    for (const threshold of [0, Infinity]) {
      const inputs = ranks(size).map((r) => doubles(r, 2 * size));
      await valuesOf(size, 'allreduce', (ch) => collectives.allreduce(ch, inputs[ch.rank], SUM, threshold));
      assert.deepEqual(inputs, ranks(size).map((r) => doubles(r, 2 * size)), `threshold ${threshold}, ${size} ranks`);
    }
  }
});

test('allreduceInto: the result lands in recvbuf, in place too, on both algorithms', async () => {
  for (const size of SIZES) {
    const length = 2 * size + 1;
    const expected = reduced(ranks(size).map((r) => doubles(r, length)), SUM);
    for (const threshold of [0, Infinity]) {
      for (const inPlace of [false, true]) {
        const sends = ranks(size).map((r) => doubles(r, length));
        const recvs = sends.map((send) => (inPlace ? send : new Float64Array(length)));
        const got = await valuesOf(size, 'allreduceInto', (ch) => collectives.allreduceInto(ch, sends[ch.rank]!, recvs[ch.rank]!, SUM, threshold));
        const where = `${inPlace ? 'in place' : 'into recvbuf'}, threshold ${threshold}, ${size} ranks`;
        got.forEach((result, r) => assert.equal(result, recvs[r], `the result is recvbuf itself, ${where}`));
        assert.deepEqual(recvs, recvs.map(() => expected), where);
        if (!inPlace) assert.deepEqual(sends, ranks(size).map((r) => doubles(r, length)), `sendbuf unchanged, ${where}`);
      }
    }
  }
});

test('reduce: the root gets the reduction, the others null; predefined ops on both algorithms, user ops by tree', async () => {
  for (const size of SIZES) {
    for (const root of rootsOf(size)) {
      const cases: [string, (rank: number) => unknown, Op, number][] = [
        ['SUM of numbers', (r) => r * 3 + 1, SUM, Infinity],
        ['SUM of Float64Arrays by ring', (r) => doubles(r, size + 2), SUM, 0],
        ['a non-commutative user op', letter, JOIN, Infinity],
        ['a commutative user op', (r) => r * r, USER_SUM, Infinity],
      ];
      for (const [what, input, op, threshold] of cases) {
        const got = await valuesOf(size, 'reduce', (ch) => collectives.reduce(ch, input(ch.rank), op, root, threshold));
        const expected = reduced(ranks(size).map(input), op);
        assert.deepEqual(got, ranks(size).map((r) => (r === root ? expected : null)), `reduce, ${what}, on ${size} ranks to ${root}`);
      }
    }
  }
});

test('scan and exscan: the prefixes in rank order; exscan gives null on rank 0', async () => {
  for (const size of SIZES) {
    const cases: [string, (rank: number) => unknown, Op][] = [
      ['SUM of numbers', (r) => r + 1, SUM],
      ['SUM of Float64Arrays', (r) => doubles(r, 3), SUM],
      ['a non-commutative user op', letter, JOIN],
    ];
    for (const [what, input, op] of cases) {
      const inputs = ranks(size).map(input);
      for (const exclusive of [false, true]) {
        const got = await valuesOf(size, exclusive ? 'exscan' : 'scan', (ch) => collectives.scan(ch, input(ch.rank), op, exclusive));
        const expected = ranks(size).map((r) => (exclusive ? (r === 0 ? null : reduced(inputs.slice(0, r), op)) : reduced(inputs.slice(0, r + 1), op)));
        assert.deepEqual(got, expected, `${exclusive ? 'exscan' : 'scan'}, ${what}, on ${size} ranks`);
      }
    }
  }
});

/** Counts with zeros among them, and one rank holding everything. */
function countPatterns(size: number): number[][] {
  return [ranks(size).map(() => 1), ranks(size).map((r) => r % 3), ranks(size).map((r) => (r === size - 1 ? 2 * size : 0))];
}

/** The parts of `whole` by `counts`, back to back in rank order. */
function partsOf(whole: Float64Array, counts: readonly number[]): Float64Array[] {
  let start = 0;
  return counts.map((count) => whole.slice(start, (start += count)));
}

test('gatherv: the root gets every rank\'s part joined in rank order, the others null', async () => {
  for (const size of SIZES) {
    for (const root of rootsOf(size)) {
      for (const counts of countPatterns(size)) {
        const parts = ranks(size).map((r) => doubles(r, counts[r]!));
        const got = await valuesOf(size, 'gatherv', (ch) => collectives.gatherv(ch, parts[ch.rank]!, ch.rank === root ? counts : null, root));
        const joined = Float64Array.from(parts.flatMap((part) => [...part]));
        assert.deepEqual(got, ranks(size).map((r) => (r === root ? joined : null)), `gatherv of [${counts}] on ${size} ranks to ${root}`);
      }
    }
  }
});

test('scatterv: rank i gets the counts[i] elements after those of the ranks below it', async () => {
  for (const size of SIZES) {
    for (const root of rootsOf(size)) {
      for (const counts of countPatterns(size)) {
        const whole = doubles(5, counts.reduce((a, b) => a + b));
        const got = await valuesOf(size, 'scatterv', (ch) => collectives.scatterv(ch, ch.rank === root ? whole : null, ch.rank === root ? counts : null, root));
        assert.deepEqual(got, partsOf(whole, counts), `scatterv of [${counts}] on ${size} ranks from ${root}`);
      }
    }
  }
});

test('allgatherv: every rank gets every part joined in rank order', async () => {
  for (const size of SIZES) {
    for (const counts of countPatterns(size)) {
      const parts = ranks(size).map((r) => doubles(r, counts[r]!));
      const got = await valuesOf(size, 'allgatherv', (ch) => collectives.allgatherv(ch, parts[ch.rank]!, counts));
      const joined = Float64Array.from(parts.flatMap((part) => [...part]));
      assert.deepEqual(got, got.map(() => joined), `allgatherv of [${counts}] on ${size} ranks`);
    }
  }
});

test('reduceScatter: rank i gets its counts[i] elements of the reduction, by ring and by tree', async () => {
  const USER_ELEMENTWISE_SUM = Op.create((a: Float64Array, b: Float64Array) => a.map((x, i) => x + b[i]!), false);
  for (const size of SIZES) {
    for (const counts of countPatterns(size)) {
      const total = counts.reduce((a, b) => a + b);
      const inputs = ranks(size).map((r) => doubles(r, total));
      for (const op of [SUM, USER_ELEMENTWISE_SUM]) {
        const got = await valuesOf(size, 'reduceScatter', (ch) => collectives.reduceScatter(ch, inputs[ch.rank]!, counts, op));
        assert.deepEqual(got, partsOf(reduced(inputs, SUM), counts), `reduceScatter by ${op.isPredefined ? 'ring' : 'tree'} of [${counts}] on ${size} ranks`);
      }
      assert.deepEqual(inputs, ranks(size).map((r) => doubles(r, total)), 'reduceScatter leaves its input alone');
    }
  }
});

test('ring passes in segments: chunks above 2 MiB go as 1 MiB pieces, at every uneven length, and still reduce and gather right', async () => {
  const { RING_SEGMENT_BYTES, segmentCuts } = await import('../../src/coll/ring.js');
  const per = RING_SEGMENT_BYTES / 8;
  assert.deepEqual(segmentCuts(2 * per, 8), [0, 2 * per]);
  // One element past 2 MiB: three near-equal segments.
  const n = 2 * per + 1;
  assert.deepEqual(segmentCuts(n, 8), [0, Math.floor(n / 3), Math.floor((2 * n) / 3), n]);
  const cuts = segmentCuts(5 * per + 3, 8);
  assert.equal(cuts.length - 1, 6);
  for (let j = 0; j + 1 < cuts.length; j++) assert.ok((cuts[j + 1]! - cuts[j]!) * 8 <= RING_SEGMENT_BYTES, `segment ${j}`);
  // 2 and 3 ranks with chunks of 2.5 to 3 MiB, lengths not a multiple of the size; allreduce and reduceInto's ring.
  for (const size of [2, 3]) {
    const length = Math.ceil(((5 * RING_SEGMENT_BYTES) / 8) * size / 2) + size - 1;
    const input = (r: number): Float64Array => doubles(r, length);
    const expected = reduced(ranks(size).map(input), SUM);
    const got = await valuesOf(size, 'allreduce', (ch) => allreduceRing(ch, input(ch.rank), SUM));
    assert.deepEqual(got, got.map(() => expected), `segmented ring allreduce on ${size} ranks`);
  }
});

test('reduce as a pipelined chain (two ranks, long arrays): every root, in place at the root, lengths not a multiple of a segment', async () => {
  const { reduceIntoChain } = await import('../../src/coll/reduce.js');
  const { RING_SEGMENT_BYTES } = await import('../../src/coll/ring.js');
  for (const size of [2, 3]) {
    for (const length of [5, (3 * RING_SEGMENT_BYTES) / 8 + 3]) {
      for (const root of rootsOf(size)) {
        for (const inPlace of [false, true]) {
          const input = (r: number): Float64Array => doubles(r, length);
          const expected = reduced(ranks(size).map(input), SUM);
          const results = await valuesOf(size, 'reduce', async (ch) => {
            const mine = input(ch.rank);
            const recv = ch.rank === root ? (inPlace ? mine : new Float64Array(length)) : null;
            const failed = await reduceIntoChain(ch, mine, recv, SUM, root);
            return failed ?? recv;
          });
          assert.deepEqual(results[root], expected, `chain reduce of ${length} on ${size} ranks to ${root}${inPlace ? ', in place' : ''}`);
        }
      }
    }
  }
});
