/**
 * Buffered mode (MPI 4.1 sections 3.4, 3.6) over the loopback engines: a
 * bsend completes at once whatever the receiver does, takes room in the
 * attached buffer until its real send completes, and fails (ERR_BUFFER)
 * without a buffer or room; detachBuffer waits for the messages in flight.
 * The buffer is the process's: each test detaches what it attached.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { PROC_NULL } from '../../src/base/index.js';
import { encode } from '../../src/codec/index.js';
import { attachBuffer, BSEND_OVERHEAD, bufferedSend, bufferSpace, detachBuffer, Request } from '../../src/p2p/index.js';
import { makeEngines, WORLD, type Loopback, type LoopbackOptions } from './loopback.js';

function engines(t: TestContext, n: number, options?: LoopbackOptions): Loopback {
  const fx = makeEngines(n, options);
  t.after(async () => {
    fx.close();
    if (bufferSpace() !== null) {
      // Let nothing attached leak into the next test.
      fx.net.release();
      await fx.net.settle();
      await detachBuffer();
    }
  });
  return fx;
}

function bsend(fx: Loopback, from: number, to: number, tag: number, value: unknown, call = 'ibsend'): Request<void> {
  return bufferedSend(fx.engines[from]!, WORLD, from, to, tag, value, call, new Request<void>());
}

test('a bsend completes at once, even by rendezvous to a rank that receives nothing yet; its room is held until its data is sent', async (t) => {
  const fx = engines(t, 2, { hold: true });
  const data = new Float64Array(100).fill(1.5);
  const cost = 800 + BSEND_OVERHEAD;
  attachBuffer(2 * cost);
  const sent = bsend(fx, 0, 1, 0, data);
  assert.equal(sent.done, true);
  assert.deepEqual(fx.net.sentKinds(0, 1), ['RTS']);
  assert.deepEqual(bufferSpace(), { capacity: 2 * cost, used: cost, inFlight: 1 });
  // The caller may change its array at once: the message carries what it was at the bsend.
  data.fill(-1);
  fx.net.flush();
  const got = fx.engines[1]!.irecv(WORLD, 0, 0, 0, null, 'irecv');
  fx.net.flush();
  assert.deepEqual([...(got.test().value as Float64Array)].slice(0, 2), [1.5, 1.5]);
  assert.deepEqual(bufferSpace(), { capacity: 2 * cost, used: 0, inFlight: 0 }, 'room given back once sent');
  assert.equal(await detachBuffer(), 2 * cost);
  assert.equal(bufferSpace(), null);
});

test('without a buffer, or without room for the message and its overhead, a bsend throws ERR_BUFFER saying so, and sends nothing', (t) => {
  const fx = engines(t, 2, { hold: true });
  assert.throws(() => bsend(fx, 0, 1, 0, 'x'), {
    name: 'MPIError', code: 'MPI4TS_ERR_BUFFER',
    message: `ibsend: no buffer is attached for buffered sends; call MPI.attachBuffer(bytes) first, with room for every message in flight plus MPI.BSEND_OVERHEAD (${BSEND_OVERHEAD}) bytes each`,
  });
  // Above the eager threshold: by rendezvous, the message holds its room until a receive asks for it.
  const big = 'x'.repeat(100);
  const bytes = encode(big).bytes.length;
  attachBuffer(new ArrayBuffer(2 * (bytes + BSEND_OVERHEAD) - 1));
  bsend(fx, 0, 1, 0, big, 'bsend');
  assert.throws(() => bsend(fx, 0, 1, 0, big, 'bsend'), {
    code: 'MPI4TS_ERR_BUFFER',
    message: `bsend: the attached buffer has ${bytes + BSEND_OVERHEAD - 1} of its ${2 * (bytes + BSEND_OVERHEAD) - 1} bytes free (1 buffered message(s) not delivered yet), ` +
      `and this message needs ${bytes + BSEND_OVERHEAD} (${bytes} bytes + MPI.BSEND_OVERHEAD ${BSEND_OVERHEAD}); attach a larger buffer`,
  });
  assert.deepEqual(fx.net.sentKinds(0, 1), ['RTS'], 'only the first went');
  assert.throws(() => bsend(fx, 0, 1, 0, () => 1), { name: 'TypeError', message: /^ibsend: cannot send this value/ });
  assert.equal(bufferSpace()!.inFlight, 1, 'a failed bsend takes no room');
  fx.engines[1]!.irecv(WORLD, 0, 0, 0, null, 'irecv');
  fx.net.flush();
  assert.equal(bufferSpace()!.inFlight, 0);
});

test('eager bsends written at once give their room back at once; one to PROC_NULL takes none', async (t) => {
  const fx = engines(t, 2);
  attachBuffer(new Uint8Array(64 + BSEND_OVERHEAD));
  for (let i = 0; i < 5; i++) bsend(fx, 0, 1, i, new Uint8Array(64));
  bsend(fx, 0, PROC_NULL, 0, new Uint8Array(10_000));
  assert.deepEqual(bufferSpace(), { capacity: 64 + BSEND_OVERHEAD, used: 0, inFlight: 0 });
  await fx.net.settle();
  for (let i = 0; i < 5; i++) fx.engines[1]!.irecv(WORLD, 0, 0, i, null, 'irecv');
  await fx.net.settle();
  assert.ok((await detachBuffer()) instanceof Uint8Array);
});

test('detachBuffer waits until every buffered message has been delivered, and new bsends fail meanwhile', async (t) => {
  const fx = engines(t, 2, { hold: true });
  attachBuffer(10_000);
  bsend(fx, 0, 1, 0, new Uint8Array(1000));
  let detached: unknown = null;
  const detaching = detachBuffer().then((given) => { detached = given; });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(detached, null, 'still in flight');
  assert.throws(() => bsend(fx, 0, 1, 0, 1), { message: /^ibsend: no buffer is attached/ });
  fx.net.flush();
  fx.engines[1]!.irecv(WORLD, 0, 0, 0, null, 'irecv');
  fx.net.flush();
  await detaching;
  assert.equal(detached, 10_000);
  assert.equal(await detachBuffer(), null, 'nothing attached any more');
});

test('attachBuffer refuses a second buffer and what is not a size or memory, naming the call', async () => {
  assert.throws(() => attachBuffer(-1), { name: 'MPIError', code: 'MPI4TS_ERR_ARG', message: 'attachBuffer: size -1 is not a number of bytes (an integer >= 0)' });
  assert.throws(() => attachBuffer(1.5), { message: 'attachBuffer: size 1.5 is not a number of bytes (an integer >= 0)' });
  assert.throws(() => attachBuffer('100' as unknown as number), { name: 'TypeError', message: 'attachBuffer: buffer must be a size in bytes, an ArrayBuffer or a Uint8Array, got string' });
  assert.throws(() => attachBuffer(new Float64Array(4) as unknown as Uint8Array), { message: 'attachBuffer: buffer must be a size in bytes, an ArrayBuffer or a Uint8Array, got Float64Array' });
  attachBuffer(100);
  assert.throws(() => attachBuffer(200), { code: 'MPI4TS_ERR_BUFFER', message: 'attachBuffer: a buffer of 100 bytes is attached already; await MPI.detachBuffer() before attaching another (MPI allows one at a time)' });
  assert.equal(await detachBuffer(), 100);
});
