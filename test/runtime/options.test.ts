import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readOptions } from '../../src/runtime/options.js';

test('the defaults: eager up to 65 KiB, sockets read by the spin, no spinning on an oversubscribed host', () => {
  const options = readOptions({});
  assert.equal(options.eagerLimit, 66560);
  assert.equal(options.socketPoll, true);
  assert.equal(options.oversubscribedPollMicros, 0);
  assert.equal(readOptions({ MPI4TS_SOCKET_POLL: '0' }).socketPoll, false);
  assert.equal(readOptions({ MPI4TS_OVERSUB_POLL_US: '1000' }).oversubscribedPollMicros, 1000);
});

test('bad MPI4TS_SOCKET_POLL and MPI4TS_OVERSUB_POLL_US values name the variable, the value and the range', () => {
  assert.throws(() => readOptions({ MPI4TS_SOCKET_POLL: '2' }), { name: 'JobError', message: 'MPI4TS_SOCKET_POLL="2" must be an integer from 0 to 1' });
  assert.throws(() => readOptions({ MPI4TS_OVERSUB_POLL_US: '-5' }),
    { name: 'JobError', message: 'MPI4TS_OVERSUB_POLL_US="-5" must be an integer from 0 to 60000000' });
  assert.throws(() => readOptions({ MPI4TS_OVERSUB_POLL_US: 'soon' }), /MPI4TS_OVERSUB_POLL_US="soon" must be an integer/);
});
