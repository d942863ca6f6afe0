import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readOptions } from '../../src/base/index.js';

test('the defaults: eager up to 65 KiB, sockets read by the spin, a 200 us spin on an oversubscribed host', () => {
  const options = readOptions({});
  assert.equal(options.eagerLimit, 66560);
  assert.equal(options.socketPoll, true);
  assert.equal(options.oversubscribedPollMicros, 200);
  assert.equal(readOptions({ MPI4TS_SOCKET_POLL: '0' }).socketPoll, false);
  assert.equal(readOptions({ MPI4TS_OVERSUB_POLL_US: '1000' }).oversubscribedPollMicros, 1000);
});

test('bad MPI4TS_SOCKET_POLL and MPI4TS_OVERSUB_POLL_US values name the variable, the value and the range', () => {
  assert.throws(() => readOptions({ MPI4TS_SOCKET_POLL: '2' }), { name: 'JobError', message: 'MPI4TS_SOCKET_POLL="2" must be 0 (off) or 1 (on, the default)' });
  assert.throws(() => readOptions({ MPI4TS_OVERSUB_POLL_US: '-5' }),
    { name: 'JobError', message: 'MPI4TS_OVERSUB_POLL_US="-5" must be an integer from 0 to 60000000' });
  assert.throws(() => readOptions({ MPI4TS_OVERSUB_POLL_US: 'soon' }), /MPI4TS_OVERSUB_POLL_US="soon" must be an integer/);
});

test('every tunable is read through readOptions, with its default when unset or empty', () => {
  const defaults = readOptions({});
  assert.deepEqual({ ...readOptions({ MPI4TS_RING_MIN_BYTES: '', MPI4TS_PMI: '', MPI4TS_TRANSPORT: '' }) }, { ...defaults });
  assert.equal(defaults.ringMinBytes, 64 * 1024);
  assert.equal(defaults.plainCodec, true);
  assert.equal(defaults.pmi, null);
  assert.equal(defaults.pmixLib, null);
  assert.equal(defaults.rendezvousTimeoutMs, 60_000);
  assert.equal(defaults.spawnTimeoutMs, 120_000);
  const set = readOptions({ MPI4TS_RING_MIN_BYTES: '0', MPI4TS_PLAIN_CODEC: '0', MPI4TS_PMI: '2', MPI4TS_PMIX_LIB: '/opt/libpmix.so',
    MPI4TS_HOST_ADDRESS: '10.0.0.7', MPI4TS_RENDEZVOUS_TIMEOUT: '1.5', MPI4TS_TRANSPORT: 'tcp' });
  assert.deepEqual([set.ringMinBytes, set.plainCodec, set.pmi, set.pmixLib, set.hostAddress, set.rendezvousTimeoutMs, set.forceTcp, set.useShm],
    [0, false, 2, '/opt/libpmix.so', '10.0.0.7', 1500, true, false]);
});

test('bad values of every kind are one error class (JobError) naming the variable, the value and what is allowed', () => {
  const cases: [Record<string, string>, string][] = [
    [{ MPI4TS_RING_MIN_BYTES: '-1' }, `MPI4TS_RING_MIN_BYTES="-1" must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}`],
    [{ MPI4TS_PLAIN_CODEC: 'yes' }, 'MPI4TS_PLAIN_CODEC="yes" must be 0 (off) or 1 (on, the default)'],
    [{ MPI4TS_PMI: '3' }, 'MPI4TS_PMI="3" must be 1 (PMI-1, MPICH Hydra) or 2 (PMI-2, srun --mpi=pmi2)'],
    [{ MPI4TS_TRANSPORT: 'shm-only' }, 'MPI4TS_TRANSPORT="shm-only" must be "auto", "unix" (sockets, no shared memory) or "tcp"'],
    [{ MPI4TS_RENDEZVOUS_TIMEOUT: '0' }, 'MPI4TS_RENDEZVOUS_TIMEOUT="0" must be a positive number of seconds'],
    [{ MPI4TS_SHM_RING_KB: '48' }, 'MPI4TS_SHM_RING_KB="48" must be a power of two from 4 to 1048576'],
    [{ MPI4TS_PORT_RANGE: '9-3' }, 'MPI4TS_PORT_RANGE "9-3" must be LO-HI with 1 <= LO <= HI <= 65535'],
  ];
  for (const [env, message] of cases) assert.throws(() => readOptions(env), { name: 'JobError', message });
});

test('options() reads process.env once and keeps what it read', async () => {
  const { options } = await import('../../src/base/index.js');
  assert.equal(options(), options());
});

test('hang reports and deadlocks: the defaults, set values and bad ones', () => {
  const defaults = readOptions({});
  assert.deepEqual([defaults.debugCalls, defaults.deadlockCheck, defaults.hangReportSeconds, defaults.pendingGraceMs], [false, true, null, 1500]);
  const set = readOptions({ MPI4TS_DEBUG_CALLS: '1', MPI4TS_DEADLOCK_CHECK: '0', MPI4TS_HANG_REPORT: '2.5', MPI4TS_PENDING_GRACE_MS: '0' });
  assert.deepEqual([set.debugCalls, set.deadlockCheck, set.hangReportSeconds, set.pendingGraceMs], [true, false, 2.5, 0]);
  const cases: [Record<string, string>, string][] = [
    [{ MPI4TS_DEBUG_CALLS: 'on' }, 'MPI4TS_DEBUG_CALLS="on" must be 0 (off, the default) or 1 (on)'],
    [{ MPI4TS_DEADLOCK_CHECK: '2' }, 'MPI4TS_DEADLOCK_CHECK="2" must be 0 (off) or 1 (on, the default)'],
    [{ MPI4TS_HANG_REPORT: 'abc' }, 'MPI4TS_HANG_REPORT="abc" must be a positive number of seconds'],
    [{ MPI4TS_SPAWN_TIMEOUT: '-2' }, 'MPI4TS_SPAWN_TIMEOUT="-2" must be a positive number of seconds'],
    [{ MPI4TS_PENDING_GRACE_MS: '-1' }, 'MPI4TS_PENDING_GRACE_MS="-1" must be an integer from 0 to 3600000'],
  ];
  for (const [env, message] of cases) assert.throws(() => readOptions(env), { name: 'JobError', message });
});

test('cross-memory attach, the timeline, the profile and the pool: the defaults, set values and bad ones', () => {
  const defaults = readOptions({});
  assert.deepEqual([defaults.cma, defaults.cmaMinBytes, defaults.cmaMaxBytes, defaults.cmaSplitMinBytes, defaults.trace, defaults.profile, defaults.traceMaxEvents],
    [true, 8192, 2097152, 1048576, false, false, 100000]);
  const set = readOptions({ MPI4TS_CMA: '0', MPI4TS_CMA_MIN_BYTES: '0', MPI4TS_CMA_MAX_BYTES: '65536', MPI4TS_CMA_SPLIT_MIN_BYTES: '0', MPI4TS_TRACE: '1', MPI4TS_PROFILE: '1', MPI4TS_TRACE_MAX_EVENTS: '1000' });
  assert.deepEqual([set.cma, set.cmaMinBytes, set.cmaMaxBytes, set.cmaSplitMinBytes, set.trace, set.profile, set.traceMaxEvents], [false, 0, 65536, 0, true, true, 1000]);
  const cases: [Record<string, string>, string][] = [
    [{ MPI4TS_CMA: '2' }, 'MPI4TS_CMA="2" must be 0 (off) or 1 (on, the default)'],
    [{ MPI4TS_CMA_MIN_BYTES: '-1' }, 'MPI4TS_CMA_MIN_BYTES="-1" must be an integer from 0 to 9007199254740991'],
    [{ MPI4TS_CMA_MAX_BYTES: 'x' }, 'MPI4TS_CMA_MAX_BYTES="x" must be an integer from 0 to 9007199254740991'],
    [{ MPI4TS_CMA_SPLIT_MIN_BYTES: '1.5' }, 'MPI4TS_CMA_SPLIT_MIN_BYTES="1.5" must be an integer from 0 to 9007199254740991'],
    [{ MPI4TS_TRACE: '2' }, 'MPI4TS_TRACE="2" must be 0 (off, the default) or 1 (on)'],
    [{ MPI4TS_PROFILE: 'yes' }, 'MPI4TS_PROFILE="yes" must be 0 (off, the default) or 1 (on)'],
    [{ MPI4TS_TRACE_MAX_EVENTS: '10' }, 'MPI4TS_TRACE_MAX_EVENTS="10" must be an integer from 1000 to 100000000'],
    [{ MPI4TS_POOL: 'yes' }, 'MPI4TS_POOL="yes" must be 0 (off, the default) or 1 (on)'],
  ];
  assert.equal(defaults.pool, false);
  assert.equal(readOptions({ MPI4TS_POOL: '1' }).pool, true);
  for (const [env, message] of cases) assert.throws(() => readOptions(env), { name: 'JobError', message });
});

test('MPI4TS_HOST_COLL: on by default, 0 sends the collectives by messages, a bad value says what is allowed', () => {
  assert.equal(readOptions({}).hostCollectives, true);
  assert.equal(readOptions({ MPI4TS_HOST_COLL: '0' }).hostCollectives, false);
  assert.throws(() => readOptions({ MPI4TS_HOST_COLL: 'off' }), { name: 'JobError', message: 'MPI4TS_HOST_COLL="off" must be 0 (off) or 1 (on, the default)' });
});

test('MPI4TS_TWO_LEVEL: on by default, 0 turns the two-level collectives off, a bad value says what is allowed', () => {
  assert.equal(readOptions({}).twoLevel, true);
  assert.equal(readOptions({ MPI4TS_TWO_LEVEL: '0' }).twoLevel, false);
  assert.throws(() => readOptions({ MPI4TS_TWO_LEVEL: 'no' }), { name: 'JobError', message: 'MPI4TS_TWO_LEVEL="no" must be 0 (off) or 1 (on, the default)' });
});

test('MPI4TS_ALGO_*: "auto" by default, each algorithm can be forced, a bad value names them all', () => {
  const defaults = readOptions({});
  assert.deepEqual([defaults.allreduceAlgorithm, defaults.bcastAlgorithm, defaults.alltoallAlgorithm], ['auto', 'auto', 'auto']);
  for (const algorithm of ['doubling', 'rabenseifner', 'ring'] as const) {
    assert.equal(readOptions({ MPI4TS_ALGO_ALLREDUCE: algorithm }).allreduceAlgorithm, algorithm);
  }
  assert.equal(readOptions({ MPI4TS_ALGO_BCAST: 'scatter-allgather' }).bcastAlgorithm, 'scatter-allgather');
  assert.equal(readOptions({ MPI4TS_ALGO_BCAST: 'binomial' }).bcastAlgorithm, 'binomial');
  assert.equal(readOptions({ MPI4TS_ALGO_ALLTOALL: 'bruck' }).alltoallAlgorithm, 'bruck');
  assert.equal(readOptions({ MPI4TS_ALGO_ALLTOALL: 'pairwise' }).alltoallAlgorithm, 'pairwise');
  const cases: [NodeJS.ProcessEnv, string][] = [
    [{ MPI4TS_ALGO_ALLREDUCE: 'rabenseifer' }, 'MPI4TS_ALGO_ALLREDUCE="rabenseifer" must be "auto" (by size and rank count, the default), "doubling", "rabenseifner" or "ring"'],
    [{ MPI4TS_ALGO_BCAST: 'scatter' }, 'MPI4TS_ALGO_BCAST="scatter" must be "auto" (by size and rank count, the default), "binomial" or "scatter-allgather"'],
    [{ MPI4TS_ALGO_ALLTOALL: 'Bruck' }, 'MPI4TS_ALGO_ALLTOALL="Bruck" must be "auto" (by rank count, the default), "pairwise" or "bruck"'],
  ];
  for (const [env, message] of cases) assert.throws(() => readOptions(env), { name: 'JobError', message });
});
