/**
 * Ranks whose collective calls disagree (test/programs/mismatch.ts): the
 * rank that receives the other's message fails with words naming both calls,
 * the call's number and the communicator, and the job ends at once with it
 * instead of hanging, at every size. A point-to-point receive never takes a
 * collective's message, nor a collective's receive a point-to-point one.
 */
import { test } from 'node:test';
import { failsWith, HINT, mismatchTests, others } from './mismatch-cases.js';

// 3, 4 and 7 ranks run in test:probes (test/reliability/mismatch-sizes.probe.ts).
mismatchTests([2]);

test('a named communicator is named in the words', async () => {
  await failsWith(3, ['split', 'named'], others(3).map((r) =>
    `CollectiveMismatchError: reduce: rank ${r} called reduce(SUM, root=0) where rank 0 called bcast(root=0), as collective #2 on the communicator "half"${HINT}`));
});
