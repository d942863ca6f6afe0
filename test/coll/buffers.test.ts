// The buffer collectives of src/coll/buffers.ts on 1 to 8 ranks of an
// in-memory network (memory-link.ts): results land in the callers' arrays
// and equal the value collectives' (or the serial computation) on the same
// data, for every root, every typed-array type, IN_PLACE where MPI allows it,
// parts given as { buf, offset, count }, zero counts and displacements with
// gaps; and bad buffers fail with a clear error, no rank left waiting
// (runRanks rejects with Stuck otherwise).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as buffers from '../../src/coll/buffers.js';
import * as collectives from '../../src/coll/collectives.js';
import { IN_PLACE } from '../../src/coll/buffer.js';
import { keptBytes } from '../../src/coll/scratch.js';
import { MAX, Op, SUM, type TypedArray } from '../../src/coll/op.js';
import { MPIError } from '../../src/base/index.js';
import { runRanks, valuesOf } from './memory-link.js';
import { filled, TYPES } from './typed-arrays.js';

const SIZES = [1, 2, 3, 4, 5, 7, 8];
const ranks = (size: number): number[] => Array.from({ length: size }, (_, r) => r);
const rootsOf = (size: number): number[] => [...new Set([0, 1 % size, size - 1])];

const doubles = (rank: number, length: number): Float64Array => Float64Array.from({ length }, (_, i) => rank * 1000 + i - 7);

/** Element-wise sum as a user op: the value algorithms' path. */
const USER_SUM = Op.create((a: Float64Array, b: Float64Array) => a.map((x, i) => x + b[i]!));

test('bcastInto: every rank\'s buffer gets the root\'s, for every type and root, whole arrays and parts', async () => {
  for (const size of SIZES) {
    for (const root of rootsOf(size)) {
      for (const type of TYPES) {
        for (const length of [0, 5]) {
          const got = await valuesOf(size, 'bcastInto', async (ch) => {
            const buf = ch.rank === root ? filled(type, length, root) : new type(length);
            const back = await buffers.bcastInto(ch, buf, root);
            assert.equal(back, buf, 'the caller\'s own array comes back');
            return buf;
          });
          for (const buf of got) assert.deepEqual(buf, filled(type, length, root), `${type.name} × ${length} from ${root} on ${size}`);
        }
      }
      const parts = await valuesOf(size, 'bcastInto', async (ch) => {
        const whole = new Float64Array(6).fill(-1);
        if (ch.rank === root) whole.set([1, 2, 3], 2);
        await buffers.bcastInto(ch, { buf: whole, offset: 2, count: 3 }, root);
        return whole;
      });
      // Only the part is written: the rest of each rank's array is as it was.
      for (const whole of parts) assert.deepEqual(whole, new Float64Array([-1, -1, 1, 2, 3, -1]));
    }
  }
});

test('reduceInto: the root\'s recvbuf holds the value reduce\'s result, by ring and by tree, in place too', async () => {
  for (const size of SIZES) {
    for (const root of rootsOf(size)) {
      for (const [op, ring] of [[SUM, 0], [SUM, 1 << 30], [MAX, 0], [USER_SUM, 0]] as const) {
        for (const inPlace of [false, true]) {
          const length = 2 * size + 3;
          const expected = await valuesOf(size, 'reduce', (ch) => collectives.reduce(ch, doubles(ch.rank, length), op, root));
          const got = await valuesOf(size, 'reduceInto', async (ch) => {
            const send = doubles(ch.rank, length);
            const recv = ch.rank === root ? new Float64Array(length) : null;
            if (inPlace && recv !== null) recv.set(send);
            const back = await buffers.reduceInto(ch, inPlace && recv !== null ? IN_PLACE : send, recv, op, root, ring);
            assert.equal(back, recv);
            if (!inPlace) assert.deepEqual(send, doubles(ch.rank, length), 'sendbuf is left as it was');
            return recv;
          });
          assert.deepEqual(got, expected, `${op.name} ring ${ring} in place ${inPlace} root ${root} on ${size}`);
        }
      }
    }
  }
});

test('allreduceInto: IN_PLACE reduces recvbuf in place, by ring and by recursive doubling', async () => {
  for (const size of SIZES) {
    for (const ring of [0, 1 << 30]) {
      const got = await valuesOf(size, 'allreduceInto', async (ch) => {
        const recv = doubles(ch.rank, 3 * size);
        await collectives.allreduceInto(ch, IN_PLACE, recv, SUM, ring);
        return recv;
      });
      const expected = doubles(0, 3 * size).map((_, i) => ranks(size).reduce((sum, r) => sum + doubles(r, 3 * size)[i]!, 0));
      for (const recv of got) assert.deepEqual(recv, expected, `ring ${ring} on ${size}`);
    }
  }
});

test('gatherInto and scatterInto: blocks at the root, for every type and root, IN_PLACE at the root', async () => {
  for (const size of SIZES) {
    for (const root of rootsOf(size)) {
      for (const type of TYPES) {
        for (const inPlace of [false, true]) {
          const count = 3;
          const whole = (): TypedArray => {
            const all = new type(size * count);
            for (const r of ranks(size)) all.set(filled(type, count, r) as never, r * count);
            return all;
          };
          const gathered = await valuesOf(size, 'gatherInto', async (ch) => {
            const recv = ch.rank === root ? new type(size * count) : null;
            if (inPlace && recv !== null) recv.set(filled(type, count, root) as never, root * count);
            return buffers.gatherInto(ch, inPlace && ch.rank === root ? IN_PLACE : filled(type, count, ch.rank), recv, root);
          });
          gathered.forEach((got, r) => assert.deepEqual(got, r === root ? whole() : null, `gatherInto ${type.name} to ${root} on ${size}`));
          const scattered = await valuesOf(size, 'scatterInto', async (ch) => {
            const send = ch.rank === root ? whole() : null;
            const recv = new type(count);
            const back = await buffers.scatterInto(ch, send, inPlace && ch.rank === root ? IN_PLACE : recv, root);
            return inPlace && ch.rank === root ? back : recv;
          });
          scattered.forEach((got, r) => assert.deepEqual(got, filled(type, count, r), `scatterInto ${type.name} from ${root} on ${size}`));
        }
      }
    }
  }
});

test('allgatherInto and alltoallInto equal allgather and alltoall of the same data, IN_PLACE too', async () => {
  for (const size of SIZES) {
    for (const inPlace of [false, true]) {
      const count = 2;
      const gathered = await valuesOf(size, 'allgatherInto', async (ch) => {
        const recv = new Int32Array(size * count);
        const own = Int32Array.from({ length: count }, (_, i) => ch.rank * 10 + i);
        if (inPlace) recv.set(own, ch.rank * count);
        return buffers.allgatherInto(ch, inPlace ? IN_PLACE : own, recv);
      });
      const expected = Int32Array.from({ length: size * count }, (_, i) => Math.floor(i / count) * 10 + (i % count));
      for (const got of gathered) assert.deepEqual(got, expected, `allgatherInto in place ${inPlace} on ${size}`);

      const block = (from: number, to: number): number[] => [from * 100 + to, -(from * 100 + to)];
      const values = await valuesOf(size, 'alltoall', (ch) => collectives.alltoall(ch, ranks(size).map((to) => block(ch.rank, to))));
      const exchanged = await valuesOf(size, 'alltoallInto', async (ch) => {
        const send = Float64Array.from(ranks(size).flatMap((to) => block(ch.rank, to)));
        const recv = inPlace ? send : new Float64Array(size * count);
        return buffers.alltoallInto(ch, inPlace ? IN_PLACE : send, recv);
      });
      exchanged.forEach((got, r) => assert.deepEqual(got, Float64Array.from(values[r]!.flat()), `alltoallInto in place ${inPlace} on ${size}`));
    }
  }
});

test('alltoallv: uneven counts, zero counts and displacements with gaps land where MPI puts them; alltoallw mixes types', async () => {
  for (const size of SIZES) {
    // Rank s sends (s + d) % 3 elements to rank d, each element s * 100 + d.
    const n = (s: number, d: number): number => (s + d) % 3;
    const got = await valuesOf(size, 'alltoallv', async (ch) => {
      const sendcounts = ranks(size).map((d) => n(ch.rank, d));
      // Parts in reverse rank order, one element apart.
      const sdispls: number[] = [];
      let at = 1;
      for (let d = size - 1; d >= 0; d--) {
        sdispls[d] = at;
        at += sendcounts[d]! + 1;
      }
      const send = new Float64Array(at).fill(-5);
      ranks(size).forEach((d) => send.fill(ch.rank * 100 + d, sdispls[d], sdispls[d]! + sendcounts[d]!));
      const recvcounts = ranks(size).map((s) => n(s, ch.rank));
      const rdispls = ranks(size).map((s) => 2 * s * 3);
      const recv = new Float64Array(2 * size * 3).fill(-1);
      await buffers.alltoallvInto(ch, send, sendcounts, sdispls, recv, recvcounts, rdispls);
      return recv;
    });
    got.forEach((recv, d) => {
      const expected = new Float64Array(2 * size * 3).fill(-1);
      for (const s of ranks(size)) expected.fill(s * 100 + d, 2 * s * 3, 2 * s * 3 + n(s, d));
      assert.deepEqual(recv, expected, `alltoallv on ${size}, rank ${d}`);
    });

    const mixed = await valuesOf(size, 'alltoallw', async (ch) => {
      // To even ranks as doubles, to odd ones as bytes; each pair agrees in bytes.
      const send = ranks(size).map((d) => (d % 2 === 0 ? Float64Array.of(ch.rank + d) : Uint8Array.of(ch.rank, d)));
      const recv = ranks(size).map(() => (ch.rank % 2 === 0 ? new Float64Array(1) : new Uint8Array(2)));
      return buffers.alltoallw(ch, send, recv);
    });
    mixed.forEach((recv, d) => recv.forEach((part, s) => {
      assert.deepEqual(part, d % 2 === 0 ? Float64Array.of(s + d) : Uint8Array.of(s, d), `alltoallw on ${size}: ${s} to ${d}`);
    }));
  }
});

test('alltoallv: the same buffers again with other counts and displacements (the arrays changed in place, or new ones) land by the new layout, not the last one', async () => {
  for (const size of [2, 3, 5]) {
    const got = await valuesOf(size, 'alltoallv', async (ch) => {
      const send = new Float64Array(4 * size);
      const recv = new Float64Array(4 * size);
      const counts = ranks(size).map(() => 2);
      const displs = ranks(size).map((r) => 2 * r);
      const results: number[][] = [];
      for (const layout of [0, 1, 2, 0]) {
        // 0: blocks of 2 back to back; 1: the same arrays changed in place to blocks of 1 at 4r + 1; 2: new arrays, blocks of 3 at 4r.
        if (layout === 1) ranks(size).forEach((r) => { counts[r] = 1; displs[r] = 4 * r + 1; });
        if (layout === 0) ranks(size).forEach((r) => { counts[r] = 2; displs[r] = 2 * r; });
        const c = layout === 2 ? ranks(size).map(() => 3) : counts;
        const d = layout === 2 ? ranks(size).map((r) => 4 * r) : displs;
        send.fill(0);
        recv.fill(-1);
        ranks(size).forEach((r) => send.fill(ch.rank * 10 + r + layout / 10, d[r], d[r]! + c[r]!));
        await buffers.alltoallvInto(ch, send, c, d, recv, c, d);
        results.push([...recv]);
      }
      return results;
    });
    got.forEach((results, me) => results.forEach((recv, i) => {
      const layout = [0, 1, 2, 0][i]!;
      const c = layout === 0 ? 2 : layout === 1 ? 1 : 3;
      const at = (r: number): number => (layout === 0 ? 2 * r : layout === 1 ? 4 * r + 1 : 4 * r);
      const expected = new Array<number>(4 * size).fill(-1);
      for (const r of ranks(size)) for (let k = 0; k < c; k++) expected[at(r) + k] = r * 10 + me + layout / 10;
      assert.deepEqual(recv, expected, `size ${size}, rank ${me}, call ${i} (layout ${layout})`);
    }));
  }
});

test('scanInto and exscanInto equal scan and exscan; exscan leaves rank 0\'s recvbuf alone; IN_PLACE', async () => {
  for (const size of SIZES) {
    for (const exclusive of [false, true]) {
      for (const inPlace of [false, true]) {
        const expected = await valuesOf(size, 'scan', (ch) => collectives.scan(ch, doubles(ch.rank, 4), SUM, exclusive));
        const got = await valuesOf(size, 'scanInto', async (ch) => {
          const recv = inPlace ? doubles(ch.rank, 4) : new Float64Array(4).fill(42);
          await buffers.scanInto(ch, inPlace ? IN_PLACE : doubles(ch.rank, 4), recv, SUM, exclusive);
          return recv;
        });
        // Rank 0's exscan result is undefined in MPI: its recvbuf stays as it was (its operand, in place).
        const untouched = inPlace ? doubles(0, 4) : new Float64Array(4).fill(42);
        got.forEach((recv, r) => assert.deepEqual(recv, expected[r] ?? untouched, `exclusive ${exclusive} in place ${inPlace} on ${size}`));
      }
    }
  }
});

test('reduceScatterBlockInto and reduceScatterInto equal reduceScatter, by ring and by user op, IN_PLACE too', async () => {
  for (const size of SIZES) {
    for (const op of [SUM, USER_SUM]) {
      const counts = ranks(size).map((r) => (r % 3 === 2 ? 0 : r + 1));
      const total = counts.reduce((a, b) => a + b, 0);
      const expected = await valuesOf(size, 'reduceScatter', (ch) => collectives.reduceScatter(ch, doubles(ch.rank, total), counts, op));
      for (const inPlace of [false, true]) {
        const got = await valuesOf(size, 'reduceScatterInto', async (ch) => {
          const recv = inPlace ? doubles(ch.rank, total) : new Float64Array(counts[ch.rank]!);
          const back = await buffers.reduceScatterInto(ch, inPlace ? IN_PLACE : doubles(ch.rank, total), recv, counts, op);
          return Float64Array.from(back);
        });
        assert.deepEqual(got, expected, `reduceScatterInto ${op.name} in place ${inPlace} on ${size}`);
        const blocks = await valuesOf(size, 'reduceScatterBlockInto', async (ch) => {
          const recv = inPlace ? doubles(ch.rank, 2 * size) : new Float64Array(2);
          const back = await buffers.reduceScatterInto(ch, inPlace ? IN_PLACE : doubles(ch.rank, 2 * size), recv, null, op);
          return Float64Array.from(back);
        });
        const blockExpected = await valuesOf(size, 'reduceScatter', (ch) => collectives.reduceScatter(ch, doubles(ch.rank, 2 * size), ranks(size).map(() => 2), op));
        assert.deepEqual(blocks, blockExpected, `reduceScatterBlockInto ${op.name} in place ${inPlace} on ${size}`);
      }
    }
  }
});

test('gathervInto, scattervInto, allgathervInto: counts with zeros, displacements in reverse order, IN_PLACE', async () => {
  for (const size of SIZES) {
    const counts = ranks(size).map((r) => (r % 3 === 1 ? 0 : r + 1));
    // Rank 0's part last, with a gap of one before each part.
    const displs: number[] = [];
    let at = 1;
    for (let r = size - 1; r >= 0; r--) {
      displs[r] = at;
      at += counts[r]! + 1;
    }
    const part = (r: number): Int16Array => Int16Array.from({ length: counts[r]! }, (_, i) => r * 10 + i);
    const layout = (): Int16Array => {
      const all = new Int16Array(at).fill(-1);
      for (const r of ranks(size)) all.set(part(r), displs[r]);
      return all;
    };
    for (const root of rootsOf(size)) {
      for (const inPlace of [false, true]) {
        const gathered = await valuesOf(size, 'gathervInto', async (ch) => {
          const recv = ch.rank === root ? new Int16Array(at).fill(-1) : null;
          if (inPlace && recv !== null) recv.set(part(root), displs[root]);
          return buffers.gathervInto(ch, inPlace && ch.rank === root ? IN_PLACE : part(ch.rank), recv, ch.rank === root ? counts : null,
            ch.rank === root ? displs : null, root);
        });
        gathered.forEach((got, r) => assert.deepEqual(got, r === root ? layout() : null, `gathervInto to ${root} on ${size}`));
        const scattered = await valuesOf(size, 'scattervInto', async (ch) => {
          const recv = new Int16Array(counts[ch.rank]!);
          const back = await buffers.scattervInto(ch, ch.rank === root ? layout() : null, counts, displs,
            inPlace && ch.rank === root ? IN_PLACE : recv, root);
          return Int16Array.from(back);
        });
        scattered.forEach((got, r) => assert.deepEqual(got, part(r), `scattervInto from ${root} on ${size}`));
      }
    }
    for (const inPlace of [false, true]) {
      const all = await valuesOf(size, 'allgathervInto', async (ch) => {
        const recv = new Int16Array(at).fill(-1);
        if (inPlace) recv.set(part(ch.rank), displs[ch.rank]);
        return buffers.allgathervInto(ch, inPlace ? IN_PLACE : part(ch.rank), recv, counts, displs);
      });
      for (const got of all) assert.deepEqual(got, layout(), `allgathervInto in place ${inPlace} on ${size}`);
    }
    // The value forms with displacements give a new array just long enough.
    const root = size - 1;
    const g = await valuesOf(size, 'gatherv', (ch) => collectives.gatherv(ch, part(ch.rank), ch.rank === root ? counts : null, root, displs));
    const extent = Math.max(...ranks(size).map((r) => displs[r]! + counts[r]!));
    assert.deepEqual(g[root], layout().map((v) => (v === -1 ? 0 : v)).subarray(0, extent));
    const s = await valuesOf(size, 'scatterv', (ch) => collectives.scatterv(ch, ch.rank === root ? layout() : null, counts, root, displs));
    s.forEach((got, r) => assert.deepEqual(Int16Array.from(got), part(r)));
    const a = await valuesOf(size, 'allgatherv', (ch) => collectives.allgatherv(ch, part(ch.rank), counts, displs));
    for (const got of a) assert.deepEqual(got, g[root]);
  }
});

/** Runs a call that must fail: the ranks listed reject with an MPIError or TypeError matching `problem`, nobody waits for ever. */
async function fails(size: number, call: string, algorithm: Parameters<typeof runRanks>[2], failing: readonly number[], problem: RegExp,
  where: string): Promise<void> {
  const outcomes = await runRanks(size, call, algorithm);
  for (const rank of failing) {
    const { error } = outcomes[rank]!;
    assert.ok(error !== undefined, `${where}: rank ${rank} of ${size} should reject`);
    assert.ok(error instanceof MPIError || error instanceof TypeError || error instanceof RangeError, `${where}: ${error.name}`);
    assert.match(error.message, new RegExp(`^${call}: .*${problem.source}`), `${where}: rank ${rank}`);
  }
}

test('bad buffers fail with a clear error on the ranks that depend on them, and no rank is left waiting', async () => {
  for (const size of SIZES.filter((s) => s > 1)) {
    const all = ranks(size);
    const last = size - 1;
    // The root's buffer is not a typed array: every rank fails, told which rank.
    await fails(size, 'bcastInto', (ch) => buffers.bcastInto(ch, ch.rank === 0 ? [1, 2] : new Float64Array(2), 0), all,
      /buf must be a typed array or \{ buf, offset, count \}, got an array of length 2/, 'bcastInto bad root buffer');
    // One rank's buffer is shorter than the root's: it fails (truncation), and so do the ranks below it in the tree.
    await fails(size, 'bcastInto', (ch) => buffers.bcastInto(ch, new Float64Array(ch.rank === last ? 2 : 3), 0), [last],
      /does not fit the 16-byte buffer \(MPI_ERR_TRUNCATE\)/, 'bcastInto short buffer');
    // Longer than the root's: the counts disagree.
    await fails(size, 'bcastInto', (ch) => buffers.bcastInto(ch, new Float64Array(ch.rank === last ? 4 : 3), 0), [last],
      /sent 24 bytes where this rank's buffer takes 32 .*the ranks' counts disagree/, 'bcastInto long buffer');
    // sendbuf and recvbuf overlap.
    await fails(size, 'allgatherInto', (ch) => {
      const recv = new Float64Array(2 * size);
      return buffers.allgatherInto(ch, ch.rank === 1 ? recv.subarray(0, 2) : new Float64Array(2), recv);
    }, [1], /sendbuf and recvbuf overlap; pass MPI.IN_PLACE as sendbuf/, 'allgatherInto overlap');
    // IN_PLACE off the root of reduce.
    await fails(size, 'reduceInto', (ch) => buffers.reduceInto(ch, IN_PLACE, ch.rank === 0 ? new Float64Array(4) : null, SUM, 0, 0), all,
      /IN_PLACE is for the root of reduceInto only/, 'reduceInto IN_PLACE off the root');
    // A root recvbuf of the wrong length: every rank fails (the shapes' agreement carries it).
    await fails(size, 'reduceInto', (ch) => buffers.reduceInto(ch, new Float64Array(8), new Float64Array(ch.rank === 0 ? 7 : 8), SUM, 0, 0), all,
      /recvbuf has 7 elements but it must have the length of sendbuf/, 'reduceInto recvbuf length');
    // Typed arrays of different types.
    await fails(size, 'gatherInto', (ch) => buffers.gatherInto(ch, new Float32Array(2), ch.rank === 0 ? new Float64Array(2 * size) : null, 0), [0],
      /sendbuf is a Float32Array of 2 elements but recvbuf is a Float64Array/, 'gatherInto types');
    // Displacements past the end.
    await fails(size, 'allgathervInto', (ch) => buffers.allgathervInto(ch, new Int8Array(1), new Int8Array(size),
      all.map(() => 1), all.map((r) => (ch.rank === 0 && r === last ? size : r))), all,
      /part for rank \d+ \(1 elements from \d+\) ends at \d+, past the end of recvbuf/, 'allgathervInto displs');
    // Counts that disagree between the ranks of an alltoallv.
    await fails(size, 'alltoallv', (ch) => buffers.alltoallvInto(ch, new Float64Array(size * 2), all.map(() => 2), null,
      new Float64Array(size * 2), all.map((s) => (ch.rank === 0 && s === 1 ? 1 : 2)), null), [0],
      /does not fit the 8-byte buffer/, 'alltoallv counts');
    // Overlapping receive parts.
    await fails(size, 'gathervInto', (ch) => buffers.gathervInto(ch, new Int8Array(2), ch.rank === 0 ? new Int8Array(2 * size) : null,
      all.map(() => 2), all.map(() => 0), 0), [0], /parts for ranks 0 and 1 overlap/, 'gathervInto overlapping parts');
    // alltoallw: a list of the wrong length, and a send part inside a receive part.
    await fails(size, 'alltoallw', (ch) => buffers.alltoallw(ch, all.slice(1).map(() => new Int8Array(1)), all.map(() => new Int8Array(1))), all,
      /sendbufs must be an array of \d+ typed arrays \(one per rank\), got an array of length \d+/, 'alltoallw short list');
    await fails(size, 'alltoallw', (ch) => {
      const shared = new Int8Array(size);
      return buffers.alltoallw(ch, all.map((r) => (ch.rank === 0 && r === 0 ? shared.subarray(0, 1) : new Int8Array(1))),
        all.map((r) => shared.subarray(r, r + 1)));
    }, [0], /sendbufs\[0\] and recvbufs\[0\] overlap/, 'alltoallw overlap');
    // scanInto with a recvbuf of another length, reduceScatterInto with counts that do not add up.
    await fails(size, 'scanInto', (ch) => buffers.scanInto(ch, new Float64Array(3), new Float64Array(ch.rank === last ? 2 : 3), SUM, false), [last],
      /recvbuf has 2 elements but it must have the length of sendbuf/, 'scanInto length');
    await fails(size, 'reduceScatterInto', (ch) => buffers.reduceScatterInto(ch, new Float64Array(size + 1), new Float64Array(1), all.map(() => 1), SUM), all,
      /sendbuf has \d+ elements but the counts add up to \d+/, 'reduceScatterInto counts');
    // IN_PLACE as a non-root's recvbuf of scatter.
    await fails(size, 'scatterInto', (ch) => buffers.scatterInto(ch, ch.rank === 0 ? new Float64Array(size) : null,
      ch.rank === 0 ? new Float64Array(1) : IN_PLACE, 0), [last], /recvbuf must be a typed array .*IN_PLACE is not allowed here/, 'scatterInto IN_PLACE off the root');
    // A part form out of range.
    await fails(size, 'scatterInto', (ch) => buffers.scatterInto(ch, ch.rank === 0 ? { buf: new Float64Array(size), offset: 1, count: size } : null,
      new Float64Array(1), 0), all, /sendbuf at the root.count is \d+; from offset 1 it must be an integer from 0 to/, 'scatterInto part');
  }
});

test('scratch memory is bounded and reused: repeated calls keep the same few buffers', async () => {
  for (let i = 0; i < 20; i++) {
    await valuesOf(4, 'reduceInto', (ch) => buffers.reduceInto(ch, doubles(ch.rank, 4096), ch.rank === 0 ? new Float64Array(4096) : null, SUM, 0, 0));
  }
  const kept = keptBytes();
  assert.ok(kept > 0 && kept <= 4 * 64 * 1024 * 1024, `kept ${kept}`);
  for (let i = 0; i < 20; i++) {
    await valuesOf(4, 'reduceInto', (ch) => buffers.reduceInto(ch, doubles(ch.rank, 4096), ch.rank === 0 ? new Float64Array(4096) : null, SUM, 0, 0));
  }
  assert.equal(keptBytes(), kept, 'the same calls again take no more memory');
});
