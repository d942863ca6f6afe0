/**
 * Cartesian grid math (MPI 4.1 sections 8.5.1, 8.5.2, 8.5.5 and 8.5.6): ranks
 * laid out on a grid in row-major order, the last dimension varying fastest,
 * as MPI specifies. Pure functions of a grid's shape with their own argument
 * checks; they know no communicator. The CartComm face (comm.ts) and
 * createCart's machinery (create.ts) call them, so this module imports
 * neither. Each check serves one user call, and its message starts with it.
 *
 * # Unfinished features
 * - **8.5.3**, **8.5.4**: graph and distributed-graph topologies.
 * - **8.5.5**: MPI_Topo_test (`instanceof CartComm` answers it for now) and
 *   MPI_Cartdim_get / MPI_Cart_get as calls (`ndims`, `dims`, `periods` and
 *   `coords` are fields).
 * - **8.5.7**: MPI_Cart_sub, the subgrids of a grid.
 * - **8.5.8**: MPI_Cart_map; `reorder` is accepted and ignored, as MPI allows.
 * - **8.6** to **8.8**: neighborhood collectives, blocking, nonblocking and persistent.
 */
import { PROC_NULL, MPIError } from '../base/index.js';

/** A grid's shape: the extent of each dimension and whether it wraps around. */
export interface Grid {
  readonly dims: readonly number[];
  readonly periods: readonly boolean[];
}

/** createCart's `dims` and `periods` checked (copies of them): the grid must fit in `size` ranks. */
export function checkGrid(dims: unknown, periods: unknown, size: number): Grid {
  const extents = checkCartDims(dims, size);
  return { dims: extents, periods: checkCartPeriods(periods, extents.length) };
}

/** How many ranks the grid holds. */
export function cellCount(grid: Grid): number {
  return product(grid.dims);
}

function product(values: readonly number[]): number {
  return values.reduce((result, value) => result * value, 1);
}

/** The coordinates of `rank` (getCoords, MPI_Cart_coords). */
export function coordsOf(grid: Grid, rank: number): number[] {
  const size = cellCount(grid);
  if (!Number.isInteger(rank) || rank < 0 || rank >= size) {
    throw new MPIError('ERR_RANK', `getCoords: rank ${String(rank)} is out of range for a Cartesian communicator of size ${size} (0..${size - 1})`);
  }
  const coords = new Array<number>(grid.dims.length);
  let rest = rank;
  for (let d = grid.dims.length - 1; d >= 0; d--) {
    coords[d] = rest % grid.dims[d]!;
    rest = Math.floor(rest / grid.dims[d]!);
  }
  return coords;
}

/**
 * The rank at `coords` (getCartRank, MPI_Cart_rank). Out-of-range
 * coordinates wrap in a periodic dimension and are an error in the others.
 */
export function rankAt(grid: Grid, coords: readonly number[]): number {
  if (!Array.isArray(coords) || coords.length !== grid.dims.length) {
    throw new MPIError('ERR_ARG', `getCartRank: coords must be an array of ${grid.dims.length} integers (one per dimension), got ${JSON.stringify(coords)}`);
  }
  let rank = 0;
  for (let d = 0; d < grid.dims.length; d++) {
    const coord: unknown = coords[d];
    if (typeof coord !== 'number' || !Number.isInteger(coord)) {
      throw new MPIError('ERR_ARG', `getCartRank: coordinate ${String(coord)} in dimension ${d} must be an integer`);
    }
    const inRange = wrap(grid, d, coord);
    if (inRange === null) {
      throw new MPIError('ERR_ARG', `getCartRank: coords[${d}] = ${coord} is outside 0..${grid.dims[d]! - 1} ` +
        'in a non-periodic dimension');
    }
    rank = rank * grid.dims[d]! + inRange;
  }
  return rank;
}

/**
 * The neighbours of the rank at `coords` for a shift of `disp` along
 * `direction` (shift, MPI_Cart_shift): `[source, dest]`, where that rank
 * receives from `source` and sends to `dest`. Off the edge of a non-periodic
 * dimension the neighbour is PROC_NULL.
 */
export function shiftNeighbours(grid: Grid, coords: readonly number[], direction: number, disp: number): [source: number, dest: number] {
  const ndims = grid.dims.length;
  if (!Number.isInteger(direction) || direction < 0 || direction >= ndims) {
    throw new MPIError('ERR_ARG', `shift: direction ${String(direction)} is out of range for a ${ndims}-dimensional grid (0..${ndims - 1})`);
  }
  if (!Number.isInteger(disp)) throw new MPIError('ERR_ARG', `shift: disp ${String(disp)} must be an integer`);
  return [neighbour(grid, coords, direction, -disp), neighbour(grid, coords, direction, disp)];
}

/** The rank `offset` steps from `coords` along `direction`, or PROC_NULL off a non-periodic edge. */
function neighbour(grid: Grid, coords: readonly number[], direction: number, offset: number): number {
  const moved = wrap(grid, direction, coords[direction]! + offset);
  if (moved === null) return PROC_NULL;
  let rank = 0;
  for (let d = 0; d < grid.dims.length; d++) rank = rank * grid.dims[d]! + (d === direction ? moved : coords[d]!);
  return rank;
}

/** An integer coordinate of dimension `d` brought into range (periodic), or null off a non-periodic edge. */
function wrap(grid: Grid, d: number, coord: number): number | null {
  const extent = grid.dims[d]!;
  if (coord >= 0 && coord < extent) return coord;
  if (!grid.periods[d]) return null;
  return ((coord % extent) + extent) % extent;
}

/** createCart's dims: positive integers whose product fits in the communicator. */
function checkCartDims(dims: unknown, size: number): number[] {
  if (!isPositiveIntegers(dims) || dims.length === 0) {
    throw new MPIError('ERR_DIMS', `createCart: dims ${JSON.stringify(dims)} must be a non-empty array of positive integers ` +
      '(MPI.computeDims(size, ndims) gives balanced ones)');
  }
  const extents = [...dims];
  const cells = product(extents);
  if (cells > size) {
    throw new MPIError('ERR_DIMS', `createCart: dims ${JSON.stringify(dims)} make ${cells} cells, more than the ${size} ranks of the communicator`);
  }
  return extents;
}

/** createCart's periods: one boolean per dimension; none given is all false. */
function checkCartPeriods(periods: unknown, ndims: number): boolean[] {
  if (periods === undefined) return new Array<boolean>(ndims).fill(false);
  if (!isBooleans(periods) || periods.length !== ndims) {
    throw new MPIError('ERR_ARG', `createCart: periods ${JSON.stringify(periods)} must be an array of ${ndims} booleans (one per dimension)`);
  }
  return [...periods];
}

function isPositiveIntegers(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((d: unknown) => typeof d === 'number' && Number.isInteger(d) && d >= 1);
}

function isBooleans(value: unknown): value is boolean[] {
  return Array.isArray(value) && value.every((p: unknown) => typeof p === 'boolean');
}

/**
 * Balanced grid dimensions for `nnodes` ranks (MPI_Dims_create): as close to
 * each other as possible, in non-increasing order. Non-zero entries of `dims`
 * are kept as given; only the zero entries are chosen.
 */
export function computeDims(nnodes: number, ndims: number, dims?: readonly number[]): number[] {
  if (!Number.isInteger(nnodes) || nnodes < 1) {
    throw new MPIError('ERR_ARG', `computeDims: nnodes ${String(nnodes)} must be a positive integer`);
  }
  if (!Number.isInteger(ndims) || ndims < 1) {
    throw new MPIError('ERR_DIMS', `computeDims: ndims ${String(ndims)} must be a positive integer`);
  }
  const given = dims === undefined ? new Array<number>(ndims).fill(0) : [...dims];
  if (given.length !== ndims || given.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new MPIError('ERR_DIMS', `computeDims: dims ${JSON.stringify(dims)} must be ${ndims} non-negative integers (0 = choose)`);
  }
  const fixed = given.reduce((product, d) => (d > 0 ? product * d : product), 1);
  if (nnodes % fixed !== 0) {
    throw new MPIError('ERR_DIMS', `computeDims: ${nnodes} ranks cannot fill a grid whose fixed dimensions multiply to ${fixed}`);
  }
  const free = given.map((d, i) => (d === 0 ? i : -1)).filter((i) => i >= 0);
  if (free.length === 0) {
    if (fixed !== nnodes) throw new MPIError('ERR_DIMS', `computeDims: dims ${JSON.stringify(dims)} multiply to ${fixed}, not ${nnodes}`);
    return given;
  }
  const chosen = balancedFactors(nnodes / fixed, free.length);
  free.forEach((index, k) => { given[index] = chosen[k]!; });
  return given;
}

/** `n` split into `count` factors as equal as possible, largest first. */
function balancedFactors(n: number, count: number): number[] {
  const factors = new Array<number>(count).fill(1);
  // Largest primes first, each onto the currently smallest factor.
  for (const prime of primeFactors(n).reverse()) {
    let smallest = 0;
    for (let i = 1; i < count; i++) if (factors[i]! < factors[smallest]!) smallest = i;
    factors[smallest]! *= prime;
  }
  return factors.sort((a, b) => b - a);
}

function primeFactors(n: number): number[] {
  const primes: number[] = [];
  let rest = n;
  for (let p = 2; p * p <= rest; p++) {
    while (rest % p === 0) {
      primes.push(p);
      rest /= p;
    }
  }
  if (rest > 1) primes.push(rest);
  return primes;
}
