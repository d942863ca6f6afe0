// test/reliability/compute.test.ts's 12 s compute phases at 4 and 7 ranks over each transport:
// kept out of npm test for its length, run by test:probes.
import { computeTests, matrix } from './compute-cases.js';

computeTests('jobs of 4 and 7 ranks that compute for 12 s between exchanges finish on every transport', matrix(12, 'wait', [4, 7]));
