/**
 * The benchmark catalogue: every test `mpi4ts bench` knows, with the OSU
 * title it prints, what it measures, and the OSU defaults it follows
 * (OSU Micro-Benchmarks osu_util.h: small/large message split at 8 KiB,
 * latency 10000/1000 iterations with 100/10 warm-up, bandwidth 100/20
 * windows with 10/2 warm-up, collectives 1000/100 with 200/10).
 */

export type TestName =
  | 'latency' | 'bw' | 'bibw' | 'multi-lat'
  | 'bcast' | 'reduce' | 'allreduce' | 'allgather' | 'alltoall' | 'alltoallv' | 'barrier' | 'gather' | 'scatter';

export type Family = 'latency' | 'bandwidth' | 'collective';

export interface TestInfo {
  name: TestName;
  /** The name of OSU's program for this test (osu_latency, osu_multi_lat...), which `mpi4ts bench` also takes. */
  osu: string;
  family: Family;
  /** As OSU prints it after "# ". */
  title: string;
  /** Unit of the figure reported per size. */
  unit: 'us' | 'MB/s';
  /** Smallest and largest size by default, in bytes. */
  minSize: number;
  maxSize: number;
  /** Ranks this test needs: exactly 2, an even number, or any number >= 1. */
  ranks: 'two' | 'even' | 'any';
  /** Bytes per element for reductions (OSU reduces floats), else 1. */
  elementBytes: number;
  /** Barrier has no message size. */
  sized: boolean;
  /** Buffer collectives (alltoallv) have no object form: they always run on the typed path. */
  typedOnly?: boolean;
}

/** Messages larger than this use the "large" iteration counts (OSU LARGE_MESSAGE_SIZE). */
export const LARGE_MESSAGE_SIZE = 8192;
const MAX_P2P = 4 * 1024 * 1024;
const MAX_COLL = 1024 * 1024;

function collective(name: TestName, title: string, minSize = 1, elementBytes = 1): TestInfo {
  return { name, osu: `osu_${name}`, family: 'collective', title, unit: 'us', minSize, maxSize: MAX_COLL, ranks: 'any', elementBytes, sized: true };
}

export const TESTS: readonly TestInfo[] = [
  { name: 'latency', osu: 'osu_latency', family: 'latency', title: 'OSU MPI Latency Test', unit: 'us', minSize: 0, maxSize: MAX_P2P, ranks: 'two', elementBytes: 1, sized: true },
  { name: 'bw', osu: 'osu_bw', family: 'bandwidth', title: 'OSU MPI Bandwidth Test', unit: 'MB/s', minSize: 1, maxSize: MAX_P2P, ranks: 'two', elementBytes: 1, sized: true },
  { name: 'bibw', osu: 'osu_bibw', family: 'bandwidth', title: 'OSU MPI Bi-Directional Bandwidth Test', unit: 'MB/s', minSize: 1, maxSize: MAX_P2P, ranks: 'two', elementBytes: 1, sized: true },
  { name: 'multi-lat', osu: 'osu_multi_lat', family: 'latency', title: 'OSU MPI Multi Latency Test', unit: 'us', minSize: 0, maxSize: MAX_P2P, ranks: 'even', elementBytes: 1, sized: true },
  collective('bcast', 'OSU MPI Broadcast Latency Test'),
  collective('reduce', 'OSU MPI Reduce Latency Test', 4, 4),
  collective('allreduce', 'OSU MPI Allreduce Latency Test', 4, 4),
  collective('allgather', 'OSU MPI Allgather Latency Test'),
  collective('alltoall', 'OSU MPI All-to-All Personalized Exchange Latency Test'),
  { ...collective('alltoallv', 'OSU MPI All-to-Allv Personalized Exchange Latency Test'), typedOnly: true },
  { ...collective('barrier', 'OSU MPI Barrier Latency Test'), sized: false, minSize: 0, maxSize: 0 },
  collective('gather', 'OSU MPI Gather Latency Test'),
  collective('scatter', 'OSU MPI Scatter Latency Test'),
];

/** The test of either spelling: ours (`bw`, `multi-lat`) or OSU's program name (`osu_bw`, `osu_multi_lat`). */
export function testInfo(name: string): TestInfo | undefined {
  return TESTS.find((t) => t.name === name || t.osu === name);
}

/** Every test by both spellings, for messages: "latency, bw, ..., or by OSU's names osu_latency, osu_bw, ...". */
export function testNames(): string {
  return `${TESTS.map((t) => t.name).join(', ')}, or by OSU's names ${TESTS.map((t) => t.osu).join(', ')}`;
}

export interface LoopCounts {
  iterations: number;
  warmup: number;
}

const DEFAULT_LOOPS: Record<Family, { small: LoopCounts; large: LoopCounts }> = {
  latency: { small: { iterations: 10_000, warmup: 100 }, large: { iterations: 1000, warmup: 10 } },
  bandwidth: { small: { iterations: 100, warmup: 10 }, large: { iterations: 20, warmup: 2 } },
  collective: { small: { iterations: 1000, warmup: 200 }, large: { iterations: 100, warmup: 10 } },
};

/** Iterations and warm-up for one size: the user's -i/-x when given, else OSU's defaults for the size. */
export function loopCounts(family: Family, size: number, iterations: number | null, warmup: number | null): LoopCounts {
  const defaults = DEFAULT_LOOPS[family][size > LARGE_MESSAGE_SIZE ? 'large' : 'small'];
  return { iterations: iterations ?? defaults.iterations, warmup: warmup ?? defaults.warmup };
}

/** OSU's size sequence: min, then doubling (0 is followed by 1), up to max. */
export function messageSizes(min: number, max: number): number[] {
  const sizes: number[] = [];
  for (let size = min; size <= max; size = size === 0 ? 1 : size * 2) sizes.push(size);
  return sizes;
}
