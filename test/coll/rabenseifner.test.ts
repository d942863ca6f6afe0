// Rabenseifner's allreduce (src/coll/rabenseifner.ts) on the in-memory
// network: at every size from 1 to 64 ranks, powers of two and not (the
// fold), the same result as recursive doubling on the same data, for the
// element types and predefined ops that matter, into a new array, into
// recvbuf and in place, at lengths that leave chunks empty or uneven.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as collectives from '../../src/coll/collectives.js';
import { allreduceRabenseifner } from '../../src/coll/rabenseifner.js';
import { allreduceRecursiveDoubling } from '../../src/coll/allreduce.js';
import { BAND, MAX, MIN, PROD, SUM, type Op, type TypedArray } from '../../src/coll/op.js';
import { keptBytes } from '../../src/coll/scratch.js';
import { newLike } from '../../src/coll/step.js';
import { MemoryNetwork, runRanks, valuesOf } from './memory-link.js';

type Make = (rank: number, length: number) => TypedArray;

// Integer-valued data, so that any order of reduction gives the same bits as doubling's.
const TYPES: [string, Make][] = [
  ['Float64Array', (r, n) => Float64Array.from({ length: n }, (_, i) => ((r * 7 + i * 3) % 11) - 5)],
  ['Float32Array', (r, n) => Float32Array.from({ length: n }, (_, i) => ((r + i) % 5) - 2)],
  ['Int32Array', (r, n) => Int32Array.from({ length: n }, (_, i) => (r * 31 + i) % 97 - 40)],
  ['Uint8Array', (r, n) => Uint8Array.from({ length: n }, (_, i) => (r * 13 + i * 5) % 256)],
  ['BigInt64Array', (r, n) => BigInt64Array.from({ length: n }, (_, i) => BigInt((r * 5 + i) % 9) - 4n)],
];

async function byDoubling(size: number, make: Make, length: number, op: Op): Promise<TypedArray[]> {
  return valuesOf(size, 'allreduce', (ch) => allreduceRecursiveDoubling(ch, make(ch.rank, length), op) as Promise<TypedArray>);
}

test('Rabenseifner equals recursive doubling at every size from 1 to 64 ranks (Float64Array SUM, three lengths)', async () => {
  for (let size = 1; size <= 64; size++) {
    for (const length of [size, 3 * size + 5, 1000]) {
      const make = TYPES[0]![1];
      const expected = await byDoubling(size, make, length, SUM);
      const got = await valuesOf(size, 'allreduce', (ch) => allreduceRabenseifner(ch, make(ch.rank, length), SUM));
      assert.deepEqual(got, expected, `${size} ranks, ${length} elements`);
    }
  }
});

test('Rabenseifner equals recursive doubling for each element type and op, into recvbuf and in place', async () => {
  const ops: [string, Op][] = [['SUM', SUM], ['MAX', MAX], ['MIN', MIN], ['PROD', PROD]];
  for (const size of [2, 3, 5, 8, 12, 13]) {
    for (const [type, make] of TYPES) {
      for (const [name, op] of [...ops, ...(type.startsWith('Float') ? [] : [['BAND', BAND] as [string, Op]])]) {
        const length = 2 * size + 3;
        const expected = await byDoubling(size, make, length, op);
        for (const mode of ['new', 'recvbuf', 'in place'] as const) {
          const sends = Array.from({ length: size }, (_, r) => make(r, length));
          const recvs = sends.map((send) => (mode === 'in place' ? send : mode === 'recvbuf' ? newLike(send, length) : undefined));
          const got = await valuesOf(size, 'allreduce', (ch) => allreduceRabenseifner(ch, sends[ch.rank]!, op, recvs[ch.rank]));
          const where = `${type} ${name}, ${mode}, ${size} ranks`;
          assert.deepEqual(got, expected, where);
          if (mode !== 'new') got.forEach((result, r) => assert.equal(result, recvs[r], `the result is recvbuf itself, ${where}`));
          if (mode !== 'in place') assert.deepEqual(sends, Array.from({ length: size }, (_, r) => make(r, length)), `sendbuf unchanged, ${where}`);
        }
      }
    }
  }
});

test('Rabenseifner with fewer elements than chunks and with none: empty chunks travel as empty messages', async () => {
  for (const size of [2, 3, 4, 7, 16]) {
    for (const length of [0, 1, size - 1]) {
      const make = TYPES[2]![1];
      const expected = await byDoubling(size, make, length, SUM);
      assert.deepEqual(await valuesOf(size, 'allreduce', (ch) => allreduceRabenseifner(ch, make(ch.rank, length), SUM)), expected, `${size} ranks, ${length}`);
    }
  }
});

test('Rabenseifner: a rank whose array differs fails every rank alike, with nothing left in flight', async () => {
  for (const size of [3, 4, 6]) {
    const outcomes = await runRanks(size, 'allreduce', (ch) => allreduceRabenseifner(ch, new Float64Array(ch.rank === 1 ? 9 : 8), SUM));
    for (const outcome of outcomes) assert.match(outcome.error?.message ?? '', /typed arrays differ between ranks/, `${size} ranks, rank ${outcome.rank}`);
  }
});

test('Rabenseifner gives its scratch back (scratch.ts keeps it for the next call)', async () => {
  const before = keptBytes();
  for (let i = 0; i < 3; i++) {
    await valuesOf(6, 'allreduce', (ch) => allreduceRabenseifner(ch, new Float64Array(4096).fill(ch.rank), SUM, new Float64Array(4096)));
  }
  assert.ok(keptBytes() - before <= 6 * 4 * 4096 * 8, `kept ${keptBytes() - before} more bytes`);
});

test('forced by the algorithm argument (MPI4TS_ALGO_ALLREDUCE), the value and buffer allreduces take each algorithm and agree', async () => {
  for (const size of [1, 2, 5, 8]) {
    const length = 4 * size;
    const make = TYPES[0]![1];
    const expected = await byDoubling(size, make, length, SUM);
    for (const algorithm of ['doubling', 'rabenseifner', 'ring'] as const) {
      const network = new MemoryNetwork(size);
      assert.deepEqual(await valuesOf(size, 'allreduce', (ch) => collectives.allreduce(ch, make(ch.rank, length), SUM, Infinity, algorithm), network),
        expected, `allreduce ${algorithm}, ${size} ranks`);
      const recvs = Array.from({ length: size }, () => new Float64Array(length));
      await valuesOf(size, 'allreduceInto', (ch) => collectives.allreduceInto(ch, make(ch.rank, length), recvs[ch.rank]!, SUM, Infinity, algorithm));
      assert.deepEqual(recvs, expected, `allreduceInto ${algorithm}, ${size} ranks`);
    }
  }
});
