// The public error classes: which instanceof answers each gives (within one
// copy of mpi4ts, across two installed copies, and for a user's subclass),
// their stable codes and names, and that errorClass and cause survive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import * as errors from '../src/base/errors.js';
import * as limits from '../src/codec/limits.js';
import { CollectiveMismatchError, ErrorClass, ErrorCode, JobError, MPIError, ProtocolError, TaskError, TruncationError, UsageError, WorkerLostError } from '../src/base/index.js';
import { MessageTooLargeError } from '../src/codec/limits.js';

// A second evaluation of each module stands for a second installed copy of
// mpi4ts (two packages in one node_modules tree): its classes are other
// objects, so only the Symbol.for brands can join the two.
const secondErrors = (await import('../src/base/errors.ts?copy=2')) as typeof errors;
const secondLimits = (await import('../src/codec/limits.ts?copy=2')) as typeof limits;

const CLASS_NAMES = ['MPIError', 'TruncationError', 'JobError', 'ProtocolError', 'CollectiveMismatchError', 'UsageError', 'MessageTooLargeError',
  'PoolError', 'WorkerLostError', 'TaskError'] as const;
type ClassName = (typeof CLASS_NAMES)[number];
type Copy = Pick<typeof errors, Exclude<ClassName, 'MessageTooLargeError'>> & Pick<typeof limits, 'MessageTooLargeError'>;

const first: Copy = { ...errors, MessageTooLargeError: limits.MessageTooLargeError };
const second: Copy = { ...secondErrors, MessageTooLargeError: secondLimits.MessageTooLargeError };

/** The classes (of ours) an instance of each class belongs to: itself and its ancestors, never a sibling or a descendant. */
const IS_A: Record<ClassName, readonly ClassName[]> = {
  MPIError: ['MPIError'],
  TruncationError: ['TruncationError', 'MPIError'],
  JobError: ['JobError', 'MPIError'],
  ProtocolError: ['ProtocolError', 'MPIError'],
  CollectiveMismatchError: ['CollectiveMismatchError', 'MPIError'],
  UsageError: ['UsageError'],
  MessageTooLargeError: ['MessageTooLargeError'],
  PoolError: ['PoolError', 'MPIError'],
  WorkerLostError: ['WorkerLostError', 'PoolError', 'MPIError'],
  TaskError: ['TaskError', 'MPIError'],
};

const WORKER = { rank: 2, host: 'node1', pid: 1234 };

function make(copy: Copy, name: ClassName): Error {
  switch (name) {
    case 'MPIError': return new copy.MPIError('ERR_RANK', 'dest 9 is out of range for a communicator of size 4 (0..3, or PROC_NULL)');
    case 'TruncationError': return new copy.TruncationError('recvInto: a message of 16 bytes for a buffer of 8');
    case 'JobError': return new copy.JobError('rank 2 is gone');
    case 'ProtocolError': return new copy.ProtocolError('bad frame: unknown kind 99');
    case 'CollectiveMismatchError':
      return new copy.CollectiveMismatchError('rank 1 called reduce(SUM, root=0) where rank 0 called bcast(root=0), as collective #7 on COMM_WORLD');
    case 'UsageError': return new copy.UsageError('-n 0: must be at least 1');
    case 'MessageTooLargeError': return new copy.MessageTooLargeError(5 * 2 ** 30, true);
    case 'PoolError': return new copy.PoolError('PoolExecutor.submit: the pool is shut down; no task can be submitted');
    case 'WorkerLostError':
      return new copy.WorkerLostError('PoolExecutor: task "f" was running on pool worker rank 2 (node1, pid 1234) was killed by signal SIGKILL', WORKER);
    case 'TaskError': return new copy.TaskError({ name: 'RangeError', message: 'boom', stack: 'RangeError: boom\n    at f (tasks.ts:1:1)' }, 'f', WORKER);
  }
}

const aOrAn = (name: string): string => `${name.startsWith('MPI') ? 'an' : 'a'} ${name}`;

const PAIRINGS: readonly [string, Copy, Copy][] = [
  ['one copy', first, first],
  ['an instance of a second copy, a class of the first', second, first],
  ['an instance of the first copy, a class of a second', first, second],
];

for (const [pairing, made, asked] of PAIRINGS) {
  for (const instanceName of CLASS_NAMES) {
    test(`instanceof, ${pairing}: ${aOrAn(instanceName)} is exactly ${IS_A[instanceName].map(aOrAn).join(' and ')}`, () => {
      const err = make(made, instanceName);
      for (const className of CLASS_NAMES) {
        assert.equal(err instanceof asked[className], IS_A[instanceName].includes(className), `${instanceName} instanceof ${className}`);
      }
      assert.equal(err instanceof Error, true);
      assert.equal(err instanceof RangeError, instanceName === 'MessageTooLargeError', `${instanceName} instanceof RangeError`);
    });
  }
}

test('the second copy is a real second copy: without the brands its instances would fail instanceof', () => {
  for (const name of CLASS_NAMES) {
    assert.notEqual(second[name], first[name]);
    assert.equal(Object.prototype.isPrototypeOf.call(first[name].prototype, make(second, name)), false, name);
  }
});

test('instanceof is false for values that are no instance: other errors, look-alikes, primitives', () => {
  const lookAlike = Object.assign(new Error('rank 2 is gone'), { name: 'JobError', code: ErrorCode.JOB, errorClass: 'ERR_OTHER' });
  const values: unknown[] = [null, undefined, 0, ErrorCode.JOB, {}, [], () => null, new Error('x'), new RangeError('x'), new TypeError('x'), lookAlike,
    Object.create(null)];
  for (const value of values) {
    for (const name of CLASS_NAMES) assert.equal(value instanceof first[name], false, `${inspect(value)} instanceof ${name}`);
  }
});

test("a user's subclass answers by its own prototype chain, and its instances keep their ancestors", () => {
  class RetryableJobError extends JobError {}
  const plain = new JobError('rank 2 is gone');
  const retryable = new RetryableJobError('rank 2 is gone');
  assert.equal(plain instanceof RetryableJobError, false);
  assert.equal(new MPIError('ERR_OTHER', 'x') instanceof RetryableJobError, false);
  assert.equal(retryable instanceof RetryableJobError, true);
  assert.equal(retryable instanceof JobError, true);
  assert.equal(retryable instanceof second.JobError, true);
  assert.equal(retryable instanceof MPIError, true);
  assert.equal(retryable instanceof TruncationError, false);
  assert.equal(retryable.code, ErrorCode.JOB);
});

test('ErrorCode lists every code, each once, and these codes are stable', () => {
  assert.deepEqual({ ...ErrorCode }, {
    BUFFER: 'MPI4TS_ERR_BUFFER',
    COUNT: 'MPI4TS_ERR_COUNT',
    TYPE: 'MPI4TS_ERR_TYPE',
    TAG: 'MPI4TS_ERR_TAG',
    COMM: 'MPI4TS_ERR_COMM',
    RANK: 'MPI4TS_ERR_RANK',
    REQUEST: 'MPI4TS_ERR_REQUEST',
    ROOT: 'MPI4TS_ERR_ROOT',
    OP: 'MPI4TS_ERR_OP',
    TOPOLOGY: 'MPI4TS_ERR_TOPOLOGY',
    DIMS: 'MPI4TS_ERR_DIMS',
    ARG: 'MPI4TS_ERR_ARG',
    GROUP: 'MPI4TS_ERR_GROUP',
    TRUNCATE: 'MPI4TS_ERR_TRUNCATE',
    OTHER: 'MPI4TS_ERR_OTHER',
    INTERN: 'MPI4TS_ERR_INTERN',
    SPAWN: 'MPI4TS_ERR_SPAWN',
    JOB: 'MPI4TS_ERR_JOB',
    PROTOCOL: 'MPI4TS_ERR_PROTOCOL',
    COLLECTIVE_MISMATCH: 'MPI4TS_ERR_COLLECTIVE_MISMATCH',
    MESSAGE_TOO_LARGE: 'MPI4TS_ERR_MESSAGE_TOO_LARGE',
    USAGE: 'MPI4TS_USAGE',
    POOL: 'MPI4TS_ERR_POOL',
    WORKER_LOST: 'MPI4TS_ERR_WORKER_LOST',
    TASK: 'MPI4TS_ERR_TASK',
  });
  assert.equal(new Set(Object.values(ErrorCode)).size, Object.values(ErrorCode).length);
});

test('each class has its own code; a plain MPIError has the code of its MPI error class', () => {
  const expected: Record<ClassName, string> = {
    MPIError: ErrorCode.RANK,
    TruncationError: ErrorCode.TRUNCATE,
    JobError: ErrorCode.JOB,
    ProtocolError: ErrorCode.PROTOCOL,
    CollectiveMismatchError: ErrorCode.COLLECTIVE_MISMATCH,
    UsageError: ErrorCode.USAGE,
    MessageTooLargeError: ErrorCode.MESSAGE_TOO_LARGE,
    PoolError: ErrorCode.POOL,
    WorkerLostError: ErrorCode.WORKER_LOST,
    TaskError: ErrorCode.TASK,
  };
  for (const name of CLASS_NAMES) {
    const err = make(first, name) as Error & { code: unknown };
    assert.equal(err.code, expected[name], name);
    assert.equal(Object.hasOwn(err, 'code'), true, `${name}: code is an own property, so logs show it`);
    assert.match(inspect(err), new RegExp(`code: '${expected[name]}'`), name);
  }
  const codes = new Set<string>(Object.values(ErrorCode));
  for (const errorClass of Object.keys(ErrorClass) as (keyof typeof ErrorClass)[]) {
    const err = new MPIError(errorClass, 'm');
    assert.equal(err.code, `MPI4TS_${errorClass}`);
    assert.equal(codes.has(err.code), true, `${err.code} is listed in ErrorCode`);
  }
});

test('the brands stay out of what people read', () => {
  for (const name of CLASS_NAMES) {
    const err = make(first, name);
    assert.doesNotMatch(inspect(err), /mpi4ts\.error/, name);
    assert.equal(Object.getOwnPropertySymbols(err).length, 0, name);
  }
});

test('names and messages', () => {
  const expected: Record<ClassName, string> = {
    MPIError: 'MPIError',
    TruncationError: 'TruncationError',
    JobError: 'JobError',
    ProtocolError: 'ProtocolError',
    CollectiveMismatchError: 'CollectiveMismatchError',
    UsageError: 'UsageError',
    // Kept a RangeError by name too: the launcher's output and callers read it as one.
    MessageTooLargeError: 'RangeError',
    PoolError: 'PoolError',
    WorkerLostError: 'WorkerLostError',
    // The thrown error's name, as it was on the worker.
    TaskError: 'RangeError',
  };
  for (const name of CLASS_NAMES) {
    const err = make(first, name);
    assert.equal(err.name, expected[name]);
    assert.equal(String(err).startsWith(`${expected[name]}: `), true, String(err));
  }
  assert.equal(new JobError('rank 2 is gone').message, 'rank 2 is gone');
  assert.equal(new MessageTooLargeError(5 * 2 ** 30, true).message, 'the message would take more than 5.00 GiB; one message carries at most 4.00 GiB: ' +
    'send the data in several messages (a typed array in parts, or the arrays of an object one by one)');
});

test('a TaskError keeps the worker\'s stack, says where it ran, and keeps the thrown code', () => {
  const err = new TaskError({ name: 'TypeError', message: 'bad', stack: 'TypeError: bad\n    at f (tasks.ts:3:9)', code: 'E_BAD' }, 'f', WORKER);
  assert.equal(err.stack, 'TypeError: bad\n    at f (tasks.ts:3:9)\n    (task "f" on pool worker rank 2, node1, pid 1234)');
  assert.equal(err.remoteCode, 'E_BAD');
  assert.equal(err.code, ErrorCode.TASK);
  assert.deepEqual(err.worker, WORKER);
  assert.equal(new WorkerLostError('m', WORKER).worker, WORKER);
});

test('errorClass is the MPI error class, as before', () => {
  assert.equal(new MPIError('ERR_RANK', 'm').errorClass, 'ERR_RANK');
  assert.equal(new TruncationError('m').errorClass, 'ERR_TRUNCATE');
  assert.equal(new JobError('m').errorClass, 'ERR_OTHER');
  assert.equal(new ProtocolError('m').errorClass, 'ERR_INTERN');
  assert.equal(new CollectiveMismatchError('m').errorClass, 'ERR_OTHER');
  assert.equal(ErrorClass.ERR_TRUNCATE, 15);
  assert.equal(ErrorClass[new TruncationError('m').errorClass], 15);
});

test('cause is kept', () => {
  const cause = new Error('ECONNRESET');
  assert.equal(new MPIError('ERR_OTHER', 'm', { cause }).cause, cause);
  assert.equal(new JobError('rank 2 is gone', { cause }).cause, cause);
  assert.equal(new TruncationError('m', { cause }).cause, cause);
  assert.equal(new ProtocolError('m', { cause }).cause, cause);
  assert.equal(new UsageError('m', { cause }).cause, cause);
  assert.equal('cause' in new JobError('m'), false);
});
