import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { UnprovenConnections } from '../../src/wire/index.js';

/** Just what UnprovenConnections touches of a socket. */
function fakeSocket(): Socket & { destroyed: boolean } {
  const socket = new EventEmitter() as unknown as Socket & { destroyed: boolean };
  socket.destroyed = false;
  (socket as unknown as { destroy: () => void }).destroy = () => {
    socket.destroyed = true;
    socket.emit('close');
  };
  return socket;
}

test('unproven connections: the oldest is dropped past the limit, a proven one is no longer watched', () => {
  const dropped: string[] = [];
  const guard = new UnprovenConnections({ limit: 2, maxBytes: 64, timeoutMs: 60_000 }, (_s, reason) => dropped.push(reason));
  const [a, b, c] = [fakeSocket(), fakeSocket(), fakeSocket()];
  guard.admit(a);
  guard.admit(b);
  guard.proven(b);
  guard.admit(c);
  assert.equal(guard.size, 2);
  assert.deepEqual(dropped, []);
  const d = fakeSocket();
  guard.admit(d);
  assert.ok(a.destroyed, 'the oldest unproven connection went');
  assert.ok(!b.destroyed && !c.destroyed && !d.destroyed);
  assert.match(dropped[0]!, /more than 2 connections had not proved the job key; dropped the oldest/);
  guard.clear();
});

test('unproven connections: bytes past the limit drop the connection; after its proof it may send more', () => {
  const dropped: string[] = [];
  const guard = new UnprovenConnections({ limit: 8, maxBytes: 64, timeoutMs: 60_000 }, (_s, reason) => dropped.push(reason));
  const greedy = fakeSocket();
  const honest = fakeSocket();
  guard.admit(greedy);
  guard.admit(honest);
  assert.equal(guard.received(greedy, 60), true);
  assert.equal(guard.received(greedy, 5), false);
  assert.ok(greedy.destroyed);
  assert.match(dropped[0]!, /sent more than 64 bytes before proving the job key/);
  assert.equal(guard.received(honest, 64), true);
  guard.proven(honest);
  assert.equal(guard.received(honest, 1 << 20), true, 'a proven connection is not counted');
  guard.clear();
});

test('unproven connections: one that does not prove the key in time is dropped, judged after the loop has read its bytes', async () => {
  const dropped: string[] = [];
  const guard = new UnprovenConnections({ limit: 8, maxBytes: 64, timeoutMs: 50 }, (_s, reason) => dropped.push(reason));
  const silent = fakeSocket();
  const late = fakeSocket();
  guard.admit(silent);
  guard.admit(late);
  // The loop is blocked past the time-out (a rank computing): the hello is read before the judgement.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 120);
  await new Promise((r) => setTimeout(r, 0));
  guard.proven(late);
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(silent.destroyed, 'the silent connection was dropped');
  assert.ok(!late.destroyed, 'a hello read after an overdue timer still counts');
  assert.match(dropped[0]!, /did not prove the job key within 0\.05 s/);
});
