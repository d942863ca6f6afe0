// Failure propagation in every collective algorithm, on 1 to 17 ranks of an
// in-memory network: one rank passes bad input; every rank whose result
// depends on it rejects, with the message users see (the origin's own, or
// "call: rank N failed: ..." elsewhere), and the algorithm still runs its
// whole pattern: no rank waits for ever, no message is left unreceived
// (runRanks rejects with Stuck otherwise).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as collectives from '../../src/coll/collectives.js';
import { BXOR, Op, SUM } from '../../src/coll/op.js';
import { MPIError } from '../../src/base/index.js';
import type { Channel } from '../../src/coll/channel.js';
import { runRanks } from './memory-link.js';

const SIZES = Array.from({ length: 17 }, (_, i) => i + 1);
const ranks = (size: number): number[] => Array.from({ length: size }, (_, r) => r);

/** The ranks that pass bad input (or the roots): first, middle, last. */
function picks(size: number): number[] {
  return [...new Set([0, size >> 1, size - 1])];
}

interface Expected {
  /** Ranks that must reject; any other rank that rejects must say the same. */
  failing: readonly number[];
  /** The rank that detected the problem; 'each' when every rank detects it itself; 'any' when it depends on the pattern. */
  origin: number | 'each' | 'any';
  /** The problem as the origin describes it, without the call's name. */
  problem: string | RegExp;
  kind: new (...args: never[]) => Error;
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The message rank `rank` must throw. */
function messageFor(call: string, rank: number, expected: Expected): RegExp {
  const problem = typeof expected.problem === 'string' ? escape(expected.problem) : expected.problem.source;
  const { origin } = expected;
  const from = origin === 'any' ? '(rank \\d+ failed: )?' : origin === 'each' || origin === rank ? '' : `rank ${origin} failed: `;
  return new RegExp(`^${escape(call)}: ${from}${problem}$`);
}

async function failsAsExpected(size: number, call: string, algorithm: (ch: Channel) => Promise<unknown>, expected: Expected, where: string): Promise<void> {
  const outcomes = await runRanks(size, call, algorithm);
  for (const rank of expected.failing) {
    assert.ok(outcomes[rank]!.error !== undefined, `${where}: rank ${rank} of ${size} should reject, got ${String(outcomes[rank]!.value)}`);
  }
  for (const { rank, error } of outcomes) {
    if (error === undefined) continue;
    assert.ok(error instanceof expected.kind, `${where}: rank ${rank} threw ${error.name}, not ${expected.kind.name}: ${error.message}`);
    assert.match(error.message, messageFor(call, rank, expected), `${where}: rank ${rank} of ${size}`);
  }
}

const UNSENDABLE = (): number => 1;
const CANNOT_SEND = /cannot send this value: .*function.*/;
const NOT_A_STRING = 'SUM cannot reduce a string (it takes numbers, bigints and typed arrays)';
/** A user op on lists: it passes a bad item along, so only sending it fails. */
const LIST = Op.create((a: unknown[], b: unknown[]) => a.concat(b), false);

test('bcast: a root value that cannot be sent fails every rank', async () => {
  for (const size of SIZES.slice(1)) {
    for (const root of picks(size)) {
      await failsAsExpected(size, 'bcast', (ch) => collectives.bcast(ch, ch.rank === root ? UNSENDABLE : 0, root),
        { failing: ranks(size), origin: root, problem: CANNOT_SEND, kind: TypeError }, `bcast from ${root}`);
    }
  }
});

test('scatter: a root array of the wrong length fails every rank; an item that cannot be sent fails its rank', async () => {
  for (const size of SIZES) {
    for (const root of picks(size)) {
      await failsAsExpected(size, 'scatter', (ch) => collectives.scatter(ch, ch.rank === root ? ranks(size + 1) : null, root), {
        failing: ranks(size), origin: root, kind: MPIError,
        problem: `values at the root must be an array of ${size} items (one per rank), got an array of length ${size + 1}`,
      }, `scatter from ${root}`);
      for (const bad of picks(size).filter((r) => r !== root)) {
        const items = ranks(size).map((r) => (r === bad ? UNSENDABLE : r));
        await failsAsExpected(size, 'scatter', (ch) => collectives.scatter(ch, ch.rank === root ? items : null, root),
          { failing: [bad], origin: root, problem: CANNOT_SEND, kind: TypeError }, `scatter from ${root}, item ${bad} unsendable`);
      }
    }
  }
});

test('gather: a value that cannot be sent fails the root', async () => {
  for (const size of SIZES.slice(1)) {
    for (const root of picks(size)) {
      for (const bad of picks(size).filter((r) => r !== root)) {
        await failsAsExpected(size, 'gather', (ch) => collectives.gather(ch, ch.rank === bad ? UNSENDABLE : ch.rank, root),
          { failing: [root, bad], origin: bad, problem: CANNOT_SEND, kind: TypeError }, `gather to ${root}, ${bad} unsendable`);
      }
    }
  }
});

test('allgather: a value that cannot be sent fails every rank', async () => {
  for (const size of SIZES.slice(1)) {
    for (const bad of picks(size)) {
      await failsAsExpected(size, 'allgather', (ch) => collectives.allgather(ch, ch.rank === bad ? UNSENDABLE : ch.rank),
        { failing: ranks(size), origin: bad, problem: CANNOT_SEND, kind: TypeError }, `allgather, ${bad} unsendable`);
    }
  }
});

test('alltoall: an array of the wrong length fails every rank; an item that cannot be sent fails its receiver', async () => {
  for (const size of SIZES) {
    for (const bad of picks(size)) {
      await failsAsExpected(size, 'alltoall', (ch) => collectives.alltoall(ch, ch.rank === bad ? ranks(size - 1) : ranks(size)), {
        failing: ranks(size), origin: bad, kind: MPIError,
        problem: `values must be an array of ${size} items (one per rank), got an array of length ${size - 1}`,
      }, `alltoall, ${bad} short`);
      const dest = (bad + 1) % size;
      if (dest === bad) continue;
      const items = ranks(size).map((r) => (r === dest ? UNSENDABLE : r));
      await failsAsExpected(size, 'alltoall', (ch) => collectives.alltoall(ch, ch.rank === bad ? items : ranks(size)),
        { failing: [dest], origin: bad, problem: CANNOT_SEND, kind: TypeError }, `alltoall, ${bad}'s item for ${dest} unsendable`);
    }
  }
});

test('reduce: a bad operand fails every rank under a predefined op, and the root under a user op', async () => {
  for (const size of SIZES) {
    for (const root of picks(size)) {
      for (const bad of picks(size)) {
        for (const threshold of [0, Infinity]) {
          await failsAsExpected(size, 'reduce', (ch) => collectives.reduce(ch, ch.rank === bad ? 'text' : ch.rank, SUM, root, threshold),
            { failing: ranks(size), origin: bad, problem: NOT_A_STRING, kind: TypeError }, `reduce to ${root}, ${bad} a string`);
        }
        if (bad === root) continue;
        await failsAsExpected(size, 'reduce', (ch) => collectives.reduce(ch, ch.rank === bad ? [UNSENDABLE] : [ch.rank], LIST, root),
          { failing: [root], origin: bad, problem: CANNOT_SEND, kind: TypeError }, `reduce by user op to ${root}, ${bad} unsendable`);
      }
    }
  }
});

test('allreduce: a bad operand, a throwing op or a typed array of another length fails every rank, on both algorithms', async () => {
  for (const size of SIZES) {
    for (const bad of picks(size)) {
      for (const threshold of [0, Infinity]) {
        await failsAsExpected(size, 'allreduce', (ch) => collectives.allreduce(ch, ch.rank === bad ? 'text' : ch.rank, SUM, threshold),
          { failing: ranks(size), origin: bad, problem: NOT_A_STRING, kind: TypeError }, `allreduce, ${bad} a string`);
      }
      if (size === 1) continue;
      // The op runs only where two values meet, wherever that is.
      const throwing = Op.create(() => { throw new RangeError('no way'); });
      await failsAsExpected(size, 'allreduce', (ch) => collectives.allreduce(ch, ch.rank, throwing),
        { failing: ranks(size), origin: 'any', problem: 'no way', kind: RangeError }, 'allreduce, the op throws');
      // Both ranks on the ring, and the bad rank's array too short for it (it takes recursive doubling).
      for (const badLength of [2 * size + 1, 1]) {
        await failsAsExpected(size, 'allreduce', (ch) => collectives.allreduce(ch, new Float64Array(ch.rank === bad ? badLength : 2 * size), SUM, 0),
          { failing: ranks(size), origin: 'any', problem: /.*typed arrays differ (in length )?between ranks.*/, kind: MPIError },
          `allreduce by ring, ${bad} of length ${badLength}`);
      }
    }
  }
});

test('allreduceInto: a recvbuf of another length fails every rank, on both algorithms', async () => {
  for (const size of SIZES) {
    for (const bad of picks(size)) {
      for (const threshold of [0, Infinity]) {
        const length = 2 * size;
        await failsAsExpected(size, 'allreduceInto',
          (ch) => collectives.allreduceInto(ch, new Float64Array(length), new Float64Array(ch.rank === bad ? length - 1 : length), SUM, threshold), {
            failing: ranks(size), origin: bad, kind: MPIError,
            problem: `recvbuf must have the type and length of sendbuf (${length} elements of Float64Array), got ${length - 1} elements of Float64Array`,
          }, `allreduceInto, threshold ${threshold}, ${bad} short`);
      }
    }
  }
});

test('scan and exscan: a bad operand fails every rank', async () => {
  for (const size of SIZES) {
    for (const bad of picks(size)) {
      for (const exclusive of [false, true]) {
        const call = exclusive ? 'exscan' : 'scan';
        await failsAsExpected(size, call, (ch) => collectives.scan(ch, ch.rank === bad ? 'text' : ch.rank, SUM, exclusive),
          { failing: ranks(size), origin: bad, problem: NOT_A_STRING, kind: TypeError }, `${call}, ${bad} a string`);
      }
    }
  }
});

test('gatherv: a part longer or shorter than its count, or bad counts, fail the root', async () => {
  for (const size of SIZES) {
    for (const root of picks(size)) {
      const counts = ranks(size).map((r) => r % 3 + 1);
      for (const bad of picks(size).filter((r) => r !== root)) {
        // Too long a part does not fit its place (the engine's truncation); too short a one is counted.
        const tooLong = `message of ${(counts[bad]! + 1) * 8} bytes (float64) from rank ${bad} does not fit the ${counts[bad]! * 8}-byte buffer (MPI_ERR_TRUNCATE)`;
        const tooShort = `rank ${bad} sent ${counts[bad]! - 1} elements but counts[${bad}] is ${counts[bad]} elements of Float64Array`;
        for (const [length, problem] of [[counts[bad]! + 1, tooLong], [counts[bad]! - 1, tooShort]] as const) {
          await failsAsExpected(size, 'gatherv',
            (ch) => collectives.gatherv(ch, new Float64Array(ch.rank === bad ? length : counts[ch.rank]!), ch.rank === root ? counts : null, root), {
              failing: [root], origin: root, kind: MPIError, problem,
            }, `gatherv to ${root}, ${bad} of length ${length}`);
        }
      }
      if (size === 1) continue;
      await failsAsExpected(size, 'gatherv', (ch) => collectives.gatherv(ch, new Float64Array(1), ch.rank === root ? [1] : null, root), {
        failing: [root], origin: root, kind: MPIError,
        problem: `counts must be an array of ${size} counts (one per rank), got an array of length 1`,
      }, `gatherv to ${root}, counts too short`);
    }
  }
});

test('scatterv: a root sendbuf that does not match the counts fails every rank', async () => {
  for (const size of SIZES) {
    for (const root of picks(size)) {
      await failsAsExpected(size, 'scatterv',
        (ch) => collectives.scatterv(ch, ch.rank === root ? new Float64Array(size + 1) : null, ch.rank === root ? ranks(size).map(() => 1) : null, root),
        { failing: ranks(size), origin: root, kind: MPIError, problem: `sendbuf at the root has ${size + 1} elements but the counts add up to ${size}` },
        `scatterv from ${root}`);
    }
  }
});

test('allgatherv: a part that does not match its count fails every rank', async () => {
  for (const size of SIZES) {
    for (const bad of picks(size)) {
      const counts = ranks(size).map(() => 2);
      await failsAsExpected(size, 'allgatherv', (ch) => collectives.allgatherv(ch, new Float64Array(ch.rank === bad ? 3 : 2), counts), {
        failing: ranks(size), origin: 'each', kind: MPIError,
        problem: `rank ${bad} sent a Float64Array of 3 elements but counts[${bad}] is 2 elements of Float64Array`,
      }, `allgatherv, ${bad} long`);
      await failsAsExpected(size, 'allgatherv', (ch) => collectives.allgatherv(ch, new Float64Array(2), ch.rank === bad ? [2] : counts), {
        failing: size === 1 ? [] : ranks(size), origin: bad, kind: MPIError,
        problem: `counts must be an array of ${size} counts (one per rank), got an array of length 1`,
      }, `allgatherv, ${bad}'s counts short`);
    }
  }
});

test('reduceScatter: a sendbuf that does not match the counts fails every rank, by ring and by tree', async () => {
  const USER_SUM = Op.create((a: Float64Array, b: Float64Array) => a.map((x, i) => x + b[i]!));
  for (const size of SIZES) {
    for (const bad of picks(size)) {
      for (const op of [SUM, USER_SUM]) {
        const counts = ranks(size).map(() => 1);
        await failsAsExpected(size, 'reduceScatter', (ch) => collectives.reduceScatter(ch, new Float64Array(ch.rank === bad ? size + 1 : size), counts, op),
          { failing: ranks(size), origin: bad, kind: MPIError, problem: `sendbuf has ${size + 1} elements but the counts add up to ${size}` },
          `reduceScatter by ${op.name}, ${bad} long`);
      }
    }
  }
});

test('a typed array an op cannot take fails every rank on both allreduce algorithms, naming the call', async () => {
  for (const size of SIZES) {
    for (const threshold of [0, Infinity]) {
      await failsAsExpected(size, 'allreduce', (ch) => collectives.allreduce(ch, new Float64Array(2 * size), BXOR, threshold),
        { failing: ranks(size), origin: 'each', problem: 'BXOR needs an integer type, got a Float64Array', kind: TypeError }, `threshold ${threshold}`);
    }
  }
});

test('reduceScatter: bad counts on one rank or on all fail every rank, by ring and by tree', async () => {
  const USER_SUM = Op.create((a: Float64Array, b: Float64Array) => a.map((x, i) => x + b[i]!));
  for (const size of SIZES) {
    for (const bad of picks(size)) {
      for (const op of [SUM, USER_SUM]) {
        const counts = ranks(size).map(() => 1);
        const problem = `counts must be an array of ${size} counts (one per rank), got an array of length ${size + 1}`;
        await failsAsExpected(size, 'reduceScatter', (ch) => collectives.reduceScatter(ch, new Float64Array(size), ch.rank === bad ? [...counts, 1] : counts, op),
          { failing: ranks(size), origin: bad, kind: MPIError, problem }, `reduceScatter by ${op.name}, ${bad}'s counts too long`);
        await failsAsExpected(size, 'reduceScatter', (ch) => collectives.reduceScatter(ch, new Float64Array(size), [...counts, 1], op),
          { failing: ranks(size), origin: 'each', kind: MPIError, problem }, `reduceScatter by ${op.name}, every rank's counts too long`);
      }
    }
  }
});

test('scan: a rank whose prefix needed a combine that threw fails, and every other rank fails or is right', async () => {
  // Whatever the pattern, rank 2's prefix is "ABC", made by some combine: that one throws.
  const picky = Op.create((a: string, b: string) => {
    if (a + b === 'ABC') throw new RangeError('not ABC');
    return a + b;
  }, false);
  for (const size of SIZES.slice(2)) {
    const outcomes = await runRanks(size, 'scan', (ch) => collectives.scan(ch, String.fromCharCode(65 + ch.rank), picky, false));
    for (const { rank, value, error } of outcomes) {
      if (rank === 2) assert.ok(error !== undefined, `rank 2 of ${size} should fail, got ${String(value)}`);
      if (error !== undefined) assert.match(error.message, /^scan: (rank \d+ failed: )?not ABC$/, `rank ${rank} of ${size}`);
      else assert.equal(value, 'ABCDEFGHIJKLMNOPQ'.slice(0, rank + 1), `rank ${rank} of ${size}`);
    }
  }
});
