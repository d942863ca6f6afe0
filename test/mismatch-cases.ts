/**
 * The collective mismatch cases (test/programs/mismatch.ts) and their
 * checks, registered at the sizes a caller asks for: npm test runs 2
 * ranks (test/mismatch.test.ts), test:probes 3, 4 and 7
 * (test/reliability/mismatch-sizes.probe.ts): those take about 40 s and
 * check the same words at more sizes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mpirun, program, strays } from './helpers.js';

export const HINT = '; every rank of a communicator must make the same collective calls in the same order';

/** The exact lines (one is enough: which rank sees the other's message first depends on timing) a case may print at `np` ranks. */
const CASES: Record<string, (np: number) => string[]> = {
  // Rank 0 calls bcast then reduce, the others reduce then bcast: only rank 0 is in bcast. On the host's
  // board, whichever of two ranks publishes its entry second sees the other's: either may name it.
  order: (np) => others(np).flatMap((r) => [
    `CollectiveMismatchError: reduce: rank ${r} called reduce(SUM, root=0) where rank 0 called bcast(root=0), as collective #7 on COMM_WORLD${HINT}`,
    `CollectiveMismatchError: bcast: rank 0 called bcast(root=0) where rank ${r} called reduce(SUM, root=0), as collective #7 on COMM_WORLD${HINT}`,
  ]),
  // Rank 0 passes root 0, the others root 1: either side may see the other's.
  roots: (np) => others(np).flatMap((r) => [
    `CollectiveMismatchError: reduce: rank ${r} called reduce(SUM, root=1) where rank 0 called reduce(SUM, root=0), as collective #7 on COMM_WORLD${HINT}`,
    `CollectiveMismatchError: reduce: rank 0 called reduce(SUM, root=0) where rank ${r} called reduce(SUM, root=1), as collective #7 on COMM_WORLD${HINT}`,
  ]),
  // bcast with the last rank taking rank 1 for the root (at 2 ranks both would be roots, which only send: nothing to compare).
  // It waits for its parent in rank 1's tree, and a message from its parent in rank 0's tree proves the calls differ;
  // but that parent may finish first and its goodbye come first, on another connection: the receive then cannot
  // complete, which ends the job as well.
  bcastRoots: (np) => others(np).slice(0, -1).concat(0).flatMap((r) => [
    `CollectiveMismatchError: bcast: rank ${np - 1} called bcast(root=1) where rank ${r} called bcast(root=0), as collective #7 on COMM_WORLD${HINT}`,
    `CollectiveMismatchError: bcast: rank ${r} called bcast(root=0) where rank ${np - 1} called bcast(root=1), as collective #7 on COMM_WORLD${HINT}`,
    `JobError: bcast can never complete: it waits for a message from rank ${r} of the communicator, but that rank has finished its program (finalize)`,
  ]),
  // bcastInto of a Float64Array(10) at the root, Int32Array(10) elsewhere: the same bytes, another type.
  // On the host's board the root also sees an entry published before its own, and may name it first.
  types: (np) => others(np).flatMap((r) => [
    `CollectiveMismatchError: bcastInto: rank ${r} called bcastInto(Int32Array, root=0) where rank 0 called bcastInto(Float64Array, root=0), ` +
    `as collective #7 on COMM_WORLD${HINT}`,
    `CollectiveMismatchError: bcastInto: rank 0 called bcastInto(Float64Array, root=0) where rank ${r} called bcastInto(Int32Array, root=0), ` +
    `as collective #7 on COMM_WORLD${HINT}`,
  ]),
  // allreduceInto of 10 elements on rank 0, 12 elsewhere.
  counts: (np) => others(np).flatMap((r) => [
    `CollectiveMismatchError: allreduceInto: rank ${r} called allreduceInto(Float64Array(12), SUM) where rank 0 called allreduceInto(Float64Array(10), SUM), ` +
    `as collective #7 on COMM_WORLD${HINT}`,
    `CollectiveMismatchError: allreduceInto: rank 0 called allreduceInto(Float64Array(10), SUM) where rank ${r} called allreduceInto(Float64Array(12), SUM), ` +
    `as collective #7 on COMM_WORLD${HINT}`,
  ]),
  // Rank 0's bcast is not for the others' recv from it: they fail once it has finished.
  recvMeetsBcast: () => ['JobError: recv from rank 0 with any tag can never complete: rank 0 has finished its program (finalize), and no message it sent matches'],
  // Nor is rank 0's send for the others' bcast (by messages, or on the host's board).
  bcastMeetsSend: () => ['JobError: bcast can never complete: it waits for a message from rank 0 of the communicator, but that rank has finished its program (finalize)',
    'JobError: bcast can never complete: it waits for rank 0 of the communicator to join it, but that rank has finished its program (finalize)'],
  // The order swapped on a communicator from split (after one allreduce on it).
  split: (np) => others(np).map((r) =>
    `CollectiveMismatchError: reduce: rank ${r} called reduce(SUM, root=0) where rank 0 called bcast(root=0), as collective #2 on a communicator from split${HINT}`),
};

export function others(np: number): number[] {
  return Array.from({ length: np - 1 }, (_, i) => i + 1);
}

/** The ranks that must not go on past the wrong call: all but rank 0, which only sends in some cases (the root of a bcast) and cannot know. */
function stuckRanks(name: string, np: number): number[] {
  // Ranks that agree with the root on it get its data, rightly.
  return name === 'bcastRoots' ? [np - 1] : others(np);
}

export async function failsWith(np: number, args: string[], expected: string[]): Promise<void> {
  const r = await mpirun(np, program('mismatch.ts'), { args, launcher: ['--timeout', '60'] });
  assert.notEqual(r.code, 124, `the job hung until --timeout: ${r.stderr}`);
  assert.equal(r.code, 1, r.stderr);
  // A rank may print the failure as it reached it from the rank that saw the mismatch ("rank 1 failed: ..."),
  // and the job may end before that rank's own line is out: the same words, relayed.
  const lines = r.stderr.split('\n').map((line) => line.replace(/^(\w+Error: \w+: )rank \d+ failed: /, '$1'));
  assert.ok(lines.some((line) => expected.includes(line)), `none of\n${expected.join('\n')}\nin\n${r.stderr}`);
  assert.match(r.stderr, /^mpi4ts: rank \d+ \(localhost, pid \d+\) exited with code 1; stopping the job$/m);
  for (const rank of stuckRanks(args[0]!, np)) assert.doesNotMatch(r.stdout, new RegExp(`^rank ${rank}: done$`, 'm'), `rank ${rank} went on past the wrong call`);
  assert.deepEqual(await strays(r.marker), []);
}

/** One test per size, each running every case at that size, two at a time. */
export function mismatchTests(sizes: readonly number[]): void {
  for (const np of sizes) {
    test(`collective calls that disagree end the job at once with both calls named, ${np} ranks`, { concurrency: 2 }, async (t) => {
      const cases = Object.entries(CASES).filter(([name]) => np > 2 || name !== 'bcastRoots');
      await Promise.all(cases.map(([name, expected]) => t.test(name, () => failsWith(np, [name], expected(np)))));
    });
  }
}
