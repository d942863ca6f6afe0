/**
 * Rank counts, shared between two passes over the same test files: `npm test` must stay well
 * under ten minutes on 2 cores, and CI must still run every count the bar asks for (1 to 7).
 *
 * - `npm test` runs a multi-rank test at 1 rank and at 3 (odd, not a power of two, more ranks
 *   than cores), or at its smallest count of 2 or more where it has neither; and every test
 *   of the file that takes no count.
 * - `npm run test:probes` runs the files again with MPI4TS_TEST_COUNTS=more: the other counts
 *   (2, 4, 5, 7 ...) and nothing else, as the first pass ran the rest.
 *
 * A file that takes counts from here imports `test` from here too, and is named in
 * package.json's test:probes (test/counts.test.ts checks that).
 */
import { test as nodeTest } from 'node:test';

/** Which pass this is. */
const MORE_COUNTS = process.env.MPI4TS_TEST_COUNTS === 'more';

const FIRST_PASS = new Set([1, 3]);

/** The counts of `all` each pass runs: between them, each count once. */
export function splitCounts(all: readonly number[]): { first: number[]; more: number[] } {
  const first = all.filter((n) => FIRST_PASS.has(n));
  if (!first.some((n) => n >= 2)) {
    const smallest = Math.min(...all.filter((n) => n >= 2));
    if (Number.isFinite(smallest)) first.push(smallest);
  }
  return { first, more: all.filter((n) => !first.includes(n)) };
}

/** The counts of `all` this pass runs. */
export function counts(all: readonly number[]): number[] {
  const { first, more } = splitCounts(all);
  return MORE_COUNTS ? more : first;
}

/** A test that takes a count from `counts()`: registered in both passes. */
export const countedTest: typeof nodeTest = nodeTest;

/** A test that takes no count: the first pass runs it, the second leaves it out (it ran). */
export const test: typeof nodeTest = MORE_COUNTS ? ((() => Promise.resolve()) as unknown as typeof nodeTest) : nodeTest;
