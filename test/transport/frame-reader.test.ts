import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeHeader, encodeHeader, FrameKind, FrameReader, HEADER_BYTES, newHeader, type FrameHeader } from '../../src/transport/index.js';

interface Seen { kind: number; tag: number; payload: number[] | null }

function reader(limits = { maxEagerBytes: 1024, maxMessageBytes: 1 << 20 }, dataTarget = (h: FrameHeader) => new Uint8Array(h.length)) {
  const seen: Seen[] = [];
  const r = new FrameReader({
    onFrame: (h, payload) => seen.push({ kind: h.kind, tag: h.tag, payload: payload === null ? null : [...payload] }),
    dataTarget,
  }, limits);
  return { r, seen };
}

function frame(kind: FrameHeader['kind'], tag: number, payload: number[] = [], length = payload.length): Buffer {
  const h = newHeader();
  h.kind = kind;
  h.tag = tag;
  h.length = length;
  return Buffer.concat([encodeHeader(h), Buffer.from(payload)]);
}

/** A deterministic pseudo-random sequence, so a failure can be replayed. */
function* lcg(seed: number): Generator<number> {
  let x = seed;
  for (;;) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    yield x;
  }
}

test('frames split at every possible byte boundary come out whole and in order', () => {
  const stream = Buffer.concat([frame(FrameKind.EAGER, 1, [1, 2, 3]), frame(FrameKind.RTS, 2, [], 5000),
    frame(FrameKind.EAGER, 3, []), frame(FrameKind.CTS, 4), frame(FrameKind.DATA, 5, [9, 8, 7, 6])]);
  for (let cut = 0; cut <= stream.length; cut++) {
    const { r, seen } = reader();
    r.push(stream.subarray(0, cut));
    r.push(stream.subarray(cut));
    assert.deepEqual(seen.map((s) => s.tag), [1, 2, 3, 4, 5], `cut at ${cut}`);
    assert.deepEqual(seen[0]!.payload, [1, 2, 3]);
    assert.deepEqual(seen[4]!.payload, [9, 8, 7, 6]);
    assert.ok(r.atFrameBoundary);
  }
});

test('fuzz: random chunking of many random frames', () => {
  const rand = lcg(42);
  const next = (n: number): number => rand.next().value as number % n;
  for (let round = 0; round < 200; round++) {
    const frames: Buffer[] = [];
    const tags: number[] = [];
    for (let i = 0; i < 1 + next(20); i++) {
      const payload = Array.from({ length: next(300) }, () => next(256));
      frames.push(frame(FrameKind.EAGER, i, payload));
      tags.push(i);
    }
    const stream = Buffer.concat(frames);
    const { r, seen } = reader();
    for (let at = 0; at < stream.length;) {
      const size = 1 + next(70);
      r.push(stream.subarray(at, at + size));
      at += size;
    }
    assert.deepEqual(seen.map((s) => s.tag), tags);
  }
});

test('a truncated stream is not at a frame boundary', () => {
  const { r, seen } = reader();
  r.push(frame(FrameKind.EAGER, 1, [1, 2, 3]).subarray(0, HEADER_BYTES + 1));
  assert.equal(seen.length, 0);
  assert.equal(r.atFrameBoundary, false);
});

test('garbage, a wrong version or an unknown kind is a clean ProtocolError', () => {
  const { r } = reader();
  assert.throws(() => r.push(Buffer.from('GET / HTTP/1.1\r\nHost: example\r\n\r\n')), { name: 'ProtocolError', message: /protocol version 71, expected 1/ });
  const bad = frame(FrameKind.EAGER, 1);
  bad[1] = 99;
  assert.throws(() => reader().r.push(bad), { name: 'ProtocolError', message: /unknown kind 99/ });
});

test('oversized frames are refused before anything is allocated for them', () => {
  const { r } = reader({ maxEagerBytes: 1024, maxMessageBytes: 1 << 20 });
  assert.throws(() => r.push(frame(FrameKind.EAGER, 1, [], 4096)), { message: /eager payload of 4096 bytes exceeds the limit of 1024/ });
  const huge = frame(FrameKind.RTS, 1, [], 2 ** 40);
  assert.throws(() => reader().r.push(huge), { message: /length 1099511627776 exceeds the limit of 1048576 bytes/ });
});

test('DATA lands in the target the receiver registered, and must fit it exactly', () => {
  const target = new Uint8Array(4);
  const { r, seen } = reader(undefined, () => target);
  r.push(frame(FrameKind.DATA, 0, [1, 2, 3, 4]));
  assert.deepEqual([...target], [1, 2, 3, 4]);
  assert.equal(seen.length, 1);
  assert.throws(() => reader(undefined, () => new Uint8Array(2)).r.push(frame(FrameKind.DATA, 0, [1, 2, 3])), /DATA of 3 bytes for a receive of 2/);
});

/** Feeds `stream` as a socket with `onread` would: each read lands where nextReadTarget says. */
function feedLikeSocket(r: FrameReader, stream: Buffer, readBuffer: Uint8Array, maxRead: number): { direct: number } {
  let direct = 0;
  for (let at = 0; at < stream.length;) {
    const target = r.nextReadTarget(readBuffer);
    if (target !== readBuffer) direct++;
    const count = Math.min(target.length, maxRead, stream.length - at);
    target.set(stream.subarray(at, at + count));
    // The read buffer is reused: scribble over what the previous read left, as the next read would.
    if (target === readBuffer) readBuffer.fill(0xee, count);
    r.pushRead(target, count);
    at += count;
  }
  return { direct };
}

test('socket-style reads: large payloads land straight in their target, small frames pass through the read buffer', () => {
  const big = Array.from({ length: 100_000 }, (_, i) => i % 251);
  const eagerBig = Array.from({ length: 40_000 }, (_, i) => (i * 7) % 256);
  const targets: Uint8Array[] = [];
  const { r, seen } = reader({ maxEagerBytes: 1 << 20, maxMessageBytes: 1 << 20 }, (h) => {
    const target = new Uint8Array(h.length);
    targets.push(target);
    return target;
  });
  const stream = Buffer.concat([frame(FrameKind.EAGER, 1, [1, 2, 3]), frame(FrameKind.DATA, 2, big),
    frame(FrameKind.EAGER, 3, [4]), frame(FrameKind.EAGER, 4, eagerBig), frame(FrameKind.CTS, 5)]);
  for (const maxRead of [7, 1000, 16_384, 65_536, 1 << 20]) {
    seen.length = 0;
    const { direct } = feedLikeSocket(r, stream, new Uint8Array(4096), maxRead);
    assert.deepEqual(seen.map((s) => s.tag), [1, 2, 3, 4, 5], `reads of ${maxRead}`);
    assert.deepEqual(seen[0]!.payload, [1, 2, 3]);
    assert.deepEqual(seen[1]!.payload, big);
    assert.deepEqual(seen[2]!.payload, [4]);
    assert.deepEqual(seen[3]!.payload, eagerBig);
    assert.ok(direct > 0, `reads of ${maxRead}: some read went straight into a payload`);
    assert.ok(r.atFrameBoundary);
  }
  assert.deepEqual([...targets[0]!], big);
});

test('headers keep every field at the ends of its range, and an envelope that does not fit is refused before it is written', () => {
  const h = newHeader();
  Object.assign(h, { kind: FrameKind.RTS, payloadType: 255, flags: 7, context: 0xffff_ffff, source: -1, tag: 0x7fff_ffff,
    rendezvousId: 0xffff_ffff, length: 2 ** 40 + 5 });
  const back = decodeHeader(encodeHeader(h), 0, newHeader(), { maxEagerBytes: 0, maxMessageBytes: 2 ** 41 });
  assert.deepEqual(back, h);
  for (const bad of [{ context: 2 ** 32 }, { context: -1 }, { tag: 2 ** 31 }, { source: 1.5 }, { rendezvousId: -1 }, { length: -1 }, { length: 2 ** 53 }]) {
    assert.throws(() => encodeHeader({ ...newHeader(), ...bad }), { name: 'ProtocolError', message: /cannot encode frame header: .* must be 32-bit integers/ },
      JSON.stringify(bad));
  }
});
