/**
 * The collective mismatch cases of test/mismatch.test.ts at 3, 4 and 7 ranks:
 * kept out of npm test for its length, run by test:probes.
 */
import { mismatchTests } from '../mismatch-cases.js';

mismatchTests([3, 4, 7]);
