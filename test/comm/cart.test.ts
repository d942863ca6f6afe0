import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeDims } from '../../src/comm/cart.js';

test('computeDims balances like MPI_Dims_create, largest first', () => {
  assert.deepEqual(computeDims(12, 2), [4, 3]);
  assert.deepEqual(computeDims(16, 3), [4, 2, 2]);
  assert.deepEqual(computeDims(7, 2), [7, 1]);
  assert.deepEqual(computeDims(1, 3), [1, 1, 1]);
  assert.deepEqual(computeDims(36, 2), [6, 6]);
  assert.deepEqual(computeDims(24, 3), [4, 3, 2]);
});

test('computeDims keeps the dimensions the caller fixed', () => {
  assert.deepEqual(computeDims(12, 2, [0, 2]), [6, 2]);
  assert.deepEqual(computeDims(12, 3, [3, 0, 0]), [3, 2, 2]);
  assert.deepEqual(computeDims(6, 2, [3, 2]), [3, 2]);
});

test('computeDims rejects what no grid can satisfy, naming the values', () => {
  assert.throws(() => computeDims(0, 2), /computeDims: nnodes 0 must be a positive integer/);
  assert.throws(() => computeDims(4, 0), /computeDims: ndims 0 must be a positive integer/);
  assert.throws(() => computeDims(10, 2, [3, 0]), /10 ranks cannot fill a grid whose fixed dimensions multiply to 3/);
  assert.throws(() => computeDims(6, 2, [1, 2]), /dims \[1,2\] multiply to 2, not 6/);
  assert.throws(() => computeDims(6, 2, [-1, 0]), /must be 2 non-negative integers/);
});
