// The collectives at scale, on paper (issue 19, item 5; DESIGN.md "The
// collectives at scale"): Hockney's alpha-beta-gamma form of LogGP, a message
// of n bytes costing alpha + n * beta on a link and a reduction gamma per
// byte, with this project's measurements on its 2-core VM for shared memory
// and the nominal figures of Gigabit Ethernet between hosts (the clusters the
// tutorial builds). It prints what each algorithm mpi4ts has (and the ones it
// lacks) would cost at 64, 256 and 1024 ranks over 16 and 64 hosts, ranks
// placed by host, and where the choice switches.
//   node --import tsx bench/model.ts

import {
  GIGABIT_ETHERNET, OVERSUBSCRIBED, SHARED_MEMORY, allreduceDoublingAcrossCost, allreduceRabenseifnerCost, allreduceRecursiveDoublingCost,
  allreduceRingCost, allreduceTwoLevelCost, alltoallAlgorithm, bcastBinomialCost, bcastScatterAllgatherCost, bcastScatterCrossoverBytes,
  bcastTwoLevelCost, rabenseifnerRingCrossoverBytes, ringThreshold,
} from '../src/coll/model.js';

const show = (us: number): string => (us >= 1e6 ? `${(us / 1e6).toFixed(2)} s` : us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(0)} us`);

function crossover(f: (n: number) => number, g: (n: number) => number): number | null {
  // The smallest power-of-two size from 8 B to 1 GiB at which g becomes cheaper than f.
  for (let n = 8; n <= 2 ** 30; n *= 2) if (g(n) < f(n)) return n;
  return null;
}

const sizeWords = (n: number | null): string => (n === null ? 'never (up to 1 GiB)' : n >= 1 << 20 ? `${n / (1 << 20)} MiB` : n >= 1024 ? `${n / 1024} KiB` : `${n} B`);

{
  const net = GIGABIT_ETHERNET;
  const local = SHARED_MEMORY;
  console.log(`links: ${[SHARED_MEMORY, OVERSUBSCRIBED, GIGABIT_ETHERNET].map((l) => `${l.name} alpha ${l.alpha} us, ${(1 / l.beta).toFixed(0)} B/us`).join('; ')}`);
  console.log('');
  console.log('| ranks over hosts | size | bcast: flat, by host | flat, round robin | two levels | scatter+allgather across | allreduce: doubling, by host | ring | Rabenseifner | two levels |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const [p, hosts] of [[64, 16], [256, 16], [256, 64], [1024, 64]] as const) {
    const perHost = p / hosts;
    for (const n of [8, 64 * 1024, 1 << 20]) {
      console.log(`| ${p} over ${hosts} | ${sizeWords(n)} | ${show(bcastTwoLevelCost(hosts, perHost, n, net, local))} | ${show(bcastBinomialCost(p, n, net))} | ` +
        `${show(bcastTwoLevelCost(hosts, perHost, n, net, local))} | ${show(bcastScatterAllgatherCost(p, n, net))} | ` +
        `${show(allreduceDoublingAcrossCost(hosts, perHost, n, net, local))} | ${show(allreduceRingCost(p, n, net))} | ${show(allreduceRabenseifnerCost(p, n, net))} | ${show(allreduceTwoLevelCost(hosts, perHost, n, net, local))} |`);
    }
  }
  console.log('');
  for (const p of [2, 4, 8, 64, 1024]) {
    console.log(`p = ${p}: ring allreduce beats doubling on shared memory from ${sizeWords(crossover((n) => allreduceRecursiveDoublingCost(p, n, local), (n) => allreduceRingCost(p, n, local)))}, ` +
      `across Gigabit Ethernet from ${sizeWords(crossover((n) => allreduceRecursiveDoublingCost(p, n, net), (n) => allreduceRingCost(p, n, net)))}; ` +
      `scatter+allgather bcast beats the binomial tree on shared memory from ${sizeWords(crossover((n) => bcastBinomialCost(p, n, local), (n) => bcastScatterAllgatherCost(p, n, local)))}, ` +
      `oversubscribed from ${sizeWords(crossover((n) => bcastBinomialCost(p, n, OVERSUBSCRIBED), (n) => bcastScatterAllgatherCost(p, n, OVERSUBSCRIBED)))}, ` +
      `across the network from ${sizeWords(crossover((n) => bcastBinomialCost(p, n, net), (n) => bcastScatterAllgatherCost(p, n, net)))}; ` +
      `mpi4ts leaves doubling from ${sizeWords(ringThreshold(p, 64 * 1024))}`);
  }
  console.log('');
  for (const p of [2, 3, 4, 7, 8, 12, 64, 100, 200, 1000, 1024]) {
    const rabenseifner = rabenseifnerRingCrossoverBytes(p, local);
    console.log(`p = ${p}: Rabenseifner beats doubling on shared memory from ${sizeWords(crossover((n) => allreduceRecursiveDoublingCost(p, n, local), (n) => allreduceRabenseifnerCost(p, n, local)))}; ` +
      `the ring beats Rabenseifner ${rabenseifner === Infinity ? 'never' : `from ${(rabenseifner / 1024).toFixed(1)} KiB`}; ` +
      `mpi4ts: doubling below ${(ringThreshold(p, 64 * 1024) / 1024).toFixed(0)} KiB, then ` +
      `${rabenseifner === Infinity ? 'Rabenseifner' : rabenseifner <= ringThreshold(p, 64 * 1024) ? 'the ring' : `Rabenseifner, the ring from ${(rabenseifner / 1024).toFixed(0)} KiB`}; ` +
      `bcastInto scatter+allgather from ${bcastScatterCrossoverBytes(p, local) === Infinity ? 'never' : `${(bcastScatterCrossoverBytes(p, local) / 1024).toFixed(0)} KiB`}; ` +
      `alltoall of values ${alltoallAlgorithm(p)}`);
  }
}
