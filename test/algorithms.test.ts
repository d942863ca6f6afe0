// The collective algorithms chosen by size and rank count through the real
// launcher (test/programs/algorithms.ts), oversubscribed on the 2-core
// machine: on 4 ranks by the choice (Rabenseifner, the tree, pairwise);
// on 2, 3 and 7 with MPI4TS_ALGO_* forcing what the choice does not take
// there (Rabenseifner with the fold, the scatter + allgather, which this
// machine keeps for 16 MiB and more, Bruck on 2 and 3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mpirun, passes, program } from './helpers.js';

const CHECKS = ['allreduce', 'bcastInto', 'alltoall'];
const NEW = { MPI4TS_ALGO_ALLREDUCE: 'rabenseifner', MPI4TS_ALGO_BCAST: 'scatter-allgather', MPI4TS_ALGO_ALLTOALL: 'bruck' };

for (const [np, env, what] of [
  [2, NEW, 'forced to the new algorithms'],
  [3, NEW, 'forced to the new algorithms'],
  [4, {}, 'as the model chooses'],
  [7, NEW, 'forced to the new algorithms'],
] as const) {
  test(`collectives by algorithm on ${np} ranks, ${what}`, async () => {
    await passes(np, program('algorithms.ts'), CHECKS, { env });
  });
}

test('a bad MPI4TS_ALGO_* value stops the job, naming the variable and what is allowed', async () => {
  const r = await mpirun(2, program('algorithms.ts'), { env: { MPI4TS_ALGO_BCAST: 'tree' } });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /MPI4TS_ALGO_BCAST="tree" must be "auto" \(by size and rank count, the default\), "binomial" or "scatter-allgather"/);
});
