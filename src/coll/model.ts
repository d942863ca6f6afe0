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
 * # Unfinished features
 * - The figures are constants: nothing measures the network a job runs on.
 * - The scatter-allgather broadcast the model prefers for large messages
 *   on many ranks is not there yet (its choice must not depend on a size
 *   the ranks might disagree on).
 */

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
 * Van de Geijn's broadcast: the root sends each rank its 1/p of the message
 * (p - 1 messages, one after another at the root), then a ring allgather of
 * the parts (p - 1 steps of 1/p each).
 */
export function bcastScatterAllgatherCost(p: number, bytes: number, link: LinkCost): number {
  if (p <= 1) return 0;
  return 2 * (p - 1) * link.alpha + (2 * (p - 1) / p) * bytes * link.beta;
}

/** Recursive doubling: log2 p exchanges of the whole array, each reduced (the fold adds two steps off a power of two). */
export function allreduceRecursiveDoublingCost(p: number, bytes: number, link: LinkCost): number {
  if (p <= 1) return 0;
  const rounds = doublingRounds(p);
  return rounds * (link.alpha + bytes * (link.beta + link.gamma));
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

let lastP = 0;
let lastMin = 0;
let lastThreshold = 0;
