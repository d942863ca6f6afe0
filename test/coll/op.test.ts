// Reduction ops on their own, without processes: src/coll/op.ts's predefined
// ops on numbers, bigints, booleans and every typed-array type, MAXLOC/MINLOC,
// user ops, and the messages of operands an op cannot take.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BAND, BOR, BXOR, describe, isTypedArray, LAND, LOR, LXOR, MAX, MAXLOC, MIN, MINLOC, Op, PROD, SUM, type TypedArray,
} from '../../src/coll/op.js';
import { MPIError } from '../../src/base/index.js';
import { kernelFor } from '../../src/coll/kernels.js';

const ALL_OPS = { SUM, PROD, MAX, MIN, LAND, LOR, LXOR, BAND, BOR, BXOR };

test('every predefined op on numbers', () => {
  const expected: Record<keyof typeof ALL_OPS, [number, number, number][]> = {
    SUM: [[3, 4, 7], [-1.5, 0.25, -1.25]],
    PROD: [[3, 4, 12], [-1.5, 2, -3]],
    MAX: [[3, 4, 4], [-1, -2, -1]],
    MIN: [[3, 4, 3], [-1, -2, -2]],
    LAND: [[3, 4, 1], [3, 0, 0], [0, 0, 0]],
    LOR: [[3, 0, 1], [0, 0, 0], [0, -2, 1]],
    LXOR: [[3, 4, 0], [3, 0, 1], [0, 0, 0]],
    BAND: [[12, 10, 8], [-3, 5, 5], [2 ** 40 + 3, 2 ** 40 + 1, 2 ** 40 + 1]],
    BOR: [[12, 10, 14], [-3, 5, -3], [2 ** 40, 1, 2 ** 40 + 1]],
    BXOR: [[12, 10, 6], [-1, 1, -2], [2 ** 40 + 1, 1, 2 ** 40]],
  };
  for (const [name, cases] of Object.entries(expected)) {
    const op = ALL_OPS[name as keyof typeof ALL_OPS];
    for (const [a, b, result] of cases) assert.equal(op.combine(a, b), result, `${a} ${name} ${b}`);
  }
});

test('every predefined op on bigints, beyond 64 bits too', () => {
  const big = 2n ** 70n;
  assert.equal(SUM.combine(big, 1n), big + 1n);
  assert.equal(PROD.combine(big, -3n), -3n * big);
  assert.equal(MAX.combine(-5n, big), big);
  assert.equal(MIN.combine(-5n, big), -5n);
  assert.equal(LAND.combine(big, 0n), 0n);
  assert.equal(LAND.combine(big, -1n), 1n);
  assert.equal(LOR.combine(0n, 0n), 0n);
  assert.equal(LOR.combine(0n, big), 1n);
  assert.equal(LXOR.combine(big, big), 0n);
  assert.equal(LXOR.combine(0n, big), 1n);
  assert.equal(BAND.combine(big | 5n, 6n), 4n);
  assert.equal(BOR.combine(big, 1n), big + 1n);
  assert.equal(BXOR.combine(big | 1n, 1n), big);
});

test('LAND, LOR and LXOR take booleans and give booleans; other ops refuse them', () => {
  const table: [Op, boolean, boolean, boolean][] = [
    [LAND, true, true, true], [LAND, true, false, false], [LAND, false, false, false],
    [LOR, true, false, true], [LOR, false, false, false],
    [LXOR, true, false, true], [LXOR, true, true, false], [LXOR, false, false, false],
  ];
  for (const [op, a, b, result] of table) assert.equal(op.combine(a, b), result, `${a} ${op.name} ${b}`);
  for (const op of [SUM, PROD, MAX, MIN, BAND, BOR, BXOR]) {
    assert.equal(op.problem(true), `${op.name} cannot reduce a boolean (only LAND, LOR and LXOR can)`);
    assert.throws(() => op.combine(true, false), { name: 'TypeError', message: `${op.name} cannot reduce a boolean (only LAND, LOR and LXOR can)` });
  }
});

/** Operands for each typed-array type, chosen inside its range (negatives for signed types). */
const TYPED_CASES: { type: new (values: number[] | bigint[]) => TypedArray; a: number[]; b: number[] }[] = [
  { type: Int8Array as never, a: [-3, 0, 7, 5, 100], b: [2, 0, -1, 5, 3] },
  { type: Uint8Array as never, a: [3, 0, 7, 200, 12], b: [2, 0, 1, 100, 10] },
  { type: Uint8ClampedArray as never, a: [3, 0, 7, 200, 12], b: [2, 0, 1, 100, 10] },
  { type: Int16Array as never, a: [-300, 0, 7, 5, 12], b: [2, 0, -1, 5, 10] },
  { type: Uint16Array as never, a: [300, 0, 7, 60000, 12], b: [2, 0, 1, 5, 10] },
  { type: Int32Array as never, a: [-70000, 0, 7, 5, 12], b: [2, 0, -1, 5, 10] },
  { type: Uint32Array as never, a: [3_000_000_000, 0, 7, 5, 12], b: [2, 0, 1, 5, 10] },
  { type: Float32Array as never, a: [-1.5, 0, 7.25, 5, 0.1], b: [2, 0, -1, 5, 0.2] },
  { type: Float64Array as never, a: [-1.5, 0, 7.25, 5, 0.1], b: [2, 0, -1, 5, 0.2] },
  { type: BigInt64Array as never, a: [-3, 0, 7, 5, 12], b: [2, 0, -1, 5, 10] },
  { type: BigUint64Array as never, a: [3, 0, 7, 5, 12], b: [2, 0, 1, 5, 10] },
];

function make(type: (typeof TYPED_CASES)[number]['type'], values: number[]): TypedArray {
  const bigints = type === (BigInt64Array as never) || type === (BigUint64Array as never);
  return new type(bigints ? values.map((v) => BigInt(v)) : values);
}

const isFloat = (array: TypedArray): boolean => array instanceof Float32Array || array instanceof Float64Array;

for (const { type, a, b } of TYPED_CASES) {
  test(`every predefined op element by element on ${type.name}, as on its elements one by one`, () => {
    for (const [name, op] of Object.entries(ALL_OPS)) {
      const left = make(type, a);
      const right = make(type, b);
      if (isFloat(left) && [BAND, BOR, BXOR].includes(op)) {
        assert.equal(op.problem(left), `${name} needs an integer type, got a ${type.name}`);
        continue;
      }
      // The reference: the scalar op on each pair of elements, stored back in
      // the same type (so wrap-around, clamping and float32 rounding apply).
      const expected = make(type, a);
      for (let i = 0; i < a.length; i++) (expected as Float64Array)[i] = op.combine(left[i], right[i]) as number;
      const combined = op.combine(left, right);
      assert.ok(combined instanceof type, `${name} keeps the type`);
      assert.deepEqual(combined, expected, `${name} on ${type.name}`);
      assert.deepEqual(left, make(type, a), 'combine leaves its operands alone');
      op.accumulate(left, right);
      assert.deepEqual(left, expected, `${name} in place on ${type.name}`);
    }
  });
}

test('typed-array results wrap, clamp and multiply as C does', () => {
  assert.deepEqual(SUM.combine(new Uint8Array([250]), new Uint8Array([10])), new Uint8Array([4]));
  assert.deepEqual(SUM.combine(new Uint8ClampedArray([250]), new Uint8ClampedArray([10])), new Uint8ClampedArray([255]));
  assert.deepEqual(SUM.combine(new BigInt64Array([2n ** 63n - 1n]), new BigInt64Array([1n])), new BigInt64Array([-(2n ** 63n)]));
  // The exact product passes 2^53; C's 32-bit multiply keeps the low bits.
  assert.deepEqual(PROD.combine(new Int32Array([0x7fffffff]), new Int32Array([0x7fffffff])), new Int32Array([1]));
  assert.deepEqual(PROD.combine(new Uint32Array([0xffffffff]), new Uint32Array([0xffffffff])), new Uint32Array([1]));
  assert.deepEqual(BOR.combine(new Uint32Array([0x8000_0000]), new Uint32Array([1])), new Uint32Array([0x8000_0001]));
});

test('MAX and MIN keep a NaN from either side, on numbers and on float arrays', () => {
  for (const op of [MAX, MIN]) {
    assert.ok(Number.isNaN(op.combine(NaN, 2)), `${op.name}(NaN, 2)`);
    assert.ok(Number.isNaN(op.combine(2, NaN)), `${op.name}(2, NaN)`);
  }
  const max = MAX.combine(new Float64Array([1, NaN, 3]), new Float64Array([NaN, 2, 1])) as Float64Array;
  assert.ok(Number.isNaN(max[0]) && Number.isNaN(max[1]));
  assert.equal(max[2], 3);
  const min = MIN.combine(new Float32Array([NaN, 2]), new Float32Array([1, NaN])) as Float32Array;
  assert.ok(Number.isNaN(min[0]) && Number.isNaN(min[1]));
});

test('MAXLOC and MINLOC: the extreme value with its index, the lowest index on a tie', () => {
  assert.deepEqual(MAXLOC.combine([3, 7], [5, 2]), [5, 2]);
  assert.deepEqual(MAXLOC.combine([5, 7], [3, 2]), [5, 7]);
  assert.deepEqual(MAXLOC.combine([5, 7], [5, 2]), [5, 2]);
  assert.deepEqual(MAXLOC.combine([5, 2], [5, 7]), [5, 2]);
  assert.deepEqual(MINLOC.combine([3, 7], [5, 2]), [3, 7]);
  assert.deepEqual(MINLOC.combine([-1.5, 9], [-1.5, 4]), [-1.5, 4]);
  assert.deepEqual(MAXLOC.combine([2n ** 64n, 1], [2n ** 64n, 0]), [2n ** 64n, 0]);
  assert.deepEqual(MINLOC.combine([-(2n ** 64n), 3], [0n, 1]), [-(2n ** 64n), 3]);
  const lower: [number, number] = [5, 2];
  const result = MAXLOC.combine(lower, [1, 0]);
  assert.notEqual(result, lower, 'a new pair, the operand is left alone');
});

test('MAXLOC and MINLOC refuse what is not a [value, index] pair', () => {
  const pairOnly = (got: string): string => `MAXLOC needs a [value, index] pair (value a number or bigint, index an integer), got ${got}`;
  assert.equal(MAXLOC.problem(5), pairOnly('a number'));
  assert.equal(MAXLOC.problem([5, 1.5]), pairOnly('an array of length 2'));
  assert.equal(MAXLOC.problem([5, 1, 2]), pairOnly('an array of length 3'));
  assert.equal(MAXLOC.problem(new Float64Array(2)), pairOnly('a Float64Array of 2 elements'));
  assert.throws(() => MAXLOC.combine(['a', 1], [5, 0]), { name: 'TypeError', message: pairOnly('an array of length 2') });
  assert.throws(() => MINLOC.combine([1n, 0], [1, 1]), { name: 'TypeError', message: 'MINLOC: every rank must pass the same kind of value, got a bigint and a number' });
  assert.throws(() => MAXLOC.accumulate(new Float64Array(2), new Float64Array(2)), { name: 'TypeError', message: pairOnly('a Float64Array of 2 elements') });
});

test('typed arrays of different lengths: an ERR_COUNT error naming both lengths and the type', () => {
  for (const call of [() => SUM.combine(new Float64Array(3), new Float64Array(4)), () => SUM.accumulate(new Float64Array(3), new Float64Array(4))]) {
    assert.throws(call, (err: unknown) => {
      assert.ok(err instanceof MPIError);
      assert.equal(err.errorClass, 'ERR_COUNT');
      assert.equal(err.message, 'SUM: typed arrays differ in length between ranks (3 and 4 elements of Float64Array); every rank must pass the same length');
      return true;
    });
  }
  assert.throws(() => BXOR.combine(new Int8Array(2), new Int8Array(0)), { message: /^BXOR: typed arrays differ in length between ranks \(2 and 0 elements of Int8Array\)/ });
});

test('operands of different kinds, and values no predefined op takes: TypeErrors that say what was passed', () => {
  assert.throws(() => SUM.combine(new Float64Array(2), new Int32Array(2)), {
    name: 'TypeError', message: 'SUM: every rank must pass the same kind of value, got a Float64Array of 2 elements and an Int32Array of 2 elements',
  });
  assert.throws(() => MAX.combine(new Float64Array(2), 3), {
    name: 'TypeError', message: 'MAX: every rank must pass the same kind of value, got a Float64Array of 2 elements and a number',
  });
  assert.throws(() => SUM.combine(1, 2n), { name: 'TypeError', message: 'SUM: every rank must pass the same kind of value, got a number and a bigint' });
  assert.throws(() => SUM.combine('a', 'b'), { name: 'TypeError', message: 'SUM cannot reduce a string (it takes numbers, bigints and typed arrays)' });
  assert.equal(PROD.problem(null), 'PROD cannot reduce null (it takes numbers, bigints and typed arrays)');
  assert.equal(SUM.problem([1, 2]), 'SUM cannot reduce an array of length 2 (it takes numbers, bigints and typed arrays)');
  assert.equal(SUM.problem({ a: 1 }), 'SUM cannot reduce an object (Object) (it takes numbers, bigints and typed arrays)');
  assert.equal(SUM.problem(new DataView(new ArrayBuffer(8))), 'SUM cannot reduce a DataView (it takes numbers, bigints and typed arrays)');
  assert.equal(BAND.problem(1.5), 'BAND needs integers, got 1.5');
  assert.equal(BOR.problem(2 ** 40), null);
  for (const op of Object.values(ALL_OPS)) assert.equal(op.problem(1n), null, `${op.name} takes bigints`);
});

test('Op.create: a user op combines any values, lower ranks first, and keeps commute as given', () => {
  const concat = Op.create<string>((a, b) => a + b, false);
  assert.equal(concat.commute, false);
  assert.equal(concat.isPredefined, false);
  assert.equal(concat.name, 'user op');
  assert.equal(concat.combine('lower', 'higher'), 'lowerhigher');
  // Rank order: ((r0 op r1) op r2) op r3 is what a non-commutative reduction must give.
  const ranks = ['a', 'b', 'c', 'd'];
  assert.equal(ranks.reduce((acc, x) => concat.combine(acc, x) as string), 'abcd');
  // Matrix product, the textbook non-commutative op.
  type M = [number, number, number, number];
  const matmul = Op.create<M>(([a, b, c, d], [e, f, g, h]) => [a * e + b * g, a * f + b * h, c * e + d * g, c * f + d * h], false);
  assert.deepEqual(matmul.combine([1, 1, 0, 1], [1, 0, 1, 1]), [2, 1, 1, 1]);
  assert.deepEqual(matmul.combine([1, 0, 1, 1], [1, 1, 0, 1]), [1, 1, 1, 2]);
  assert.equal(matmul.problem('anything'), null, 'a user op judges its own operands');
  const merge = Op.create<Record<string, number>>((a, b) => ({ ...a, ...b }));
  assert.equal(merge.commute, true, 'commute defaults to true');
  assert.deepEqual(merge.combine({ x: 1 }, { y: 2 }), { x: 1, y: 2 });
  assert.equal(Op.create(() => 0, true).commute, true);
});

test('Op.create refuses what is not a function, naming what it got', () => {
  assert.throws(() => Op.create(42 as never), { name: 'TypeError', message: 'Op.create: fn must be a function, got a number' });
  assert.throws(() => Op.create(null as never), { name: 'TypeError', message: 'Op.create: fn must be a function, got null' });
});

test('a user op that throws lets the error through', () => {
  const failing = Op.create(() => { throw new RangeError('no'); });
  assert.throws(() => failing.combine(1, 2), { name: 'RangeError', message: 'no' });
});

test('names, predefined flags, isTypedArray and describe', () => {
  for (const [name, op] of Object.entries({ ...ALL_OPS, MAXLOC, MINLOC })) {
    assert.equal(op.name, name);
    assert.equal(String(op), name);
    assert.equal(op.isPredefined, true);
    assert.equal(op.commute, true);
  }
  assert.equal(isTypedArray(new Float64Array(1)), true);
  assert.equal(isTypedArray(Buffer.from('x')), true);
  assert.equal(isTypedArray(new DataView(new ArrayBuffer(1))), false);
  assert.equal(isTypedArray([1]), false);
  assert.equal(describe(undefined), 'an undefined');
  assert.equal(describe(new Int32Array(2)), 'an Int32Array of 2 elements');
  assert.equal(describe(new Uint16Array(3)), 'a Uint16Array of 3 elements');
  assert.equal(describe(new ArrayBuffer(3)), 'an ArrayBuffer');
  assert.equal(describe(Object.create(null)), 'an object (no prototype)');
});

test('each op has a loop of its own per element type (one shared loop is 40 times slower), and a subclass takes its base type\'s', () => {
  const f64 = kernelFor('SUM', Float64Array);
  assert.notEqual(f64, kernelFor('SUM', Float32Array));
  assert.equal(f64, kernelFor('SUM', Float64Array));
  // V8 shares one compiled function among sources of the same text: each names its type.
  assert.match(f64.toString(), /SUM of Float64Array/);
  class Grid extends Float64Array {}
  const grid = new Grid([1, 2, 3, 4, 5, 6]);
  SUM.accumulate(grid, new Grid([0.5, 0.25, 1, 1, 1, 1]));
  assert.deepEqual([...grid], [1.5, 2.25, 4, 5, 6, 7]);
});
