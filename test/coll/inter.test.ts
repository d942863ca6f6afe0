// The intercommunicator algorithms of src/coll/inter.ts on two groups of an
// in-memory network (memory-link.ts), against results computed by hand:
// groups of equal and unequal sizes, roots at either end of a group.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LinkChannel, type Link, Failure } from '../../src/coll/channel.js';
import * as inter from '../../src/coll/inter.js';
import { MAX, Op, SUM } from '../../src/coll/op.js';
import { PROC_NULL, ROOT } from '../../src/base/index.js';
import { MemoryNetwork } from './memory-link.js';

const PAIRS: [number, number][] = [[1, 1], [2, 1], [1, 3], [4, 3], [3, 5]];

/** A rank of one side: which group (A or B), its rank there. */
interface Member {
  inA: boolean;
  rank: number;
}

/**
 * Runs `algorithm` on every rank of groups A (size a) and B (size b) at
 * once: each group has a network of its own, and a third one joins them,
 * where A's rank i is node i and B's rank j node a + j.
 */
async function onBoth<T>(a: number, b: number, algorithm: (chs: inter.InterChannels, me: Member) => Promise<T>): Promise<{ A: T[]; B: T[] }> {
  const localA = new MemoryNetwork(a);
  const localB = new MemoryNetwork(b);
  const cross = new MemoryNetwork(a + b);
  const across = (node: number, offset: number): Link => {
    const link = cross.link(node);
    return { isend: (dest, wire) => link.isend(offset + dest, wire), irecv: (source) => link.irecv(offset + source),
      irecvInto: (source, target) => link.irecvInto(offset + source, target) };
  };
  const runA = Array.from({ length: a }, (_, i) => algorithm({ local: localA.channel(i), remote: new LinkChannel(i, b, across(i, a)) }, { inA: true, rank: i }));
  const runB = Array.from({ length: b }, (_, j) => algorithm({ local: localB.channel(j), remote: new LinkChannel(j, a, across(a + j, 0)) }, { inA: false, rank: j }));
  const [A, B] = await Promise.all([Promise.all(runA), Promise.all(runB)]);
  for (const network of [localA, localB, cross]) assert.deepEqual(network.strays(), []);
  return { A, B };
}

/** What a rank passes as root when rank `root` of A (or of B) is the root. */
const rootFor = (me: Member, rootInA: boolean, root: number): number => (me.inA === rootInA ? (me.rank === root ? ROOT : PROC_NULL) : root);
const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);
/** A's rank i holds i + 1, B's rank j holds 100 + j. */
const valueOf = (me: Member): number => (me.inA ? me.rank + 1 : 100 + me.rank);
const sum = (list: number[]): number => list.reduce((x, y) => x + y, 0);

for (const [a, b] of PAIRS) {
  const valuesA = range(a, 1);
  const valuesB = range(b, 100);

  test(`bcast, scatter, gather and reduce between groups of ${a} and ${b}`, { timeout: 10_000 }, async () => {
    for (const root of new Set([0, a - 1])) {
      const bcast = await onBoth(a, b, (chs, me) => inter.bcastInter(chs, me.inA && me.rank === root ? { from: root } : null, rootFor(me, true, root)));
      assert.deepEqual(bcast, { A: range(a).map(() => null), B: range(b).map(() => ({ from: root })) });
      const scatter = await onBoth(a, b, (chs, me) => inter.scatterInter(chs, me.inA ? range(b, 50) : null, rootFor(me, true, root)));
      assert.deepEqual(scatter, { A: range(a).map(() => null), B: range(b, 50) });
    }
    for (const root of new Set([0, b - 1])) {
      const gather = await onBoth(a, b, (chs, me) => inter.gatherInter(chs, valueOf(me), rootFor(me, false, root)));
      assert.deepEqual(gather, { A: range(a).map(() => null), B: range(b).map((j) => (j === root ? valuesA : null)) });
      const reduce = await onBoth(a, b, (chs, me) => inter.reduceInter(chs, valueOf(me), SUM, rootFor(me, false, root)));
      assert.deepEqual(reduce, { A: range(a).map(() => null), B: range(b).map((j) => (j === root ? sum(valuesA) : null)) });
    }
    const reduceToA = await onBoth(a, b, (chs, me) => inter.reduceInter(chs, valueOf(me), MAX, rootFor(me, true, 0)));
    assert.deepEqual(reduceToA, { A: range(a).map((i) => (i === 0 ? 100 + b - 1 : null)), B: range(b).map(() => null) });
  });

  test(`allgather, allreduce, barrier and allgatherBoth between groups of ${a} and ${b}`, { timeout: 10_000 }, async () => {
    assert.deepEqual(await onBoth(a, b, (chs, me) => inter.allgatherInter(chs, valueOf(me))),
      { A: range(a).map(() => valuesB), B: range(b).map(() => valuesA) });
    assert.deepEqual(await onBoth(a, b, (chs, me) => inter.allreduceInter(chs, valueOf(me), SUM)),
      { A: range(a).map(() => sum(valuesB)), B: range(b).map(() => sum(valuesA)) });
    // A user op that does not commute sees the other group's rank order.
    const join = Op.create((x: string, y: string) => `${x}${y}`, false);
    assert.deepEqual(await onBoth(a, b, (chs, me) => inter.allreduceInter(chs, `${me.inA ? 'a' : 'b'}${me.rank}`, join)),
      { A: range(a).map(() => range(b).map((j) => `b${j}`).join('')), B: range(b).map(() => range(a).map((i) => `a${i}`).join('')) });
    assert.deepEqual(await onBoth(a, b, (chs) => inter.barrierInter(chs)), { A: range(a).map(() => undefined), B: range(b).map(() => undefined) });
    assert.deepEqual(await onBoth(a, b, (chs, me) => inter.allgatherBoth(chs, valueOf(me))),
      { A: range(a).map(() => ({ local: valuesA, remote: valuesB })), B: range(b).map(() => ({ local: valuesB, remote: valuesA })) });
  });

  test(`a failure crosses between groups of ${a} and ${b}: a bad root array fails the whole other group`, { timeout: 10_000 }, async () => {
    const got = await onBoth(a, b, (chs, me) => inter.scatterInter(chs, me.inA ? [1, 2, 3, 4, 5, 6, 7] : null, rootFor(me, true, 0)));
    assert.ok(got.B.every((value) => value instanceof Failure), 'every rank of B gets the failure');
    assert.match((got.B[0] as Failure).message, new RegExp(`values at the root must be an array of ${b} items`));
  });
}
