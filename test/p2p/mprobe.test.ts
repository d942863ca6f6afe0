/**
 * Matched probe and receive (MPI 4.1 sections 3.8.2, 3.8.3) in the engine,
 * over the loopback transport: improbe and mprobe take a message out of the
 * matching queues in MPI's order, no receive posted later can take it, and
 * mrecv receives it without matching; a rendezvous message gets its
 * clear-to-send, and an eager one hands its credit back, only when received.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ANY_SOURCE, ANY_TAG, PROC_NULL, TruncationError } from '../../src/base/index.js';
import { Message, Status, type IncomingMessage, type Request } from '../../src/p2p/index.js';
import { HEADER_BYTES } from '../../src/transport/index.js';
import { makeEngines, WORLD, type Loopback, type LoopbackOptions } from './loopback.js';

function engines(t: TestContext, n: number, options?: LoopbackOptions): Loopback {
  const fx = makeEngines(n, options);
  t.after(() => fx.close());
  return fx;
}

function send(fx: Loopback, from: number, to: number, tag: number, value: unknown, sync = false): Request<void> {
  return fx.engines[from]!.isend(WORLD, from, to, tag, value, sync, sync ? 'issend' : 'isend');
}

function recv(fx: Loopback, at: number, source: number, tag: number): Request<unknown> {
  return fx.engines[at]!.irecv(WORLD, source, source >= 0 ? source : -1, tag, null, 'irecv');
}

/** improbe at rank `at`, which must find a message. */
function take(fx: Loopback, at: number, source: number, tag: number, status?: Status): IncomingMessage {
  const found = fx.engines[at]!.improbe(WORLD, source, tag, status);
  assert.ok(found !== null, `a message from ${source} with tag ${tag} is there`);
  return found;
}

function valueOf(req: Request<unknown>): unknown {
  const result = req.test();
  assert.equal(result.done, true, 'the request has completed');
  return result.value;
}

function assertQuiet(fx: Loopback): void {
  assert.equal(fx.net.inFlight(), 0, 'frames in flight');
  assert.deepEqual(fx.pendingOperations(), fx.engines.map(() => 0), 'pending operations per rank');
  assert.deepEqual(fx.engines.map((e) => e.idle), fx.engines.map(() => true), 'engines idle');
  assert.deepEqual(fx.fatal.map((errors) => errors.map((e) => e.message)), fx.engines.map(() => []), 'fatal errors');
}

test('improbe takes the first matching message in arrival order, with its status; iprobe and receives no longer see it', (t) => {
  const fx = engines(t, 2);
  send(fx, 0, 1, 5, 'first');
  send(fx, 0, 1, 5, 'second');
  send(fx, 0, 1, 6, 'other tag');
  fx.net.flush();
  const e = fx.engines[1]!;
  assert.equal(e.improbe(WORLD, 0, 7), null, 'nothing with tag 7');
  const status = new Status();
  const first = take(fx, 1, 0, 5, status);
  assert.deepEqual({ source: status.source, tag: status.tag }, { source: 0, tag: 5 });
  assert.ok(status.count > 0);
  // A receive posted now matches the next message, not the one taken.
  const later = recv(fx, 1, 0, 5);
  assert.equal(valueOf(later), 'second');
  assert.equal(e.iprobe(WORLD, 0, 5), false);
  assert.equal(valueOf(e.mrecv(WORLD, first, null, 'message.recv')), 'first');
  assert.equal(valueOf(recv(fx, 1, ANY_SOURCE, ANY_TAG)), 'other tag');
  assertQuiet(fx);
});

test('a message taken by mprobe is not stolen by an irecv posted before it is received; the irecv gets the next', async (t) => {
  const fx = engines(t, 2);
  const e = fx.engines[1]!;
  const probing = e.mprobe(WORLD, 0, 0, ANY_TAG);
  send(fx, 0, 1, 1, 'probed');
  fx.net.flush();
  const message = await probing;
  const posted = recv(fx, 1, ANY_SOURCE, ANY_TAG);
  assert.equal(posted.done, false, 'the probed message is not for it');
  send(fx, 0, 1, 2, 'next');
  fx.net.flush();
  assert.equal(valueOf(posted), 'next');
  const received = e.mrecv(WORLD, message, null, 'message.recv');
  assert.equal(valueOf(received), 'probed');
  assert.deepEqual({ source: received.status.source, tag: received.status.tag }, { source: 0, tag: 1 });
  assertQuiet(fx);
});

test('ANY_SOURCE: improbe takes whichever message arrived first, and the status names its sender', (t) => {
  const fx = engines(t, 3);
  send(fx, 2, 0, 9, 'from 2');
  fx.net.flush();
  send(fx, 1, 0, 9, 'from 1');
  fx.net.flush();
  const status = new Status();
  const m = take(fx, 0, ANY_SOURCE, ANY_TAG, status);
  assert.equal(status.source, 2);
  assert.equal(valueOf(fx.engines[0]!.mrecv(WORLD, m, null, 'message.recv')), 'from 2');
  const n = take(fx, 0, ANY_SOURCE, 9, status);
  assert.equal(status.source, 1);
  assert.equal(valueOf(fx.engines[0]!.mrecv(WORLD, n, null, 'message.recv')), 'from 1');
  assertQuiet(fx);
});

test('a rendezvous message taken by improbe gets its clear-to-send only when received, into a buffer too', (t) => {
  const fx = engines(t, 2, { hold: true });
  const data = Float64Array.from({ length: 100 }, (_, i) => i);
  const sent = send(fx, 0, 1, 3, data);
  assert.deepEqual(fx.net.sentKinds(0, 1), ['RTS']);
  fx.net.flush();
  const m = take(fx, 1, 0, 3);
  fx.net.flush();
  assert.deepEqual(fx.net.sentKinds(1, 0), [], 'no CTS at the probe');
  assert.equal(sent.done, false);
  const into = new Float64Array(128);
  const received = fx.engines[1]!.mrecv(WORLD, m, into, 'message.recvInto');
  assert.deepEqual(fx.net.sentKinds(1, 0), ['CTS']);
  fx.net.flush();
  assert.equal(sent.done, true);
  assert.equal(valueOf(received), into);
  assert.deepEqual([...into.subarray(0, 100)], [...data]);
  assert.equal(received.status.count, 800);
  assertQuiet(fx);
});

test('an eager message taken by mprobe hands its credit back when received, not when probed', async (t) => {
  const cost = 40 + HEADER_BYTES;
  const fx = engines(t, 2, { hold: true, eagerCredit: cost });
  send(fx, 0, 1, 0, new Uint8Array(40));
  fx.net.flush();
  const m = await fx.engines[1]!.mprobe(WORLD, 0, 0, 0);
  fx.net.flush();
  assert.deepEqual(fx.net.sentKinds(1, 0), [], 'no CREDIT at the probe');
  send(fx, 0, 1, 1, new Uint8Array(40));
  assert.deepEqual(fx.net.sentKinds(0, 1), ['EAGER', 'RTS'], 'out of credit while the probed message is unreceived');
  fx.net.flush();
  fx.engines[1]!.mrecv(WORLD, m, null, 'message.recv');
  assert.deepEqual(fx.net.sentKinds(1, 0), ['CREDIT']);
  recv(fx, 1, 0, 1);
  fx.net.flush();
  assertQuiet(fx);
});

test('a truncated matched receive fails with TruncationError naming the call; the credit still goes back', (t) => {
  const fx = engines(t, 2, { hold: true, eagerCredit: 40 + HEADER_BYTES });
  send(fx, 0, 1, 0, new Uint8Array(40));
  fx.net.flush();
  const m = take(fx, 1, 0, 0);
  const failed = fx.engines[1]!.mrecv(WORLD, m, new Uint8Array(8), 'message.recvInto');
  assert.throws(() => failed.test(), (err: Error) => err instanceof TruncationError && /^message\.recvInto: message of 40 bytes/.test(err.message));
  assert.deepEqual(fx.net.sentKinds(1, 0), ['CREDIT']);
  fx.net.flush();
  assertQuiet(fx);
});

test('waiting probes see an arriving message in order: a probe before a matched probe sees it, the matched probe takes it, one after waits on', async (t) => {
  const fx = engines(t, 2);
  const e = fx.engines[1]!;
  const plain = e.probe(WORLD, 0, 0, 4);
  const matched = e.mprobe(WORLD, ANY_SOURCE, -1, ANY_TAG);
  let lateSaw: unknown = null;
  const late = e.mprobe(WORLD, 0, 0, 4).then((m) => { lateSaw = m; return m; });
  send(fx, 0, 1, 4, 'once');
  fx.net.flush();
  assert.equal((await plain).tag, 4);
  const m = await matched;
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(lateSaw, null, 'the later matched probe still waits');
  assert.equal(e.iprobe(WORLD, 0, 4), false, 'taken out of the queue');
  assert.equal(valueOf(e.mrecv(WORLD, m, null, 'message.recv')), 'once');
  send(fx, 0, 1, 4, 'twice');
  fx.net.flush();
  assert.equal(valueOf(e.mrecv(WORLD, await late, null, 'message.recv')), 'twice');
  assertQuiet(fx);
});

test('a synchronous send to oneself taken by improbe completes when it is received, not when probed', (t) => {
  const fx = engines(t, 1);
  const sync = send(fx, 0, 0, 2, 'self', true);
  const m = take(fx, 0, 0, 2);
  assert.equal(sync.done, false);
  assert.equal(valueOf(fx.engines[0]!.mrecv(WORLD, m, null, 'message.recv')), 'self');
  assert.equal(sync.done, true);
  assertQuiet(fx);
});

test('an mprobe for a rank that ended fails naming mprobe, at once or while it waits', async (t) => {
  const fx = engines(t, 2);
  const waiting = fx.engines[0]!.mprobe(WORLD, 1, 1, 2);
  fx.net.kill(1, 'exited');
  fx.net.flush();
  await assert.rejects(waiting, { name: 'JobError', message: /^mprobe from rank 1 with tag 2 can never complete: rank 1 exited/ });
  await assert.rejects(fx.engines[0]!.mprobe(WORLD, 1, 1, ANY_TAG), { message: /^mprobe from rank 1 with any tag can never complete/ });
  assert.deepEqual(fx.pendingOperations(), [0, 0]);
});

test('MPI.Message: received once (a second receive names the call), irecvInto fills the buffer; MESSAGE_NO_PROC gives null every time', async (t) => {
  const fx = engines(t, 2);
  const e = fx.engines[1]!;
  send(fx, 0, 1, 0, new Int32Array([7, 8]));
  send(fx, 0, 1, 1, 'value');
  fx.net.flush();
  const m = new Message(e, WORLD, take(fx, 1, 0, 0));
  assert.equal(m.received, false);
  const buf = new Int32Array(4);
  assert.equal(await m.irecvInto(buf), buf);
  assert.deepEqual([...buf], [7, 8, 0, 0]);
  assert.equal(m.received, true);
  assert.throws(() => m.irecv(), { name: 'MPIError', code: 'MPI4TS_ERR_REQUEST', message: /^message\.irecv: this message was received already/ });
  await assert.rejects(m.recv(), { message: /^message\.recv: this message was received already/ });
  const v = new Message(e, WORLD, take(fx, 1, 0, 1));
  assert.throws(() => v.irecvInto([1] as unknown as Uint8Array), { name: 'TypeError', message: 'message.irecvInto: buf must be a typed array, DataView, ArrayBuffer or Buffer, got Array' });
  assert.equal(v.received, false, 'a bad buffer does not use the message up');
  const status = new Status();
  assert.equal(await v.recv(status), 'value');
  assert.equal(status.tag, 1);
  const { MESSAGE_NO_PROC } = await import('../../src/p2p/index.js');
  for (let i = 0; i < 2; i++) {
    const s = new Status();
    assert.equal(await MESSAGE_NO_PROC.recv(s), null);
    assert.deepEqual({ source: s.source, tag: s.tag, count: s.count }, { source: PROC_NULL, tag: ANY_TAG, count: 0 });
  }
  const keep = new Uint8Array([1]);
  assert.equal(await MESSAGE_NO_PROC.recvInto(keep), keep);
  assert.equal(MESSAGE_NO_PROC.received, false);
  assertQuiet(fx);
});
