// MPI_APPNUM as the bootstraps read it where a launcher gives it (the rest is in real jobs: test/launcher/mpmd.test.ts, test/interop/hydra.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appnumOf } from '../../src/runtime/pmi2.js';
import { launcherEnvironment } from '../../src/runtime/launcher-bootstrap.js';

const launched = { MPI4TS_CONTROL: '127.0.0.1:1', MPI4TS_RANK: '0', MPI4TS_SIZE: '2', MPI4TS_JOB_KEY: 'ab'.repeat(32) };

test('PMI-2 fullinit: appnum as given; missing, empty or -1 (Slurm) is 0', () => {
  assert.equal(appnumOf({ cmd: 'fullinit-response', appnum: '2' }), 2);
  assert.equal(appnumOf({ cmd: 'fullinit-response', appnum: '-1' }), 0);
  assert.equal(appnumOf({ cmd: 'fullinit-response', appnum: '' }), 0);
  assert.equal(appnumOf({ cmd: 'fullinit-response' }), 0);
});

test('mpi4ts run: MPI4TS_APPNUM, 0 when an older launcher did not set it, an error naming it when malformed', () => {
  assert.equal(launcherEnvironment({ ...launched, MPI4TS_APPNUM: '3' })?.appnum, 3);
  assert.equal(launcherEnvironment({ ...launched })?.appnum, 0);
  assert.throws(() => launcherEnvironment({ ...launched, MPI4TS_APPNUM: 'x' }), /MPI4TS_APPNUM="x" must be an integer from 0 to 100000/);
});
