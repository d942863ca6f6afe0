import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROC_NULL } from '../../src/base/index.js';
import { cellCount, checkGrid, computeDims, coordsOf, rankAt, shiftNeighbours, type Grid } from '../../src/comm/cart.js';

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

// ---- grid math (src/comm/cart.ts), the CartComm calls without a communicator ----

/** 3 x 4, periodic in the first dimension only: ranks 0..11, row-major. */
const cylinder: Grid = { dims: [3, 4], periods: [true, false] };

test('coordsOf and rankAt are inverse, row-major (the last dimension fastest)', () => {
  assert.deepEqual(coordsOf(cylinder, 0), [0, 0]);
  assert.deepEqual(coordsOf(cylinder, 5), [1, 1]);
  assert.deepEqual(coordsOf(cylinder, 11), [2, 3]);
  for (let rank = 0; rank < 12; rank++) assert.equal(rankAt(cylinder, coordsOf(cylinder, rank)), rank);
  assert.deepEqual(coordsOf({ dims: [2, 3, 4], periods: [false, false, false] }, 23), [1, 2, 3]);
  assert.equal(cellCount(cylinder), 12);
});

test('rankAt wraps a periodic dimension and refuses to leave a non-periodic one', () => {
  assert.equal(rankAt(cylinder, [3, 1]), 1);
  assert.equal(rankAt(cylinder, [-1, 1]), 9);
  assert.throws(() => rankAt(cylinder, [0, 4]),
    { name: 'MPIError', errorClass: 'ERR_ARG', message: 'getCartRank: coords[1] = 4 is outside 0..3 in a non-periodic dimension' });
  assert.throws(() => rankAt(cylinder, [0, -1]), /getCartRank: coords\[1\] = -1 is outside 0\.\.3/);
});

test('rankAt and coordsOf check their arguments, naming the call', () => {
  assert.throws(() => rankAt(cylinder, [1]),
    { errorClass: 'ERR_ARG', message: 'getCartRank: coords must be an array of 2 integers (one per dimension), got [1]' });
  assert.throws(() => rankAt(cylinder, [0, 1.5]),
    { errorClass: 'ERR_ARG', message: 'getCartRank: coordinate 1.5 in dimension 1 must be an integer' });
  assert.throws(() => rankAt(cylinder, 'ab' as unknown as number[]), /getCartRank: coords must be an array of 2 integers .* got "ab"/);
  assert.throws(() => coordsOf(cylinder, 12),
    { errorClass: 'ERR_RANK', message: 'getCoords: rank 12 is out of range for a Cartesian communicator of size 12 (0..11)' });
  assert.throws(() => coordsOf(cylinder, -1), /getCoords: rank -1 is out of range/);
  assert.throws(() => coordsOf(cylinder, 0.5), /getCoords: rank 0.5 is out of range/);
});

test('shiftNeighbours: [source, dest], wrapping where periodic, PROC_NULL off an edge', () => {
  // Rank 4 = [1, 0]: rows wrap, columns do not.
  assert.deepEqual(shiftNeighbours(cylinder, [1, 0], 0, 1), [0, 8]);
  assert.deepEqual(shiftNeighbours(cylinder, [0, 0], 0, 1), [8, 4]);
  assert.deepEqual(shiftNeighbours(cylinder, [1, 0], 1, 1), [PROC_NULL, 5]);
  assert.deepEqual(shiftNeighbours(cylinder, [1, 3], 1, 1), [6, PROC_NULL]);
  assert.deepEqual(shiftNeighbours(cylinder, [1, 0], 1, -1), [5, PROC_NULL]);
  assert.deepEqual(shiftNeighbours(cylinder, [1, 1], 1, 0), [5, 5]);
  assert.deepEqual(shiftNeighbours(cylinder, [1, 1], 0, 4), [1, 9], 'a shift further than the extent wraps again');
  assert.deepEqual(shiftNeighbours(cylinder, [1, 1], 1, 5), [PROC_NULL, PROC_NULL]);
});

test('shiftNeighbours checks direction and disp, naming the call', () => {
  assert.throws(() => shiftNeighbours(cylinder, [0, 0], 2, 1),
    { errorClass: 'ERR_ARG', message: 'shift: direction 2 is out of range for a 2-dimensional grid (0..1)' });
  assert.throws(() => shiftNeighbours(cylinder, [0, 0], -1, 1), /shift: direction -1 is out of range/);
  assert.throws(() => shiftNeighbours(cylinder, [0, 0], 0, 0.5), { errorClass: 'ERR_ARG', message: 'shift: disp 0.5 must be an integer' });
});

test('checkGrid: createCart\'s dims and periods, copied, the grid no larger than the communicator', () => {
  const dims = [2, 3];
  const grid = checkGrid(dims, undefined, 6);
  assert.deepEqual(grid, { dims: [2, 3], periods: [false, false] });
  assert.notEqual(grid.dims, dims, 'a copy: the caller may change its array afterwards');
  assert.deepEqual(checkGrid([4], [true], 5), { dims: [4], periods: [true] });
  assert.throws(() => checkGrid([3, 3], undefined, 8),
    { errorClass: 'ERR_DIMS', message: 'createCart: dims [3,3] make 9 cells, more than the 8 ranks of the communicator' });
  const notDims = 'createCart: dims [0] must be a non-empty array of positive integers (MPI.computeDims(size, ndims) gives balanced ones)';
  assert.throws(() => checkGrid([0], undefined, 4), { errorClass: 'ERR_DIMS', message: notDims });
  assert.throws(() => checkGrid([], undefined, 4), /createCart: dims \[\] must be a non-empty array/);
  assert.throws(() => checkGrid([1.5], undefined, 4), /createCart: dims \[1.5\] must be a non-empty array/);
  assert.throws(() => checkGrid(4, undefined, 4), /createCart: dims 4 must be a non-empty array/);
  assert.throws(() => checkGrid([2], [1], 4),
    { errorClass: 'ERR_ARG', message: 'createCart: periods [1] must be an array of 1 booleans (one per dimension)' });
  assert.throws(() => checkGrid([2, 2], [true], 4), /createCart: periods \[true\] must be an array of 2 booleans/);
});
