// `npm run test:long`: compute phases of 30 and 60 s between collectives and point-to-point
// exchanges, on 2, 4 and 7 ranks over every transport, blocked and busy.
import { computeTests, matrix } from '../reliability/compute-cases.js';

computeTests('jobs that compute for 30 s between exchanges finish on every transport', matrix(30, 'wait', [2, 4, 7]));
computeTests('jobs that compute for 60 s between exchanges finish on every transport', matrix(60, 'wait', [2, 4, 7]));
computeTests('jobs whose ranks really compute for 30 s between exchanges finish', matrix(30, 'busy', [2, 4], ['shared memory', 'tcp']));
