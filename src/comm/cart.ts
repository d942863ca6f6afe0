/**
 * Cartesian topologies (MPI 4.0 section 8.5): ranks laid out on a grid in
 * row-major order, the last dimension varying fastest, as MPI specifies.
 */
import { PROC_NULL, MPIError } from '../base/index.js';
import { Comm, type CommInit } from './comm.js';

export interface CartInit extends CommInit {
  dims: readonly number[];
  periods: readonly boolean[];
}

export class CartComm extends Comm {
  /** Extent of each dimension. */
  readonly dims: readonly number[];
  /** Whether each dimension wraps around. */
  readonly periods: readonly boolean[];
  /** This rank's coordinates. */
  readonly coords: readonly number[];

  /** @internal Cartesian communicators come from `comm.createCart`. */
  constructor(init: CartInit) {
    super(init);
    this.dims = Object.freeze([...init.dims]);
    this.periods = Object.freeze([...init.periods]);
    this.coords = Object.freeze(this.getCoords(this.rank));
  }

  get ndims(): number {
    return this.dims.length;
  }

  /** The coordinates of `rank` (MPI_Cart_coords). */
  getCoords(rank: number): number[] {
    if (!Number.isInteger(rank) || rank < 0 || rank >= this.size) {
      throw new MPIError('ERR_RANK', `getCoords: rank ${String(rank)} is out of range for a Cartesian communicator of size ${this.size} (0..${this.size - 1})`);
    }
    const coords = new Array<number>(this.dims.length);
    let rest = rank;
    for (let d = this.dims.length - 1; d >= 0; d--) {
      coords[d] = rest % this.dims[d]!;
      rest = Math.floor(rest / this.dims[d]!);
    }
    return coords;
  }

  /**
   * The rank at `coords` (MPI_Cart_rank). Out-of-range coordinates wrap in a
   * periodic dimension and are an error in the others.
   */
  getCartRank(coords: readonly number[]): number {
    if (!Array.isArray(coords) || coords.length !== this.dims.length) {
      throw new MPIError('ERR_ARG', `getCartRank: coords must be an array of ${this.dims.length} integers (one per dimension), got ${JSON.stringify(coords)}`);
    }
    let rank = 0;
    for (let d = 0; d < this.dims.length; d++) {
      const coord = this.wrapCoord(coords[d], d, 'getCartRank');
      if (coord === null) {
        throw new MPIError('ERR_ARG', `getCartRank: coords[${d}] = ${String(coords[d])} is outside 0..${this.dims[d]! - 1} ` +
          'in a non-periodic dimension');
      }
      rank = rank * this.dims[d]! + coord;
    }
    return rank;
  }

  /**
   * The neighbours for a shift of `disp` along `direction` (MPI_Cart_shift):
   * `[source, dest]`, where this rank receives from `source` and sends to
   * `dest`. Off the edge of a non-periodic dimension the neighbour is PROC_NULL.
   */
  shift(direction: number, disp = 1): [source: number, dest: number] {
    this.checkUsable('shift');
    if (!Number.isInteger(direction) || direction < 0 || direction >= this.dims.length) {
      throw new MPIError('ERR_ARG', `shift: direction ${String(direction)} is out of range for a ${this.dims.length}-dimensional grid (0..${this.dims.length - 1})`);
    }
    if (!Number.isInteger(disp)) throw new MPIError('ERR_ARG', `shift: disp ${String(disp)} must be an integer`);
    return [this.neighbour(direction, -disp), this.neighbour(direction, disp)];
  }

  private neighbour(direction: number, offset: number): number {
    const coords = [...this.coords];
    const moved = this.wrapCoord(coords[direction]! + offset, direction, 'shift');
    if (moved === null) return PROC_NULL;
    coords[direction] = moved;
    return this.getCartRank(coords);
  }

  /** A coordinate brought into range (periodic) or null (off a non-periodic edge). */
  private wrapCoord(coord: unknown, d: number, call: string): number | null {
    if (typeof coord !== 'number' || !Number.isInteger(coord)) {
      throw new MPIError('ERR_ARG', `${call}: coordinate ${String(coord)} in dimension ${d} must be an integer`);
    }
    const extent = this.dims[d]!;
    if (coord >= 0 && coord < extent) return coord;
    if (!this.periods[d]) return null;
    return ((coord % extent) + extent) % extent;
  }
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
