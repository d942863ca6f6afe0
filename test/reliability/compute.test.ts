// Compute phases of 12 s (longer than the 10 s an unproven connection may take) on 2 ranks over
// each transport, all at once (their ranks block in Atomics.wait: no core taken), and one job
// whose 2 ranks really compute. test:probes runs 4 and 7 ranks (compute-counts.probe.ts);
// `npm run test:long` runs 30 and 60 s phases.
import { computeTests, matrix } from './compute-cases.js';

computeTests('jobs that compute for 12 s between exchanges finish on every transport', [
  ...matrix(12, 'wait', [2]),
  ...matrix(12, 'busy', [2], ['shared memory']),
]);
