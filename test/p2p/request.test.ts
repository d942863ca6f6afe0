/**
 * Request's statics beyond waitall (MPI 4.1 section 3.7.5: testany,
 * testsome), request.free (3.7.3) and persistent requests (3.9, Prequest),
 * over the loopback engines where a message is needed. Milliseconds.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { MPIError } from '../../src/base/index.js';
import { Prequest, Request } from '../../src/p2p/index.js';
import { makeEngines, WORLD, type Loopback, type LoopbackOptions } from './loopback.js';

function engines(t: TestContext, n: number, options?: LoopbackOptions): Loopback {
  const fx = makeEngines(n, options);
  t.after(() => fx.close());
  return fx;
}

function settled<T>(value: T): Request<T> {
  const r = new Request<T>();
  r._resolve(value);
  return r;
}

function failed(err: Error): Request<never> {
  const r = new Request<never>();
  r._reject(err);
  return r;
}

/** A persistent send from `from` to `to` in COMM_WORLD, as comm.sendInit makes it. */
function sendInit(fx: Loopback, from: number, to: number, tag: number, value: unknown, sync = false): Prequest<void> {
  return new Prequest<void>('sendInit', (request) => {
    fx.engines[from]!.isend(WORLD, from, to, tag, value, sync, 'start (sendInit)', 0, request);
  });
}

function recvInit(fx: Loopback, at: number, source: number, tag: number, into: Uint8Array | null = null): Prequest<unknown> {
  return new Prequest<unknown>('recvInit', (request) => {
    fx.engines[at]!.irecv(WORLD, source, source, tag, into, 'start (recvInit)', 0, request);
  });
}

// ---- testany, testsome ----

test('testany: the first completed request with its value; index -1, done false while none is; index -1, done true with none active', () => {
  const pending = new Request<string>();
  assert.deepEqual(Request.testany([pending, new Request<string>()]), { index: -1, done: false });
  assert.deepEqual(Request.testany([pending, settled('b'), settled('c')]), { index: 1, done: true, value: 'b' });
  assert.deepEqual(Request.testany([]), { index: -1, done: true });
  const inactive = new Prequest<string>('recvInit', () => {});
  assert.deepEqual(Request.testany([inactive]), { index: -1, done: true }, 'an inactive persistent request is not active');
  assert.throws(() => Request.testany([pending, failed(new MPIError('ERR_TRUNCATE', 'too long'))]), { message: 'too long' });
});

test('testsome: every completed request with its value, never waiting; empty lists when none is', () => {
  const pending = new Request<number>();
  assert.deepEqual(Request.testsome([pending]), { indices: [], values: [] });
  assert.deepEqual(Request.testsome([settled(1), pending, settled(3)]), { indices: [0, 2], values: [1, 3] });
  assert.deepEqual(Request.testsome([]), { indices: [], values: [] });
  assert.throws(() => Request.testsome([failed(new Error('bad'))]), { message: 'bad' });
});

test('the statics refuse what is not a list of requests, naming the call and the entry', async () => {
  assert.throws(() => Request.testany('x' as unknown as Request[]), { name: 'TypeError', message: 'testany: requests must be an array of MPI.Request, got string' });
  assert.throws(() => Request.testsome([settled(1), 5] as unknown as Request[]), { name: 'TypeError', message: 'testsome: requests[1] must be an MPI.Request, got number' });
  assert.throws(() => Request.testall([null] as unknown as Request[]), { message: 'testall: requests[0] must be an MPI.Request, got null' });
  await assert.rejects(Request.waitall([{}] as unknown as Request[]), { message: 'waitall: requests[0] must be an MPI.Request, got Object' });
  await assert.rejects(Request.waitany([Promise.resolve(1)] as unknown as Request[]), { message: 'waitany: requests[0] must be an MPI.Request, got Promise' });
});

// ---- free ----

test('free: a freed send still completes and is delivered, but it cannot be waited on, tested, cancelled, freed or listed again', async (t) => {
  const fx = engines(t, 2, { hold: true });
  const big = new Uint8Array(1000).fill(3);
  const sent = fx.engines[0]!.isend(WORLD, 0, 1, 0, big, false, 'isend');
  sent.free();
  assert.equal(sent.isFreed, true);
  const receive = fx.engines[1]!.irecv(WORLD, 0, 0, 0, null, 'irecv');
  fx.net.flush();
  assert.equal(sent.done, true, 'the freed rendezvous send completed');
  assert.equal((receive.test().value as Uint8Array)[999], 3);
  const freed = /this request was freed \(request\.free\(\)\); a freed request cannot be waited on, tested, cancelled or started/;
  await assert.rejects(sent.wait(), { name: 'MPIError', code: 'MPI4TS_ERR_REQUEST', message: new RegExp(`^wait: ${freed.source}`) });
  await assert.rejects(async () => { await sent; }, { message: /^await: this request was freed/ });
  assert.throws(() => sent.test(), { message: /^test: this request was freed/ });
  assert.throws(() => sent.cancel(), { message: /^cancel: this request was freed/ });
  assert.throws(() => sent.free(), { message: /^free: this request was freed/ });
  assert.throws(() => Request.testany([receive, sent]), { message: /^testany: requests\[1\]: this request was freed/ });
  await assert.rejects(Request.waitall([sent]), { message: /^waitall: requests\[0\]: this request was freed/ });
  assert.deepEqual(fx.pendingOperations(), [0, 0]);
});

// ---- persistent requests ----

test('a persistent send and receive: each start() is one round; wait, test and await complete it and leave it inactive', async (t) => {
  const fx = engines(t, 2);
  const data = new Float64Array(2);
  const s = sendInit(fx, 0, 1, 7, data);
  const r = recvInit(fx, 1, 0, 7);
  assert.equal(s.done, true, 'inactive: nothing to wait for');
  assert.equal(await s, undefined);
  for (let round = 0; round < 3; round++) {
    data[0] = round;
    r.start();
    s.start();
    assert.equal(r.done, false);
    fx.net.flush();
    if (round === 0) assert.deepEqual(r.test().value, new Float64Array([0, 0]));
    else if (round === 1) assert.deepEqual(await r.wait(), new Float64Array([1, 0]));
    else assert.deepEqual(await r, new Float64Array([2, 0]));
    assert.equal(r.status.tag, 7);
    await s.wait();
  }
  assert.deepEqual(fx.pendingOperations(), [0, 0]);
});

test('starting an active persistent request throws, naming the call: while pending, and once complete until wait or test took its outcome', async (t) => {
  const fx = engines(t, 2);
  const r = recvInit(fx, 1, 0, 1);
  r.start();
  assert.throws(() => r.start(), { name: 'MPIError', code: 'MPI4TS_ERR_REQUEST', message: /^start: this recvInit request is active: its round has not completed/ });
  fx.engines[0]!.isend(WORLD, 0, 1, 1, 'one', false, 'isend');
  fx.net.flush();
  assert.equal(r.done, true);
  assert.throws(() => r.start(), { message: /^start: this recvInit request is active: its last round completed but nothing took its outcome; call wait\(\) or test\(\)/ });
  assert.equal(r.test().value, 'one');
  r.start();
  // A wait() made while the round is pending claims it: start() is fine once the round completes.
  const waited = r.wait();
  fx.engines[0]!.isend(WORLD, 0, 1, 1, 'two', false, 'isend');
  fx.net.flush();
  assert.equal(await waited, 'two');
  r.start();
  assert.equal(r.cancel(), true, 'a round of a persistent receive can be cancelled');
  assert.equal(await r, null);
  assert.equal(r.status.cancelled, true);
  r.start();
  assert.equal(r.status.cancelled, false, 'a new round starts with an empty status');
  r.cancel();
  await r;
  assert.deepEqual(fx.pendingOperations(), [0, 0]);
});

test('persistent requests in the statics: waitany, testany and testsome pass over inactive ones, waitall and testall count them complete', async (t) => {
  const fx = engines(t, 2);
  const a = recvInit(fx, 1, 0, 1);
  const b = recvInit(fx, 1, 0, 2);
  assert.deepEqual(await Request.waitany([a, b]), { index: -1, value: undefined });
  assert.deepEqual(Request.testall([a, b]), { done: true, values: [undefined, undefined] });
  Prequest.startall([a, b]);
  assert.deepEqual(Request.testany([a, b]), { index: -1, done: false });
  fx.engines[0]!.isend(WORLD, 0, 1, 2, 'for b', false, 'isend');
  fx.net.flush();
  assert.deepEqual(Request.testany([a, b]), { index: 1, done: true, value: 'for b' });
  // b's outcome was taken: it is inactive, and only a is left.
  assert.deepEqual(Request.testsome([a, b]), { indices: [], values: [] });
  const any = Request.waitany([a, b]);
  fx.engines[0]!.isend(WORLD, 0, 1, 1, 'for a', false, 'isend');
  fx.net.flush();
  assert.deepEqual(await any, { index: 0, value: 'for a' });
  assert.deepEqual(Request.testany([a, b]), { index: -1, done: true }, 'none active');
  Prequest.startall([a, b]);
  fx.engines[0]!.isend(WORLD, 0, 1, 1, 'a2', false, 'isend');
  fx.engines[0]!.isend(WORLD, 0, 1, 2, 'b2', false, 'isend');
  fx.net.flush();
  assert.deepEqual(await Request.waitall([a, b]), ['a2', 'b2']);
  Prequest.startall([a, b]);
  a.cancel();
  b.cancel();
  assert.deepEqual(Request.testsome([a, b]), { indices: [0, 1], values: [null, null] });
  assert.deepEqual(fx.pendingOperations(), [0, 0]);
});

test('startall checks every entry before starting any; a freed persistent request cannot be started', (t) => {
  const fx = engines(t, 2);
  const a = recvInit(fx, 1, 0, 1);
  const b = recvInit(fx, 1, 0, 2);
  b.start();
  assert.throws(() => Prequest.startall([a, b]), { message: /^startall: requests\[1\]: this recvInit request is active/ });
  assert.equal(a.done, true, 'a was not started');
  assert.throws(() => Prequest.startall([a, settled(1)] as unknown as Prequest[]), { name: 'TypeError', message: 'startall: requests[1] must be an MPI.Prequest (from comm.sendInit, recvInit, ...), got Request' });
  assert.throws(() => Prequest.startall(a as unknown as Prequest[]), { message: 'startall: requests must be an array of MPI.Prequest, got object' });
  a.free();
  assert.throws(() => a.start(), { message: /^start: this request was freed/ });
  b.cancel();
  b.free();
  assert.deepEqual(fx.pendingOperations(), [0, 0]);
});

test('a persistent send freed while active still delivers its round; one whose value cannot be sent throws at start and stays inactive', async (t) => {
  const fx = engines(t, 2);
  const s = sendInit(fx, 0, 1, 3, new Uint8Array(500).fill(9));
  s.start();
  s.free();
  const got = fx.engines[1]!.irecv(WORLD, 0, 0, 3, null, 'irecv');
  await fx.net.settle();
  assert.equal((got.test().value as Uint8Array)[499], 9);
  const bad = sendInit(fx, 0, 1, 3, () => 1);
  assert.throws(() => bad.start(), { name: 'TypeError', message: /^start \(sendInit\): cannot send this value: the value is a function/ });
  assert.equal(bad.done, true);
  assert.deepEqual(Request.testany([bad]), { index: -1, done: true }, 'inactive again');
  assert.deepEqual(fx.pendingOperations(), [0, 0]);
});

test('a persistent synchronous send completes each round only once the receive matched', (t) => {
  const fx = engines(t, 2);
  const s = sendInit(fx, 0, 1, 4, 'sync', true);
  for (let round = 0; round < 2; round++) {
    s.start();
    fx.net.flush();
    assert.equal(s.done, false);
    const r = fx.engines[1]!.irecv(WORLD, 0, 0, 4, null, 'irecv');
    fx.net.flush();
    assert.equal(r.test().value, 'sync');
    assert.equal(s.test().done, true);
  }
  assert.deepEqual(fx.pendingOperations(), [0, 0]);
});
