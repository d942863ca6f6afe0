/**
 * The cost model of the collectives (DESIGN.md "The collectives at scale"):
 * Hockney's alpha-beta-gamma form of LogGP, a message of n bytes costing
 * alpha + n * beta on a link and a reduction gamma per byte, with this
 * project's measurements on its 2-core VM for shared memory and the nominal
 * figures of Gigabit Ethernet between hosts (the clusters the tutorial
 * builds). The allreduce's switch to the ring scales with the rank count as
 * the model's crossover does (ringThreshold); bench/model.ts prints the
 * model's costs at 64 to 1024 ranks.
 *
 * The same costs choose between the allreduce's three algorithms
 * (allreduceAlgorithm), bcastInto's two (bcastAlgorithm) and the value
 * alltoall's two (alltoallAlgorithm), from values every rank of a call
 * agrees on: the rank count, and the length of the typed array that MPI
 * requires alike on every rank (the root's, for bcastInto, which the root
 * announces: bcast-scatter-allgather.ts). Where the model alone picked the
 * algorithm this 2-core VM measured slower, a measured floor keeps the faster
 * one (BCAST_SCATTER_MIN_BYTES, BRUCK_MIN_RANKS), as ringThreshold's does.
 *
 * # Unfinished features
 * - The figures are constants: nothing measures the network a job runs on.
 */
import type { AllreduceAlgorithm, AlltoallAlgorithm, BcastAlgorithm } from '../base/index.js';

/** One kind of link: per-message latency and per-byte times, in microseconds. */
export interface LinkCost {
  readonly name: string;
  /** Latency of one message (one way), us. */
  readonly alpha: number;
  /** Time per byte on the wire or through memory, us. */
  readonly beta: number;
  /** Time per byte of a predefined reduction (SUM of doubles), us. */
  readonly gamma: number;
}

/**
 * Between ranks of one host with a core each: 8 B typed one way 0.83 us
 * (`npm run bench:compare`), 4 MiB at 18.8 GB/s split between two cores
 * (`mpi4ts bench bw --typed`), SUM of 1M doubles 1.75 ms (0.21 ns a byte).
 */
export const SHARED_MEMORY: LinkCost = { name: 'shared memory', alpha: 0.83, beta: 1 / 18_800, gamma: 0.21e-3 };

/**
 * Ranks of one host with fewer cores than ranks: every message wakes a
 * sleeping process (about 45 us here, DESIGN.md "Progress").
 */
export const OVERSUBSCRIBED: LinkCost = { name: 'shared memory, oversubscribed', alpha: 45, beta: 1 / 18_800, gamma: 0.21e-3 };

/**
 * Gigabit Ethernet between hosts, as a rack of Raspberry Pis: some 60 us one
 * way through two TCP stacks and a switch, 117 MB/s of payload.
 */
export const GIGABIT_ETHERNET: LinkCost = { name: 'Gigabit Ethernet', alpha: 60, beta: 1 / 117, gamma: 0.21e-3 };

const log2ceil = (p: number): number => (p <= 1 ? 0 : Math.ceil(Math.log2(p)));
/** Recursive doubling's rounds: log2 p, and the fold's two more off a power of two. */
const doublingRounds = (p: number): number => Math.floor(Math.log2(p)) + (Number.isInteger(Math.log2(p)) ? 0 : 2);

/** Binomial tree: ceil(log2 p) rounds, each the whole message. */
export function bcastBinomialCost(p: number, bytes: number, link: LinkCost): number {
  return log2ceil(p) * (link.alpha + bytes * link.beta);
}

/**
 * Van de Geijn's broadcast, as MPICH's scatter_ring_allgather: a binomial
 * scatter of the message's p parts (ceil(log2 p) rounds, (p-1)/p of the
 * message leaving the root), then a ring allgather of the parts (p - 1 steps
 * of 1/p each).
 */
export function bcastScatterAllgatherCost(p: number, bytes: number, link: LinkCost): number {
  if (p <= 1) return 0;
  return (log2ceil(p) + p - 1) * link.alpha + (2 * (p - 1) / p) * bytes * link.beta;
}

/**
 * The smallest message, in bytes, from which the model finds the scatter +
 * allgather broadcast cheaper than the binomial tree on `p` ranks (Infinity:
 * never, as on 2 ranks, where both send the whole message once and the
 * scatter adds a latency).
 */
export function bcastScatterCrossoverBytes(p: number, link: LinkCost): number {
  if (p <= 2) return Infinity;
  const perByte = (log2ceil(p) - (2 * (p - 1)) / p) * link.beta;
  const latency = (p - 1) * link.alpha;
  return perByte <= 0 ? Infinity : latency / perByte;
}

/**
 * 16 MiB: below it bcastInto keeps the binomial tree whatever the model
 * says. On the 2-core VM, 2 to 8 ranks oversubscribed, the tree won at every
 * size measured up to 8 MiB (8 ranks: 7.6-7.9 ms against 13.8-14.5; 4 ranks
 * 7.2-10.3 against 10.5-12.3; `node --import tsx bench/algorithms.ts --only
 * bcastInto`): each of the scatter's p - 1 + log2 p messages wakes a rank
 * there, and the tree's whole-buffer sends go by cross-memory attach's single
 * copy. The model's crossover (about 90 KiB on 4 to 8 ranks with a core
 * each) is not measured here; the floor keeps the faster one on this machine.
 */
export const BCAST_SCATTER_MIN_BYTES = 16 * 1024 * 1024;

/** Where bcastInto takes the scatter + allgather on `p` ranks: the model's crossover, never below BCAST_SCATTER_MIN_BYTES. */
export function bcastScatterThreshold(p: number): number {
  return Math.max(BCAST_SCATTER_MIN_BYTES, bcastScatterCrossoverBytes(p, SHARED_MEMORY));
}

/**
 * bcastInto's algorithm for the root's `bytes` on `p` ranks: the scatter +
 * allgather from bcastScatterThreshold, the binomial tree below it and
 * always on 2 ranks.
 */
export function bcastAlgorithm(p: number, bytes: number): BcastAlgorithm {
  return bytes >= bcastScatterThreshold(p) ? 'scatter-allgather' : 'binomial';
}

/** Recursive doubling: log2 p exchanges of the whole array, each reduced (the fold adds two steps off a power of two). */
export function allreduceRecursiveDoublingCost(p: number, bytes: number, link: LinkCost): number {
  if (p <= 1) return 0;
  const rounds = doublingRounds(p);
  return rounds * (link.alpha + bytes * (link.beta + link.gamma));
}

/**
 * Rabenseifner's allreduce (as MPICH's): off a power of two the fold first
 * (each even rank of the first 2*rem sends its whole array to the odd one
 * above, which reduces it, and gets the result back at the end: two
 * messages of the whole array and one reduction), then among the q =
 * 2^floor(log2 p) survivors a reduce-scatter by recursive halving and an
 * allgather by recursive doubling: 2 log2 q steps, (q-1)/q of the array sent
 * each way and (q-1)/q of it reduced.
 */
export function allreduceRabenseifnerCost(p: number, bytes: number, link: LinkCost): number {
  if (p <= 1) return 0;
  const q = 2 ** Math.floor(Math.log2(p));
  const fold = p === q ? 0 : 2 * (link.alpha + bytes * link.beta) + bytes * link.gamma;
  return fold + 2 * Math.log2(q) * link.alpha + (2 * (q - 1) / q) * bytes * link.beta + ((q - 1) / q) * bytes * link.gamma;
}

/**
 * The smallest array, in bytes, from which the model finds the ring cheaper
 * than Rabenseifner's on `p` ranks (Infinity: never). On a power of two the
 * two move the same bytes and Rabenseifner takes 2 log2 p steps to the
 * ring's 2(p-1): never. Off one the fold's two whole-array messages cost
 * Rabenseifner bandwidth the ring does not spend, and beyond some size that
 * outweighs the ring's extra latencies (17 KiB on 7 ranks, 0 on 3, where
 * both take 4 steps).
 */
export function rabenseifnerRingCrossoverBytes(p: number, link: LinkCost): number {
  // A power of two: the same bytes in fewer steps (said outright: the slopes' difference is rounding there).
  if (p <= 1 || (p & (p - 1)) === 0) return Infinity;
  const gap = (n: number): number => allreduceRingCost(p, n, link) - allreduceRabenseifnerCost(p, n, link);
  // Both costs are linear in n: the ring's advantage per byte is their slope's difference.
  const latency = gap(0);
  const perByte = gap(1) - latency;
  if (perByte >= 0) return latency < 0 ? 0 : Infinity;
  return Math.max(0, latency / -perByte);
}

/**
 * The allreduce's algorithm for a typed array of `bytes` on `p` ranks:
 * recursive doubling below the ring's threshold (ringThreshold: measured on
 * 2 to 4 ranks, scaled by the model beyond), above it whichever of
 * Rabenseifner's and the ring the model finds cheaper on shared memory:
 * Rabenseifner on a power of two, the ring off one above the two's
 * crossover. `bytes` is the array's length in bytes, which MPI requires
 * alike on every rank.
 */
export function allreduceAlgorithm(p: number, bytes: number, ringMinBytes: number): AllreduceAlgorithm {
  if (p <= 1 || bytes < ringThreshold(p, ringMinBytes)) return 'doubling';
  return bytes < rabenseifnerRingCrossoverBytes(p, SHARED_MEMORY) ? 'rabenseifner' : 'ring';
}

/** Ring: reduce-scatter then allgather, 2(p-1) steps of 1/p of the array, (p-1)/p of it reduced. */
export function allreduceRingCost(p: number, bytes: number, link: LinkCost): number {
  if (p <= 1) return 0;
  return 2 * (p - 1) * link.alpha + (2 * (p - 1) / p) * bytes * link.beta + ((p - 1) / p) * bytes * link.gamma;
}

/**
 * A two-level broadcast: a binomial tree among `hosts` leaders over `net`,
 * then one within each host of `perHost` ranks. A flat tree of ranks placed
 * by host, rooted at rank 0, costs the same: its first log2(hosts) rounds
 * cross hosts, the rest stay home.
 */
export function bcastTwoLevelCost(hosts: number, perHost: number, bytes: number, net: LinkCost, local: LinkCost): number {
  return bcastBinomialCost(hosts, bytes, net) + bcastBinomialCost(perHost, bytes, local);
}

/** Flat recursive doubling of ranks placed by host: log2(perHost) rounds at home, the rest across. */
export function allreduceDoublingAcrossCost(hosts: number, perHost: number, bytes: number, net: LinkCost, local: LinkCost): number {
  return allreduceRecursiveDoublingCost(perHost, bytes, local) + allreduceRecursiveDoublingCost(hosts, bytes, net);
}

/** Allreduce in two levels: a binomial reduce to each leader, the leaders' best allreduce across, a binomial bcast at home. */
export function allreduceTwoLevelCost(hosts: number, perHost: number, bytes: number, net: LinkCost, local: LinkCost): number {
  const home = log2ceil(perHost) * (local.alpha + bytes * (local.beta + local.gamma)) + bcastBinomialCost(perHost, bytes, local);
  return home + Math.min(allreduceRecursiveDoublingCost(hosts, bytes, net), allreduceRingCost(hosts, bytes, net));
}

/**
 * The smallest array, in bytes, from which the model finds the ring cheaper
 * than recursive doubling on `p` ranks over `link` (Infinity: never), from
 * equating the two costs: RD's r(alpha + n(beta + gamma)) and the ring's
 * 2(p-1)alpha + 2(p-1)/p n beta + (p-1)/p n gamma.
 */
export function ringCrossoverBytes(p: number, link: LinkCost): number {
  if (p <= 1) return Infinity;
  const rounds = doublingRounds(p);
  const perByte = rounds * (link.beta + link.gamma) - (2 * (p - 1) / p) * link.beta - ((p - 1) / p) * link.gamma;
  const latency = (2 * (p - 1) - rounds) * link.alpha;
  if (perByte <= 0) return latency <= 0 ? 0 : Infinity;
  return Math.max(0, latency / perByte);
}

/**
 * The allreduce's ring threshold on `p` ranks: `ringMinBytes` (measured on 2
 * to 4 ranks, MPI4TS_RING_MIN_BYTES) scaled as the model's crossover grows
 * beyond 4 ranks: the ring's 2(p-1) steps each pay a latency, recursive
 * doubling's log2 p rounds each carry the whole array. So 64 KiB on 2-4
 * ranks, 99 KiB on 8, 438 KiB on 64, 4 MiB on 1024. The last answer is
 * kept: calls on one communicator ask for one p.
 */
export function ringThreshold(p: number, ringMinBytes: number): number {
  if (p <= 4) return ringMinBytes;
  if (p !== lastP || ringMinBytes !== lastMin) {
    // Never below the measured floor: off a power of two the fold's two extra steps make doubling dearer, not the ring cheaper.
    lastThreshold = Math.max(ringMinBytes, Math.round(ringMinBytes * (ringCrossoverBytes(p, SHARED_MEMORY) / ringCrossoverBytes(4, SHARED_MEMORY))));
    lastP = p;
    lastMin = ringMinBytes;
  }
  return lastThreshold;
}

/** Pairwise alltoall: p - 1 steps, each one block of `blockBytes` each way. */
export function alltoallPairwiseCost(p: number, blockBytes: number, link: LinkCost): number {
  return p <= 1 ? 0 : (p - 1) * (link.alpha + blockBytes * link.beta);
}

/**
 * Bruck's alltoall: ceil(log2 p) rounds; in round k each rank sends the
 * blocks whose (rotated) index has bit k set, about p/2 of them, so each
 * block travels once per set bit of its index: fewer latencies, more bytes.
 */
export function alltoallBruckCost(p: number, blockBytes: number, link: LinkCost): number {
  let cost = 0;
  for (let bit = 1; bit < p; bit *= 2) cost += link.alpha + bruckBlocks(p, bit) * blockBytes * link.beta;
  return cost;
}

/** How many of the indices 0..p-1 have `bit` set: the blocks of Bruck's round for `bit`. */
export function bruckBlocks(p: number, bit: number): number {
  let count = 0;
  for (let i = 0; i < p; i++) if ((i & bit) !== 0) count++;
  return count;
}

/**
 * What the value alltoall's choice takes a block to be: a value's size is
 * known only to its sender, so no rank can choose by it; values are the
 * small-message path (numbers, small objects; large data goes by
 * alltoallInto, as typed arrays), so the model is asked for a block this big.
 */
export const NOMINAL_VALUE_BLOCK_BYTES = 256;

/**
 * 8: below it the value alltoall keeps pairwise whatever the model says. On
 * the 2-core VM (`node --import tsx bench/algorithms.ts --only alltoall`, a
 * number to each rank, three alternating passes) pairwise won on 4 ranks
 * (122-146 us against 166-188) and Bruck on 8 (408-472 against 528-874):
 * Bruck's rounds carry arrays of values, which cost an encoding that
 * pairwise's bare numbers do not, and the model counts bytes, not that.
 */
export const BRUCK_MIN_RANKS = 8;

/**
 * The value alltoall's algorithm on `p` ranks: Bruck's where the model finds
 * it cheaper for a block of NOMINAL_VALUE_BLOCK_BYTES on shared memory (from
 * 4 ranks: on 2 both take one step, on 3 two) and from BRUCK_MIN_RANKS, else pairwise.
 */
export function alltoallAlgorithm(p: number): AlltoallAlgorithm {
  if (p < BRUCK_MIN_RANKS) return 'pairwise';
  return alltoallBruckCost(p, NOMINAL_VALUE_BLOCK_BYTES, SHARED_MEMORY) < alltoallPairwiseCost(p, NOMINAL_VALUE_BLOCK_BYTES, SHARED_MEMORY) ? 'bruck' : 'pairwise';
}

let lastP = 0;
let lastMin = 0;
let lastThreshold = 0;
