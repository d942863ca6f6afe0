/**
 * The matching engine on its own, N engines in one process over the loopback
 * transport (loopback.ts): eager and rendezvous protocols, values and raw
 * buffers, receives into buffers and truncation, MPI matching and its
 * non-overtaking order (MPI 4.1 section 3.5), probes, cancel, synchronous
 * sends, peers that end or fail, contexts, eager credit and bad frames.
 * Every test runs in milliseconds and checks exact results and messages;
 * eager credit's basic cycle is in credit.test.ts.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ANY_SOURCE, ANY_TAG, CollectiveMismatchError, ErrorClass, JobError, MPIError, PROC_NULL, ProtocolError, TruncationError } from '../../src/base/index.js';
import { encode } from '../../src/codec/index.js';
import { Status, type Request } from '../../src/p2p/index.js';
import { FrameKind, HEADER_BYTES } from '../../src/transport/index.js';
import { makeEngines, SELF, WORLD, WORLD_COLL, type Loopback, type LoopbackOptions } from './loopback.js';

/** Engines for one test, let go of when it ends. */
function engines(t: TestContext, n: number, options?: LoopbackOptions): Loopback {
  const fx = makeEngines(n, options);
  t.after(() => fx.close());
  return fx;
}

interface SendOptions { sync?: boolean; context?: number; call?: string; collective?: number }
interface RecvOptions { into?: ArrayBufferView | ArrayBuffer; context?: number; call?: string; collective?: number }

/** A send in COMM_WORLD (where comm rank and world rank agree), as Comm.isend makes it. */
function send(fx: Loopback, from: number, to: number, tag: number, value: unknown, o: SendOptions = {}): Request<void> {
  return fx.engines[from]!.isend(o.context ?? WORLD, from, to, tag, value, o.sync ?? false, o.call ?? (o.sync === true ? 'issend' : 'isend'), o.collective ?? 0);
}

/** A receive in COMM_WORLD, as Comm.irecv makes it (world rank -1 for ANY_SOURCE). */
function recv(fx: Loopback, at: number, source: number, tag: number, o: RecvOptions = {}): Request<unknown> {
  const sourceWorld = source >= 0 || source === PROC_NULL ? source : -1;
  return fx.engines[at]!.irecv(o.context ?? WORLD, source, sourceWorld, tag, o.into ?? null, o.call ?? (o.into === undefined ? 'irecv' : 'irecvInto'), o.collective ?? 0);
}

/** The value of a request that must have completed. */
function valueOf(req: Request<unknown>): unknown {
  const result = req.test();
  assert.equal(result.done, true, 'the request has completed');
  return result.value;
}

/** The error of a request that must have failed. */
function errorOf(req: Request<unknown>): Error {
  assert.equal(req.done, true, 'the request has completed');
  try {
    req.test();
  } catch (err) {
    assert.ok(err instanceof Error);
    return err;
  }
  assert.fail('the request succeeded');
}

function statusOf(req: Request<unknown>): { source: number; tag: number; count: number } {
  const { source, tag, count } = req.status;
  return { source, tag, count };
}

/** Nothing pending anywhere: every begin() of the progress engines was ended, no frame in flight, no fatal error. */
function assertQuiet(fx: Loopback): void {
  assert.equal(fx.net.inFlight(), 0, 'frames in flight');
  assert.deepEqual(fx.pendingOperations(), fx.engines.map(() => 0), 'pending operations per rank');
  assert.deepEqual(fx.engines.map((e) => e.idle), fx.engines.map(() => true), 'engines idle');
  assert.deepEqual(fx.fatal.map((errors) => errors.map((e) => e.message)), fx.engines.map(() => []), 'fatal errors');
}

const bytesOf = (view: ArrayBufferView): number[] => [...new Uint8Array(view.buffer, view.byteOffset, view.byteLength)];

// ---- the two protocols ----

test('eager: a message up to the threshold goes in one EAGER frame; the send completes at once, the receive gets value, source, tag and count', (t) => {
  const fx = engines(t, 2);
  const value = { hello: 'world', n: [1, 2] };
  const receive = recv(fx, 1, 0, 7);
  const sent = send(fx, 0, 1, 7, value);
  assert.equal(sent.done, true);
  assert.equal(receive.done, false);
  assert.deepEqual(fx.net.sentKinds(0, 1), ['EAGER']);
  fx.net.flush();
  assert.deepEqual(valueOf(receive), value);
  const count = encode(value).bytes.length;
  assert.ok(count <= 64, `${count} bytes, below the threshold`);
  assert.deepEqual(statusOf(receive), { source: 0, tag: 7, count });
  assert.deepEqual(fx.net.sentKinds(1, 0), []);
  assertQuiet(fx);
});

test('rendezvous: above the threshold an RTS, a CTS once a receive matches, then DATA; the send completes only when its data is written', (t) => {
  const fx = engines(t, 2, { hold: true });
  const data = Float64Array.from({ length: 100 }, (_, i) => i / 4);
  const sent = send(fx, 0, 1, 3, data);
  assert.deepEqual(fx.net.sentKinds(0, 1), ['RTS']);
  fx.net.deliver(0, 1);
  // Nobody receives yet: no clear-to-send, the bytes stay with the sender.
  assert.deepEqual(fx.net.sentKinds(1, 0), []);
  assert.equal(sent.done, false);
  const receive = recv(fx, 1, 0, 3);
  assert.deepEqual(fx.net.sentKinds(1, 0), ['CTS']);
  fx.net.deliver(1, 0);
  assert.deepEqual(fx.net.sentKinds(0, 1), ['RTS', 'DATA']);
  assert.equal(sent.done, false, 'not before its data is written');
  assert.equal(receive.done, false);
  fx.net.deliver(0, 1);
  assert.equal(sent.done, true);
  const got = valueOf(receive);
  assert.ok(got instanceof Float64Array);
  assert.deepEqual([...got], [...data]);
  assert.deepEqual(statusOf(receive), { source: 0, tag: 3, count: 800 });
  assertQuiet(fx);
});

test('a message of exactly the threshold goes eagerly, one byte more by rendezvous', (t) => {
  const fx = engines(t, 2, { eagerThreshold: 64 });
  send(fx, 0, 1, 0, new Uint8Array(64));
  send(fx, 0, 1, 0, new Uint8Array(65));
  assert.deepEqual(fx.net.sentKinds(0, 1), ['EAGER', 'RTS']);
  const first = recv(fx, 1, 0, 0);
  const second = recv(fx, 1, 0, 0);
  fx.net.flush();
  assert.equal((valueOf(first) as Uint8Array).length, 64);
  assert.equal((valueOf(second) as Uint8Array).length, 65);
  assertQuiet(fx);
});

test('raw payloads arrive as the type sent, eager and by rendezvous: typed arrays, DataView, ArrayBuffer, Buffer', (t) => {
  const fx = engines(t, 2, { eagerThreshold: 64 });
  const samples = (n: number): ArrayBufferView[] => [
    Int8Array.from({ length: n }, (_, i) => -i), Uint8Array.from({ length: n }, (_, i) => i), new Uint8ClampedArray(n).fill(7),
    Int16Array.from({ length: n }, (_, i) => -300 * i), Uint16Array.from({ length: n }, (_, i) => 600 * i),
    Int32Array.from({ length: n }, (_, i) => -70000 * i), Uint32Array.from({ length: n }, (_, i) => 4e9 - i),
    Float32Array.from({ length: n }, (_, i) => i + 0.5), Float64Array.from({ length: n }, (_, i) => Math.PI * i),
    BigInt64Array.from({ length: n }, (_, i) => BigInt(-i) * 2n ** 40n), BigUint64Array.from({ length: n }, (_, i) => 2n ** 63n + BigInt(i)),
    new DataView(Uint8Array.from({ length: 8 * n }, (_, i) => i).buffer), Buffer.from('x'.repeat(8 * n)),
  ];
  // 2 elements (at most 16 bytes) go eagerly, 70 (at least 70 bytes) by rendezvous.
  const sent = [...samples(2), ...samples(70)];
  const receives = sent.map((_, i) => recv(fx, 1, 0, i));
  sent.forEach((value, i) => send(fx, 0, 1, i, value));
  const buffer = Uint8Array.from([9, 8, 7]).buffer;
  const lastReceive = recv(fx, 1, 0, 99);
  send(fx, 0, 1, 99, buffer);
  const kinds = fx.net.sentKinds(0, 1);
  assert.deepEqual(kinds.slice(0, 13), Array<string>(13).fill('EAGER'));
  assert.deepEqual(kinds.slice(13, 26), Array<string>(13).fill('RTS'));
  fx.net.flush();
  sent.forEach((value, i) => {
    const got = valueOf(receives[i]!) as ArrayBufferView;
    assert.equal(Object.getPrototypeOf(got), Object.getPrototypeOf(value), `message ${i}`);
    assert.deepEqual(bytesOf(got), bytesOf(value), `message ${i}`);
    assert.equal(receives[i]!.status.count, value.byteLength);
  });
  const gotBuffer = valueOf(lastReceive);
  assert.ok(gotBuffer instanceof ArrayBuffer);
  assert.deepEqual([...new Uint8Array(gotBuffer)], [9, 8, 7]);
  assertQuiet(fx);
});

test('an eager payload handed up as a view of the read buffer is the receiver\'s own once received, expected or not', (t) => {
  const fx = engines(t, 2);
  const expected = recv(fx, 1, 0, 1);
  send(fx, 0, 1, 1, Float64Array.from([1.5, 2.5]));
  send(fx, 0, 1, 2, Uint8Array.from([1, 2, 3, 4]));
  send(fx, 0, 1, 3, 'after');
  // The loopback overwrites each read buffer after its frame: a kept view would read 0xdd.
  fx.net.flush();
  const late = recv(fx, 1, 0, 2);
  assert.deepEqual([...(valueOf(expected) as Float64Array)], [1.5, 2.5]);
  assert.deepEqual([...(valueOf(late) as Uint8Array)], [1, 2, 3, 4]);
  assert.equal(valueOf(recv(fx, 1, 0, 3)), 'after');
  assertQuiet(fx);
});

test('a caller\'s array sent by rendezvous travels as it was when sent; the send completes once it is written', (t) => {
  const fx = engines(t, 2, { hold: true });
  const data = new Int32Array(100).fill(5);
  const sent = send(fx, 0, 1, 0, data);
  const receive = recv(fx, 1, 0, 0);
  fx.net.flush();
  assert.equal(sent.done, true);
  data.fill(6);
  assert.deepEqual([...(valueOf(receive) as Int32Array)], Array<number>(100).fill(5));
  assertQuiet(fx);
});

test('an eager send of the caller\'s array that the transport cannot take at once (a full ring) completes once it is written', (t) => {
  const fx = engines(t, 2, { hold: true });
  fx.net.refuseTrySend(0, 1, true);
  const data = Int16Array.from([1, -2, 3]);
  const sent = send(fx, 0, 1, 4, data);
  assert.deepEqual(fx.net.sentKinds(0, 1), ['EAGER']);
  assert.equal(sent.done, false, 'the transport holds the caller\'s bytes until written');
  assert.deepEqual(fx.pendingOperations(), [1, 0]);
  fx.net.flush();
  assert.equal(sent.done, true);
  assert.deepEqual([...(valueOf(recv(fx, 1, 0, 4)) as Int16Array)], [1, -2, 3]);
  assertQuiet(fx);
});

test('an eager send waits while the link is above its high-water mark, and completes when it drains', (t) => {
  const fx = engines(t, 2, { hold: true });
  fx.net.highWater = 100;
  const first = send(fx, 0, 1, 0, 'a'.repeat(40));
  assert.equal(first.done, true, 'below the mark after it');
  const second = send(fx, 0, 1, 1, 'b'.repeat(40));
  assert.equal(second.done, false, 'above the mark: waits for room');
  fx.net.deliver(0, 1, 2);
  return new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
    assert.equal(second.done, true);
    assert.equal(valueOf(recv(fx, 1, 0, 1)), 'b'.repeat(40));
    assert.equal(valueOf(recv(fx, 1, 0, 0)), 'a'.repeat(40));
    assertQuiet(fx);
  });
});

test('through awaits, with delivery on the event loop: a ping-pong of values and arrays, eager and by rendezvous', async (t) => {
  const fx = engines(t, 2);
  const [a, b] = [0, 1];
  const pong = (async () => {
    for (let i = 0; i < 20; i++) {
      const got = await recv(fx, b, a, i);
      await send(fx, b, a, i, got);
    }
  })();
  for (let i = 0; i < 20; i++) {
    const value = i % 2 === 0 ? { i, text: 'p'.repeat(i * 10) } : new Float32Array(i * 3).fill(i);
    const back = recv(fx, a, b, i);
    await send(fx, a, b, i, value);
    assert.deepEqual(await back, value);
  }
  await pong;
  await fx.net.settle();
  assertQuiet(fx);
});

// ---- receives into a buffer ----

test('a receive into a buffer resolves with that buffer, the bytes at its start, and the count of bytes sent', (t) => {
  const fx = engines(t, 2, { hold: true });
  const eagerTarget = new Uint8Array(16).fill(0x55);
  const rendezvousTarget = new Float64Array(20).fill(-1);
  const eager = recv(fx, 1, 0, 1, { into: eagerTarget });
  const rendezvous = recv(fx, 1, 0, 2, { into: rendezvousTarget });
  send(fx, 0, 1, 1, Uint8Array.from([1, 2, 3]));
  send(fx, 0, 1, 2, Float64Array.from({ length: 10 }, (_, i) => i));
  // An unexpected one, received into a buffer afterwards.
  send(fx, 0, 1, 3, Int32Array.from([7, 8]));
  fx.net.flush();
  const lateTarget = new Int32Array(4);
  const late = recv(fx, 1, 0, 3, { into: lateTarget });
  assert.equal(valueOf(eager), eagerTarget);
  assert.deepEqual([...eagerTarget], [1, 2, 3, ...Array<number>(13).fill(0x55)]);
  assert.deepEqual(statusOf(eager), { source: 0, tag: 1, count: 3 });
  assert.equal(valueOf(rendezvous), rendezvousTarget);
  assert.deepEqual([...rendezvousTarget], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ...Array<number>(10).fill(-1)]);
  assert.deepEqual(statusOf(rendezvous), { source: 0, tag: 2, count: 80 });
  assert.equal(rendezvous.status.getCount(Float64Array), 10);
  assert.equal(valueOf(late), lateTarget);
  assert.deepEqual([...lateTarget], [7, 8, 0, 0]);
  assert.deepEqual(statusOf(late), { source: 0, tag: 3, count: 8 });
  // Exactly the buffer's size fits, eager and by rendezvous.
  for (const length of [4, 100]) {
    const exact = new Uint8Array(length);
    const receive = recv(fx, 1, 0, 4, { into: exact });
    send(fx, 0, 1, 4, new Uint8Array(length).fill(length));
    fx.net.flush();
    assert.equal(valueOf(receive), exact);
    assert.deepEqual([exact[0], exact[length - 1], receive.status.count], [length, length, length]);
  }
  assertQuiet(fx);
});

test('truncation: a message larger than the buffer fails with TruncationError naming both sizes, eager or rendezvous, posted before or after; nothing else is lost', (t) => {
  const fx = engines(t, 2);
  const cases = [
    { tag: 1, value: new Int32Array(3), posted: true, words: 'message of 12 bytes (int32) from rank 0 (tag 1) does not fit the 8-byte buffer' },
    { tag: 2, value: new Int32Array(3), posted: false, words: 'message of 12 bytes (int32) from rank 0 (tag 2) does not fit the 8-byte buffer' },
    { tag: 3, value: new Float64Array(50), posted: true, words: 'message of 400 bytes (float64) from rank 0 (tag 3) does not fit the 8-byte buffer' },
    { tag: 4, value: new Float64Array(50), posted: false, words: 'message of 400 bytes (float64) from rank 0 (tag 4) does not fit the 8-byte buffer' },
  ];
  for (const c of cases) {
    const receive = c.posted ? recv(fx, 1, 0, c.tag, { into: new Uint8Array(8), call: 'recvInto' }) : null;
    const sent = send(fx, 0, 1, c.tag, c.value);
    fx.net.flush();
    const failed = receive ?? recv(fx, 1, 0, c.tag, { into: new Uint8Array(8), call: 'recvInto' });
    fx.net.flush();
    const err = errorOf(failed);
    assert.ok(err instanceof TruncationError);
    assert.equal(err.message, `recvInto: ${c.words} (MPI_ERR_TRUNCATE)`);
    assert.equal((err as TruncationError).errorClass, 'ERR_TRUNCATE');
    assert.equal((err as TruncationError).code, 'MPI4TS_ERR_TRUNCATE');
    assert.deepEqual(statusOf(failed), { source: 0, tag: c.tag, count: c.value.byteLength });
    assert.equal(failed.status.error, ErrorClass.ERR_TRUNCATE);
    assert.equal(sent.done, true, 'the sender is not left waiting');
    // The next message, of either size, arrives whole.
    const next = recv(fx, 1, 0, 100 + c.tag);
    send(fx, 0, 1, 100 + c.tag, Float64Array.from({ length: c.value.length }, (_, i) => i));
    fx.net.flush();
    assert.deepEqual([...(valueOf(next) as Float64Array)], Array.from({ length: c.value.length }, (_, i) => i));
  }
  assertQuiet(fx);
});

test('a structured value received into a buffer fails with ERR_TYPE, saying how to receive it', (t) => {
  const fx = engines(t, 2);
  const receive = recv(fx, 1, 0, 2, { into: new Uint8Array(64), call: 'recvInto' });
  send(fx, 0, 1, 2, { not: 'bytes' });
  fx.net.flush();
  const err = errorOf(receive);
  assert.ok(err instanceof MPIError);
  assert.equal(err.errorClass, 'ERR_TYPE');
  assert.equal(err.message, 'recvInto: the message from rank 0 (tag 2) is a structured value, not raw bytes; receive it with recv(), or send a typed array');
  assertQuiet(fx);
});

// ---- matching ----

test('ANY_SOURCE and ANY_TAG: a message goes to the earliest posted receive it matches, a receive to the earliest message', (t) => {
  const fx = engines(t, 3);
  const bySource2 = recv(fx, 0, 2, ANY_TAG);
  const tag5 = recv(fx, 0, ANY_SOURCE, 5);
  const anything = recv(fx, 0, ANY_SOURCE, ANY_TAG);
  send(fx, 1, 0, 5, 'one-five');
  send(fx, 2, 0, 5, 'two-five');
  send(fx, 1, 0, 6, 'one-six');
  fx.net.deliver(1, 0, 2);
  fx.net.deliver(2, 0);
  assert.equal(valueOf(tag5), 'one-five');
  assert.deepEqual(statusOf(tag5), { source: 1, tag: 5, count: encode('one-five').bytes.length });
  assert.equal(valueOf(anything), 'one-six');
  assert.deepEqual(statusOf(anything).source, 1);
  assert.equal(valueOf(bySource2), 'two-five');
  assert.deepEqual({ source: bySource2.status.source, tag: bySource2.status.tag }, { source: 2, tag: 5 });
  // Unexpected ones: the earliest that matches.
  send(fx, 2, 0, 1, 'two-one');
  send(fx, 1, 0, 2, 'one-two');
  send(fx, 1, 0, 1, 'one-one');
  fx.net.deliver(2, 0);
  fx.net.deliver(1, 0, 2);
  assert.equal(valueOf(recv(fx, 0, 1, ANY_TAG)), 'one-two');
  assert.equal(valueOf(recv(fx, 0, ANY_SOURCE, 1)), 'two-one');
  assert.equal(valueOf(recv(fx, 0, ANY_SOURCE, ANY_TAG)), 'one-one');
  assertQuiet(fx);
});

test('unexpected messages wait in arrival order; late receives take them by tag in any order', (t) => {
  const fx = engines(t, 2, { eagerThreshold: 32 });
  // Eager and rendezvous mixed: tags 0..5, odd ones large.
  const values = [0, 1, 2, 3, 4, 5].map((tag) => (tag % 2 === 0 ? `small ${tag}` : new Uint16Array(40).fill(tag)));
  values.forEach((value, tag) => send(fx, 0, 1, tag, value));
  fx.net.flush();
  const probed = new Status();
  assert.equal(fx.engines[1]!.iprobe(WORLD, 0, ANY_TAG, probed), true);
  assert.equal(probed.tag, 0, 'the first to arrive');
  for (const tag of [5, 2, 3, 0, 4, 1]) {
    const receive = recv(fx, 1, 0, tag);
    fx.net.flush();
    assert.deepEqual(valueOf(receive), values[tag]);
  }
  assert.equal(fx.engines[1]!.iprobe(WORLD, ANY_SOURCE, ANY_TAG), false);
  assertQuiet(fx);
});

/** The k-th message of sender s carries its identity: raw bytes [s, k low, k high, ...] or {s, k, pad}. */
function messageFor(s: number, k: number, size: number, raw: boolean): unknown {
  if (!raw) return { s, k, pad: 'x'.repeat(size) };
  const bytes = new Uint8Array(Math.max(3, size)).fill(k & 0xff);
  bytes[0] = s;
  bytes[1] = k & 0xff;
  bytes[2] = k >> 8;
  return bytes;
}

function identityOf(value: unknown, size: number): string {
  if (value instanceof Uint8Array) {
    const k = value[1]! | (value[2]! << 8);
    assert.equal(value.length, Math.max(3, size));
    for (let i = 3; i < value.length; i++) assert.equal(value[i], k & 0xff, 'payload intact');
    return `${value[0]}:${k}`;
  }
  const v = value as { s: number; k: number; pad: string };
  assert.equal(v.pad, 'x'.repeat(size));
  return `${v.s}:${v.k}`;
}

type Command =
  | { op: 'send'; from: number; tag: number; size: number; raw: boolean; sync: boolean }
  | { op: 'post'; source: number; tag: number }
  | { op: 'cancel'; which: number }
  | { op: 'deliver'; from: number; to: number; count: number };

const commands = fc.array(fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('send' as const), from: fc.constantFrom(0, 1, 2, 1, 2), tag: fc.integer({ min: 0, max: 2 }),
    size: fc.constantFrom(0, 20, 60, 61, 100, 300), raw: fc.boolean(), sync: fc.constantFrom(false, false, false, false, false, true) }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('post' as const), source: fc.constantFrom(ANY_SOURCE, 0, 1, 2), tag: fc.constantFrom(ANY_TAG, 0, 1, 2) }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('cancel' as const), which: fc.nat({ max: 20 }) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('deliver' as const), from: fc.constantFrom(0, 1, 2), to: fc.constantFrom(0, 1, 2), count: fc.integer({ min: 1, max: 3 }) }), weight: 4 },
), { maxLength: 60 });

/**
 * MPI's matching rule as the standard words it (MPI 4.1 section 3.5), with
 * nothing of the engine's: at rank 0, in the order things happen there, a
 * receive takes the earliest arrived unmatched message it accepts, a message
 * the earliest posted unmatched receive that accepts it.
 */
class ReferenceMatching {
  readonly posted: { id: number; source: number; tag: number }[] = [];
  readonly unexpected: { id: string; source: number; tag: number }[] = [];
  /** Receive id -> message id. */
  readonly matched = new Map<number, string>();

  post(id: number, source: number, tag: number): void {
    const i = this.unexpected.findIndex((m) => accepts(source, tag, m));
    if (i >= 0) this.matched.set(id, this.unexpected.splice(i, 1)[0]!.id);
    else this.posted.push({ id, source, tag });
  }

  arrive(id: string, source: number, tag: number): void {
    const i = this.posted.findIndex((r) => accepts(r.source, r.tag, { source, tag }));
    if (i >= 0) this.matched.set(this.posted.splice(i, 1)[0]!.id, id);
    else this.unexpected.push({ id, source, tag });
  }

  cancel(id: number): boolean {
    const i = this.posted.findIndex((r) => r.id === id);
    if (i < 0) return false;
    this.posted.splice(i, 1);
    return true;
  }
}

function accepts(source: number, tag: number, m: { source: number; tag: number }): boolean {
  return (source === ANY_SOURCE || source === m.source) && (tag === ANY_TAG || tag === m.tag);
}

test('matching keeps MPI\'s order (non-overtaking, MPI 4.1 section 3.5) for any interleaving of sends, receives, cancels and deliveries', () => {
  fc.assert(fc.property(commands, (script) => {
    // Small threshold and credit: the messages go eager, by rendezvous, and by rendezvous for want of credit.
    const fx = makeEngines(3, { hold: true, eagerThreshold: 64, eagerCredit: 3 * (64 + HEADER_BYTES) });
    try {
      runScript(fx, script);
    } finally {
      fx.close();
    }
  }), { numRuns: 150 });
});

function runScript(fx: Loopback, script: readonly Command[]): void {
  const reference = new ReferenceMatching();
  const sent: { id: string; size: number; tag: number; request: Request<void> }[][] = [[], [], []];
  const receives: { request: Request<unknown>; cancelled: boolean | null }[] = [];
  let seen = 0;
  /** Envelopes that reached rank 0 since last time, in order, into the reference. */
  const arrivals = (): void => {
    for (; seen < fx.net.delivered.length; seen++) {
      const { from, to, header } = fx.net.delivered[seen]!;
      if (to !== 0 || (header.kind !== FrameKind.EAGER && header.kind !== FrameKind.RTS)) continue;
      const k = arrivedFrom[from]!;
      arrivedFrom[from] = k + 1;
      reference.arrive(sent[from]![k]!.id, from, header.tag);
    }
  };
  const arrivedFrom = [0, 0, 0];
  const post = (source: number, tag: number): void => {
    receives.push({ request: recv(fx, 0, source, tag), cancelled: null });
    reference.post(receives.length - 1, source, tag);
  };
  for (const c of script) {
    switch (c.op) {
      case 'send': {
        const k = sent[c.from]!.length;
        const request = send(fx, c.from, 0, c.tag, messageFor(c.from, k, c.size, c.raw), { sync: c.sync });
        sent[c.from]!.push({ id: `${c.from}:${k}`, size: c.size, tag: c.tag, request });
        // A send to oneself arrives within the call.
        if (c.from === 0) reference.arrive(`0:${k}`, 0, c.tag);
        break;
      }
      case 'post':
        post(c.source, c.tag);
        break;
      case 'cancel': {
        const receive = receives[c.which];
        if (receive === undefined) break;
        const cancelled = receive.request.cancel();
        assert.equal(cancelled, reference.cancel(c.which) || false, `cancel of receive ${c.which}`);
        // A second cancel of one receive is too late (false): the receive stays cancelled.
        receive.cancelled = cancelled || receive.cancelled === true;
        break;
      }
      case 'deliver':
        fx.net.deliver(c.from, c.to, c.count);
        break;
    }
    arrivals();
  }
  fx.net.flush();
  arrivals();
  // Whatever is left unreceived is taken by receives of anything, in arrival order.
  for (let left = reference.unexpected.length; left > 0; left--) post(ANY_SOURCE, ANY_TAG);
  fx.net.flush();
  arrivals();
  for (const [i, receive] of receives.entries()) {
    const want = reference.matched.get(i);
    if (want === undefined) {
      if (receive.cancelled === true) {
        assert.equal(valueOf(receive.request), null);
        assert.equal(receive.request.status.cancelled, true);
      } else {
        assert.equal(receive.request.done, false, `receive ${i} matched nothing`);
        assert.equal(receive.request.cancel(), true);
      }
      continue;
    }
    const [s, k] = want.split(':').map(Number) as [number, number];
    const message = sent[s]![k]!;
    assert.equal(identityOf(valueOf(receive.request), message.size), want, `receive ${i}`);
    assert.equal(receive.request.status.source, s);
    assert.equal(receive.request.status.tag, message.tag);
  }
  for (const [s, list] of sent.entries()) {
    for (const message of list) assert.equal(valueOf(message.request), undefined, `send ${message.id} from ${s}`);
  }
  assertQuiet(fx);
}

test('iprobe and probe report a waiting message (source, tag, count) and leave it for the receive', async (t) => {
  const fx = engines(t, 3, { hold: true });
  const e = fx.engines[0]!;
  assert.equal(e.iprobe(WORLD, 1, 4), false);
  const probing = e.probe(WORLD, 1, 1, 4);
  const anyProbe = e.probe(WORLD, ANY_SOURCE, -1, ANY_TAG);
  let probed: Status | null = null;
  void probing.then((status) => { probed = status; });
  send(fx, 2, 0, 9, 'other');
  send(fx, 1, 0, 4, new Float64Array(30));
  fx.net.deliver(2, 0);
  await Promise.resolve();
  assert.equal(probed, null, 'not for another source and tag');
  assert.deepEqual({ ...(await anyProbe) }, { source: 2, tag: 9, count: encode('other').bytes.length, error: 0, cancelled: false });
  fx.net.deliver(1, 0);
  const status = await probing;
  // By rendezvous: the count is the announced size, before any data moved.
  assert.deepEqual({ source: status.source, tag: status.tag, count: status.count }, { source: 1, tag: 4, count: 240 });
  const again = new Status();
  assert.equal(e.iprobe(WORLD, ANY_SOURCE, 4, again), true);
  assert.deepEqual({ source: again.source, tag: again.tag, count: again.count }, { source: 1, tag: 4, count: 240 });
  assert.equal(e.iprobe(SELF, ANY_SOURCE, ANY_TAG), false, 'another context');
  // A probe waits in its own context only: the same envelope elsewhere does not wake it.
  let woken = false;
  const inDup = e.probe(4, 1, 1, 4).then((found) => { woken = true; return found; });
  send(fx, 1, 0, 4, 'same envelope, COMM_WORLD');
  fx.net.flush();
  await Promise.resolve();
  assert.equal(woken, false);
  send(fx, 1, 0, 4, 'in the dup', { context: 4 });
  fx.net.flush();
  assert.equal((await inDup).tag, 4);
  assert.equal(valueOf(recv(fx, 0, 1, 4, { context: 4 })), 'in the dup');
  const receive = recv(fx, 0, 1, 4);
  fx.net.flush();
  assert.equal((valueOf(receive) as Float64Array).length, 30);
  assert.equal(valueOf(recv(fx, 0, 1, 4)), 'same envelope, COMM_WORLD');
  assert.equal(e.iprobe(WORLD, 1, 4), false, 'received');
  assert.equal(valueOf(recv(fx, 0, 2, 9)), 'other');
  // PROC_NULL: always there, from PROC_NULL.
  const nobody = new Status();
  assert.equal(e.iprobe(WORLD, PROC_NULL, ANY_TAG, nobody), true);
  assert.equal(nobody.source, PROC_NULL);
  assertQuiet(fx);
});

test('cancel takes back a receive that has not matched: it completes with null and status.cancelled; later messages go elsewhere', (t) => {
  const fx = engines(t, 2);
  const cancelled = recv(fx, 1, ANY_SOURCE, 5);
  assert.deepEqual(fx.pendingOperations(), [0, 1]);
  assert.equal(cancelled.cancel(), true);
  assert.equal(valueOf(cancelled), null);
  assert.deepEqual({ cancelled: cancelled.status.cancelled, source: cancelled.status.source, tag: cancelled.status.tag },
    { cancelled: true, source: ANY_SOURCE, tag: 5 });
  assert.equal(cancelled.cancel(), false, 'once only');
  send(fx, 0, 1, 5, 'for the next one');
  fx.net.flush();
  const next = recv(fx, 1, 0, 5);
  assert.equal(valueOf(next), 'for the next one');
  assert.equal(next.cancel(), false, 'too late: it matched');
  assert.equal(next.status.cancelled, false);
  // Matched by rendezvous but its data not there yet: too late as well.
  fx.net.hold();
  const matched = recv(fx, 1, 0, 6);
  send(fx, 0, 1, 6, new Uint8Array(100));
  fx.net.deliver(0, 1);
  assert.equal(matched.cancel(), false);
  fx.net.flush();
  assert.equal((valueOf(matched) as Uint8Array).length, 100);
  assertQuiet(fx);
});

test('ssend completes only once a receive has matched it, below the eager threshold too, to a peer and to oneself', (t) => {
  const fx = engines(t, 2, { hold: true });
  const sync = send(fx, 0, 1, 1, 'small', { sync: true });
  assert.deepEqual(fx.net.sentKinds(0, 1), ['RTS']);
  fx.net.flush();
  assert.equal(sync.done, false, 'arrived, not matched');
  const receive = recv(fx, 1, 0, 1);
  assert.equal(sync.done, false, 'matched, data not written yet');
  fx.net.flush();
  assert.equal(sync.done, true);
  assert.equal(valueOf(receive), 'small');
  const self = send(fx, 0, 0, 2, 'me', { sync: true });
  assert.equal(self.done, false);
  assert.equal(fx.engines[0]!.iprobe(WORLD, 0, 2), true);
  const selfReceive = recv(fx, 0, 0, 2);
  assert.equal(self.done, true);
  assert.equal(valueOf(selfReceive), 'me');
  assert.equal(fx.net.inFlight(), 0, 'nothing to oneself goes through the transport');
  assertQuiet(fx);
});

test('a send to oneself completes at once, eager-sized or large, and the receive gets a copy', (t) => {
  const fx = engines(t, 1);
  const big = new Float64Array(1000).fill(3);
  assert.equal(send(fx, 0, 0, 1, big).done, true);
  assert.equal(send(fx, 0, 0, 2, { small: true }, { context: SELF }).done, true);
  big.fill(4);
  assert.deepEqual([...(valueOf(recv(fx, 0, 0, 1)) as Float64Array)], Array<number>(1000).fill(3));
  assert.equal(fx.engines[0]!.iprobe(WORLD, ANY_SOURCE, ANY_TAG), false, 'COMM_SELF\'s message is not in COMM_WORLD');
  assert.deepEqual(valueOf(recv(fx, 0, 0, 2, { context: SELF })), { small: true });
  assertQuiet(fx);
});

test('PROC_NULL: a send completes at once and sends nothing; a receive completes at once with null from PROC_NULL', (t) => {
  const fx = engines(t, 2);
  assert.equal(valueOf(send(fx, 0, PROC_NULL, 1, 'lost')), undefined);
  const receive = recv(fx, 0, PROC_NULL, ANY_TAG);
  assert.equal(valueOf(receive), null);
  assert.deepEqual(statusOf(receive), { source: PROC_NULL, tag: ANY_TAG, count: 0 });
  const into = new Uint8Array(4);
  assert.equal(valueOf(recv(fx, 0, PROC_NULL, 3, { into })), into);
  assert.equal(fx.net.inFlight(), 0);
  assertQuiet(fx);
});

test('a value that cannot be encoded throws at the send, naming the call, and sends nothing', (t) => {
  const fx = engines(t, 2);
  assert.throws(() => send(fx, 0, 1, 0, () => 1, { call: 'send' }), { name: 'TypeError', message: 'send: cannot send this value: the value is a function (anonymous), which cannot be cloned' });
  assert.throws(() => send(fx, 0, 1, 0, { f: Symbol('s') }, { call: 'isend' }), { name: 'TypeError', message: 'isend: cannot send this value: the value.f is a symbol (Symbol(s)), which cannot be cloned' });
  assert.equal(fx.net.inFlight(), 0);
  assertQuiet(fx);
});

// ---- peers that fail or end ----

test('a send to a rank whose connection has failed rejects at once, naming the rank and the reason', (t) => {
  const fx = engines(t, 2);
  fx.net.failLink(0, 1, new Error('connection reset'));
  const sent = send(fx, 0, 1, 0, 'hello', { call: 'send' });
  const err = errorOf(sent);
  assert.ok(err instanceof JobError);
  assert.equal(err.message, 'send: cannot send to rank 1: connection reset');
  assert.equal(fx.net.inFlight(), 0);
  assertQuiet(fx);
});

test('sends waiting on a link that fails reject: a rendezvous one awaiting clear-to-send, an eager one awaiting room', async (t) => {
  const fx = engines(t, 3, { hold: true });
  fx.net.highWater = 50;
  const rendezvous = send(fx, 0, 1, 0, new Uint8Array(1000));
  const eager = send(fx, 0, 1, 1, 'x'.repeat(40));
  const elsewhere = send(fx, 0, 2, 0, new Uint8Array(1000));
  assert.deepEqual([rendezvous.done, eager.done], [false, false]);
  fx.net.failLink(0, 1, new Error('broken pipe'));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(errorOf(rendezvous).message, 'rank 1 is gone: broken pipe');
  assert.ok(errorOf(rendezvous) instanceof JobError);
  assert.equal(errorOf(eager).message, 'rank 1 is gone: broken pipe');
  assert.equal(elsewhere.done, false, 'a send to another rank is not affected');
  const receive = recv(fx, 2, 0, 0);
  fx.net.flush();
  assert.equal(elsewhere.done, true);
  assert.equal((valueOf(receive) as Uint8Array).length, 1000);
  assertQuiet(fx);
});

test('a receive from a rank that ended gets what it sent before, then fails naming it; one posted later fails at once', (t) => {
  for (const [why, words] of [
    ['exited', 'exited before the job ended (without finalize)'],
    ['closed', 'ended without finalize (its connections closed)'],
    ['finalized', 'has finished its program (finalize)'],
  ] as const) {
    const fx = engines(t, 2, { hold: true });
    const waiting = recv(fx, 0, 1, 9, { call: 'recv' });
    const first = recv(fx, 0, 1, 1);
    send(fx, 1, 0, 1, 'sent before');
    if (why === 'finalized') void fx.net.transport(1).finish();
    else fx.net.kill(1, why);
    assert.equal(waiting.done, false);
    fx.net.flush();
    assert.equal(valueOf(first), 'sent before', why);
    const err = errorOf(waiting);
    assert.ok(err instanceof JobError);
    assert.equal(err.message, `recv from rank 1 with tag 9 can never complete: rank 1 ${words}, and no message it sent matches`);
    const late = recv(fx, 0, 1, ANY_TAG);
    assert.equal(errorOf(late).message, `irecv from rank 1 with any tag can never complete: rank 1 ${words}, and no message it sent matches`);
    assert.deepEqual(fx.pendingOperations(), [0, 0], why);
    fx.close();
  }
});

test('an ANY_SOURCE receive waits while another rank can still send, and fails once every other rank has ended (a turn of the loop later)', async (t) => {
  const fx = engines(t, 3);
  const any = recv(fx, 0, ANY_SOURCE, 3);
  const fromTwo = recv(fx, 0, 2, 3);
  fx.net.kill(2, 'exited');
  fx.net.flush();
  assert.equal(errorOf(fromTwo).message, 'irecv from rank 2 with tag 3 can never complete: rank 2 exited before the job ended (without finalize), and no message it sent matches');
  assert.equal(any.done, false, 'rank 1 may still send');
  send(fx, 1, 0, 3, 'from one');
  fx.net.flush();
  assert.equal(valueOf(any), 'from one');
  const last = recv(fx, 0, ANY_SOURCE, ANY_TAG);
  fx.net.kill(1, 'closed');
  fx.net.flush();
  // A send to itself could still match it, until the program has had its turn.
  assert.equal(last.done, false);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(errorOf(last).message, 'irecv from any source with any tag can never complete: every other rank of the communicator has ended, and no message it sent matches');
  const later = recv(fx, 0, ANY_SOURCE, 1);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(errorOf(later).message,
    'irecv from any source with tag 1 can never complete: every other rank of the communicator has ended, and no message it sent matches');
  assert.deepEqual(fx.pendingOperations(), [0, 0, 0]);
});

test('a probe for a rank that ended fails; so does one waiting when it ends', async (t) => {
  const fx = engines(t, 2);
  const waiting = fx.engines[0]!.probe(WORLD, 1, 1, 2);
  fx.net.kill(1, 'exited');
  fx.net.flush();
  await assert.rejects(waiting, { name: 'JobError', message: 'probe from rank 1 with tag 2 can never complete: rank 1 exited before the job ended (without finalize), and no message it sent matches' });
  await assert.rejects(fx.engines[0]!.probe(WORLD, 1, 1, ANY_TAG), { message: /^probe from rank 1 with any tag can never complete/ });
  assert.deepEqual(fx.pendingOperations(), [0, 0]);
});

test('a rendezvous receive whose sender exits before its data fails; a sender that finalized still sends the data', (t) => {
  const fx = engines(t, 3, { hold: true });
  const exiting = recv(fx, 0, 1, 0);
  const finalizing = recv(fx, 0, 2, 0);
  send(fx, 1, 0, 0, new Uint8Array(500));
  send(fx, 2, 0, 0, new Uint8Array(600).fill(2));
  fx.net.deliver(1, 0);
  fx.net.deliver(2, 0);
  assert.deepEqual([fx.net.sentKinds(0, 1), fx.net.sentKinds(0, 2)], [['CTS'], ['CTS']]);
  // Rank 2 says goodbye before the clear-to-send reaches it; rank 1 dies.
  void fx.net.transport(2).finish();
  fx.net.kill(1, 'exited');
  fx.net.flush();
  assert.equal(errorOf(exiting).message, 'rank 1 exited before the job ended (without finalize) before it sent the data of a message this rank is receiving');
  assert.deepEqual([...(valueOf(finalizing) as Uint8Array).subarray(0, 3)], [2, 2, 2]);
  assert.equal((valueOf(finalizing) as Uint8Array).length, 600);
  assert.deepEqual(fx.pendingOperations()[0], 0);
});

test('a receive matching an RTS whose sender then exited fails instead of waiting for its data for ever', (t) => {
  const fx = engines(t, 2, { hold: true });
  send(fx, 1, 0, 0, new Uint8Array(500));
  fx.net.deliver(1, 0);
  fx.net.kill(1, 'exited');
  fx.net.flush();
  // The RTS waits unexpected; rank 1 is gone, its data with it.
  const receive = recv(fx, 0, 1, 0);
  fx.net.flush();
  assert.equal(receive.done, true, 'the receive is still waiting for data from a rank that exited');
  assert.equal(errorOf(receive).message, 'irecv: rank 1 exited before the job ended (without finalize) before it sent the data of a message this rank is receiving');
});

test('an ANY_SOURCE receive is not hopeless while this rank can still send to itself: sendrecv to oneself works after the others ended', async (t) => {
  const fx = engines(t, 2);
  fx.net.kill(1, 'exited');
  fx.net.flush();
  const receive = recv(fx, 0, ANY_SOURCE, 4);
  send(fx, 0, 0, 4, 'to myself');
  assert.equal(valueOf(receive), 'to myself');
  const probed = fx.engines[0]!.probe(WORLD, ANY_SOURCE, -1, 5);
  send(fx, 0, 0, 5, 'probed');
  assert.equal((await probed).tag, 5);
  const lonely = fx.engines[0]!.probe(WORLD, ANY_SOURCE, -1, 6);
  await assert.rejects(lonely, { name: 'JobError', message: /^probe from any source with tag 6 can never complete: every other rank/ });
});

// ---- contexts ----

test('point-to-point and collective contexts never match each other\'s messages, nor those of another communicator', (t) => {
  const fx = engines(t, 2);
  const dup = 4;
  fx.engines[1]!.setGroup(dup, [0, 1]);
  // The same source and tag in three contexts, the point-to-point one last.
  send(fx, 0, 1, 0, 'in the collective context', { context: WORLD_COLL, collective: 7 });
  send(fx, 0, 1, 0, 'in the dup', { context: dup });
  send(fx, 0, 1, 0, 'in COMM_WORLD', { context: WORLD });
  // And one in a context rank 1 has no communicator for yet: it waits there.
  send(fx, 0, 1, 0, 'in a later communicator', { context: 6 });
  fx.net.flush();
  assert.equal(valueOf(recv(fx, 1, ANY_SOURCE, ANY_TAG)), 'in COMM_WORLD');
  assert.equal(fx.engines[1]!.iprobe(WORLD, ANY_SOURCE, ANY_TAG), false, 'nothing else in COMM_WORLD');
  assert.equal(valueOf(recv(fx, 1, ANY_SOURCE, ANY_TAG, { context: dup })), 'in the dup');
  assert.equal(valueOf(recv(fx, 1, 0, 0, { context: WORLD_COLL, collective: 7, call: 'bcast' })), 'in the collective context');
  fx.engines[1]!.setGroup(6, [0, 1]);
  assert.equal(valueOf(recv(fx, 1, 0, ANY_TAG, { context: 6 })), 'in a later communicator');
  assertQuiet(fx);
});

test('ranks whose collective calls disagree: the receive fails naming both calls', (t) => {
  const names: Record<number, string> = { 3: 'bcast', 4: 'reduce' };
  const fx = engines(t, 2, { describeCollective: (code) => names[code] ?? `code ${code}` });
  send(fx, 0, 1, 12, 'reduce data', { context: WORLD_COLL, collective: 4 });
  fx.net.flush();
  const receive = recv(fx, 1, 0, 12, { context: WORLD_COLL, collective: 3, call: 'bcast' });
  const err = errorOf(receive);
  assert.ok(err instanceof MPIError);
  assert.equal(err.errorClass, 'ERR_OTHER');
  assert.equal(err.message, 'bcast: the ranks\' collective calls disagree: this rank\'s call number 12 on this communicator is bcast, ' +
    'but rank 0\'s is reduce; every rank of a communicator must call the same collectives in the same order');
  // The facts go with it, for the collective layer's words (coll/channel.ts).
  assert.ok(err instanceof CollectiveMismatchError);
  assert.deepEqual(err.calls, { mine: 3, theirs: 4, peer: 0, sequence: 12 });
  assertQuiet(fx);
});

test('collective words that differ but name one call (sameCollectiveCall) deliver as usual', (t) => {
  // As coll/calls.ts: the low byte is the call, the rest may be open (0) on one side.
  const fx = engines(t, 2, { sameCollectiveCall: (a, b) => (a & 0xff) === (b & 0xff) && ((a >>> 8) === 0 || (b >>> 8) === 0) });
  send(fx, 0, 1, 3, 'open field', { context: WORLD_COLL, collective: 8 });
  send(fx, 0, 1, 4, 'another op', { context: WORLD_COLL, collective: 8 + 0x200 });
  fx.net.flush();
  assert.equal(valueOf(recv(fx, 1, 0, 3, { context: WORLD_COLL, collective: 8 + 0x100, call: 'allreduce' })), 'open field');
  const err = errorOf(recv(fx, 1, 0, 4, { context: WORLD_COLL, collective: 8 + 0x100, call: 'allreduce' }));
  assert.ok(err instanceof CollectiveMismatchError);
  assertQuiet(fx);
});

test('a message of another call under a collective tag fails the receives of that tag from other ranks too, whichever comes first', (t) => {
  // Ranks that disagree on a root wait for different senders: rank 2 waits for rank 1, rank 0's message proves the calls differ.
  const same = (a: number, b: number): boolean => a === b;
  const fx = engines(t, 3, { sameCollectiveCall: same });
  const waiting = recv(fx, 2, 1, 9, { context: WORLD_COLL, collective: 2 + 0x2_0000, call: 'bcast' });
  send(fx, 0, 2, 9, 'root 0', { context: WORLD_COLL, collective: 2 + 0x1_0000 });
  fx.net.flush();
  const err = errorOf(waiting);
  assert.ok(err instanceof CollectiveMismatchError);
  assert.deepEqual(err.calls, { mine: 2 + 0x2_0000, theirs: 2 + 0x1_0000, peer: 0, sequence: 9 });
  // Posted after the message came: the same.
  assert.ok(errorOf(recv(fx, 2, 1, 9, { context: WORLD_COLL, collective: 2 + 0x2_0000, call: 'bcast' })) instanceof CollectiveMismatchError);
  // The same call from another rank, or another tag, proves nothing: those receives wait.
  const sameCall = recv(fx, 2, 1, 9, { context: WORLD_COLL, collective: 2 + 0x1_0000, call: 'bcast' });
  const otherTag = recv(fx, 2, 1, 10, { context: WORLD_COLL, collective: 2 + 0x2_0000, call: 'bcast' });
  assert.equal(sameCall.done, false);
  assert.equal(otherTag.done, false);
  send(fx, 1, 2, 9, 'for the waiting one', { context: WORLD_COLL, collective: 2 + 0x1_0000 });
  send(fx, 1, 2, 10, 'next call', { context: WORLD_COLL, collective: 2 + 0x2_0000 });
  fx.net.flush();
  assert.equal(valueOf(sameCall), 'for the waiting one');
  assert.equal(valueOf(otherTag), 'next call');
  assert.equal(valueOf(recv(fx, 2, 0, 9, { context: WORLD_COLL, collective: 2 + 0x1_0000, call: 'bcast' })), 'root 0');
  assertQuiet(fx);
});

test('a collective receive that only an ended rank could satisfy says what the call waits for', (t) => {
  const fx = engines(t, 2);
  const receive = recv(fx, 0, 1, 5, { context: WORLD_COLL, collective: 3, call: 'bcast' });
  fx.net.kill(1, 'exited');
  fx.net.flush();
  assert.equal(errorOf(receive).message, 'bcast can never complete: it waits for a message from rank 1 of the communicator, ' +
    'but that rank exited before the job ended (without finalize)');
});

// ---- eager credit (its basic cycle: credit.test.ts) ----

test('eager credit is per receiver, as each receiver grants it: out of credit with one, a sender still sends eagerly to another', (t) => {
  const cost = 40 + HEADER_BYTES;
  const fx = engines(t, 3, { hold: true, eagerCredit: [10 * cost, 2 * cost, 4 * cost] });
  const message = new Uint8Array(40);
  for (let i = 0; i < 5; i++) {
    send(fx, 0, 1, i, message);
    send(fx, 0, 2, i, message);
  }
  assert.deepEqual(fx.net.sentKinds(0, 1), ['EAGER', 'EAGER', 'RTS', 'RTS', 'RTS']);
  assert.deepEqual(fx.net.sentKinds(0, 2), ['EAGER', 'EAGER', 'EAGER', 'EAGER', 'RTS']);
  const receives = [1, 2].flatMap((rank) => [0, 1, 2, 3, 4].map((i) => recv(fx, rank, 0, i)));
  fx.net.flush();
  for (const r of receives) assert.equal((valueOf(r) as Uint8Array).length, 40);
  assertQuiet(fx);
});

test('one sender\'s messages keep their order across the switch to rendezvous for want of credit and back', (t) => {
  const cost = 20 + HEADER_BYTES;
  const fx = engines(t, 2, { hold: true, eagerCredit: 2 * cost });
  const sends = Array.from({ length: 6 }, (_, i) => send(fx, 0, 1, i % 2, new Uint8Array(20).fill(i)));
  assert.deepEqual(fx.net.sentKinds(0, 1), ['EAGER', 'EAGER', 'RTS', 'RTS', 'RTS', 'RTS']);
  fx.net.deliver(0, 1, 6);
  const first = recv(fx, 1, 0, ANY_TAG);
  const second = recv(fx, 1, 0, ANY_TAG);
  // The credit of two eager messages comes back (a quarter of the grant is one message's worth).
  fx.net.flush();
  fx.net.clearLog();
  sends.push(send(fx, 0, 1, 0, new Uint8Array(20).fill(6)));
  assert.deepEqual(fx.net.sentKinds(0, 1), ['EAGER'], 'eager again');
  const rest = Array.from({ length: 5 }, () => recv(fx, 1, 0, ANY_TAG));
  fx.net.flush();
  assert.deepEqual([first, second, ...rest].map((r) => (valueOf(r) as Uint8Array)[0]), [0, 1, 2, 3, 4, 5, 6]);
  for (const s of sends) assert.equal(s.done, true);
  assertQuiet(fx);
});

test('an eager message whose receive fails (truncated) still hands its credit back', (t) => {
  const cost = 40 + HEADER_BYTES;
  const fx = engines(t, 2, { hold: true, eagerCredit: cost });
  send(fx, 0, 1, 0, new Uint8Array(40));
  assert.deepEqual(fx.net.sentKinds(0, 1), ['EAGER']);
  const truncated = recv(fx, 1, 0, 0, { into: new Uint8Array(8) });
  fx.net.flush();
  assert.ok(errorOf(truncated) instanceof TruncationError);
  assert.deepEqual(fx.net.sentKinds(1, 0), ['CREDIT']);
  send(fx, 0, 1, 1, new Uint8Array(40));
  assert.deepEqual(fx.net.sentKinds(0, 1), ['EAGER', 'EAGER']);
  recv(fx, 1, 0, 1);
  fx.net.flush();
  assertQuiet(fx);
});

test('no credit is handed back to a rank that has ended', (t) => {
  const fx = engines(t, 2, { hold: true, eagerCredit: 4 * (8 + HEADER_BYTES) });
  send(fx, 1, 0, 0, new Float64Array(1));
  send(fx, 1, 0, 1, new Float64Array(1));
  void fx.net.transport(1).finish();
  fx.net.flush();
  const receives = [recv(fx, 0, 1, 0), recv(fx, 0, 1, 1)];
  fx.net.flush();
  for (const r of receives) assert.equal((valueOf(r) as Float64Array).length, 1);
  assert.deepEqual(fx.net.sentKinds(0, 1), [], 'no CREDIT after its goodbye');
  assertQuiet(fx);
});

// ---- bad frames ----

const badFrames: { name: string; inject: (fx: Loopback) => void; words: string }[] = [
  {
    name: 'a wrong protocol version',
    inject: (fx) => fx.net.inject(1, 0, new Uint8Array(HEADER_BYTES).fill(9)),
    words: 'bad frame: protocol version 9, expected 1 (a different mpi4ts version, or not an mpi4ts peer)',
  },
  {
    name: 'a negative tag',
    inject: (fx) => fx.net.injectFrame(1, 0, { kind: FrameKind.EAGER, source: 1, tag: -3, payloadType: 19 }),
    words: 'bad frame: tag -3 is negative',
  },
  {
    name: 'a source that is another rank of the communicator',
    inject: (fx) => fx.net.injectFrame(1, 0, { kind: FrameKind.EAGER, source: 2, tag: 0, payloadType: 19 }),
    words: 'bad frame: world rank 1 claims to be rank 2 of the communicator of context 0, which is world rank 2',
  },
  {
    name: 'a source that is another rank, in the collective context',
    inject: (fx) => fx.net.injectFrame(1, 0, { kind: FrameKind.EAGER, context: WORLD_COLL, source: 0, tag: 0, payloadType: 19, collective: 2 }),
    words: 'bad frame: world rank 1 claims to be rank 0 of the communicator of context 1, which is world rank 0',
  },
  {
    name: 'a source beyond the communicator',
    inject: (fx) => fx.net.injectFrame(1, 0, { kind: FrameKind.RTS, source: 5, tag: 0, payloadType: 2, length: 10, rendezvousId: 1 }),
    words: 'bad frame: world rank 1 claims to be rank 5 of the communicator of context 0, which has 3 ranks',
  },
  {
    name: 'a context beyond the limit',
    inject: (fx) => fx.net.injectFrame(1, 0, { kind: FrameKind.EAGER, context: 5000, source: 1, tag: 0, payloadType: 19 }),
    words: 'bad frame: source 1 or context 5000 out of range (a job of 3 ranks, contexts below 4096)',
  },
  {
    name: 'a payload its type cannot have',
    inject: (fx) => fx.net.injectFrame(1, 0, { kind: FrameKind.EAGER, source: 1, tag: 0, payloadType: 15 }, new Uint8Array(7)),
    words: 'bad frame: a number payload of 7 bytes (not 8)',
  },
  {
    name: 'a clear-to-send for no rendezvous',
    inject: (fx) => fx.net.injectFrame(1, 0, { kind: FrameKind.CTS, rendezvousId: 42 }),
    words: 'rank 1 sent clear-to-send for unknown rendezvous 42',
  },
  {
    name: 'data no receive asked for',
    inject: (fx) => fx.net.injectFrame(1, 0, { kind: FrameKind.DATA, rendezvousId: 7 }, new Uint8Array(4)),
    words: 'rank 1 sent data for rendezvous 7, which no receive asked for',
  },
  {
    name: 'a message after the sender said goodbye',
    inject: (fx) => {
      void fx.net.transport(1).finish();
      fx.net.injectFrame(1, 0, { kind: FrameKind.EAGER, source: 1, tag: 0, payloadType: 19 });
    },
    words: 'a message after the sender said goodbye',
  },
];

for (const bad of badFrames) {
  test(`a bad frame after valid ones (${bad.name}): the valid ones are received, onFatal is called once, naming the connection`, (t) => {
    const fx = engines(t, 3, { hold: true });
    const early = recv(fx, 0, 1, 0);
    send(fx, 1, 0, 0, 'valid');
    send(fx, 1, 0, 1, new Uint8Array(200).fill(1));
    fx.net.flush();
    assert.equal(valueOf(early), 'valid');
    const big = recv(fx, 0, 1, 1);
    fx.net.flush();
    assert.equal((valueOf(big) as Uint8Array)[199], 1);
    bad.inject(fx);
    // A second bad frame, on another connection: the job is ending already, no second report.
    fx.net.injectFrame(2, 0, { kind: FrameKind.EAGER, source: 2, tag: -1, payloadType: 19 });
    fx.net.flush();
    assert.deepEqual(fx.fatal[0]!.map((e) => e.message), [`bad frame from rank 1 (loopback): ${bad.words}; closed that connection`]);
    assert.ok(fx.fatal[0]![0] instanceof ProtocolError);
    assert.deepEqual([fx.fatal[1], fx.fatal[2]], [[], []]);
  });
}
