/**
 * Property-based tests (fast-check) of the two frame readers: the socket
 * stream's FrameReader and the shared-memory RingReader. Any sequence of
 * valid frames, split at any byte boundaries (or written into a ring of any
 * size and read at any moments), comes out whole and in order; any bytes at
 * all either come out as frames or fail with a ProtocolError, and nothing is
 * allocated beyond the limits first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeHeader, FrameKind, FrameReader, HEADER_BYTES, newHeader, type FrameHeader } from '../../src/transport/index.js';
import { Ring, RingReader, RingWriter, ringBytes } from '../../src/transport/shm-ring.js';

const LIMITS = { maxEagerBytes: 4096, maxMessageBytes: 1 << 16 };

interface Frame { kind: FrameHeader['kind']; tag: number; source: number; payload: Uint8Array | null; length: number }

/** The kinds without payload or length, fuzzed alike. */
const PAYLOADLESS_KINDS = [FrameKind.CTS, FrameKind.CREDIT, FrameKind.BYE, FrameKind.DOORBELL, FrameKind.WRITTEN, FrameKind.READ_FROM, FrameKind.READ_DONE] as const;

const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({ tag: fc.integer({ min: 0, max: 2 ** 31 - 1 }), source: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    payload: fc.uint8Array({ maxLength: 600 }) })
    .map(({ tag, source, payload }) => ({ kind: FrameKind.EAGER, tag, source, payload, length: payload.length })),
  fc.record({ tag: fc.nat(), length: fc.integer({ min: 0, max: LIMITS.maxMessageBytes }) })
    .map(({ tag, length }) => ({ kind: FrameKind.RTS, tag, source: 0, payload: null, length })),
  fc.record({ tag: fc.nat(), payload: fc.uint8Array({ minLength: 1, maxLength: 3000 }) })
    .map(({ tag, payload }) => ({ kind: FrameKind.DATA, tag, source: 0, payload, length: payload.length })),
  fc.constantFrom(...PAYLOADLESS_KINDS).map((kind) => ({ kind, tag: 5, source: 0, payload: null, length: 0 })),
);

test('the fuzzed frames cover every frame kind', () => {
  const fuzzed = [FrameKind.EAGER, FrameKind.RTS, FrameKind.DATA, ...PAYLOADLESS_KINDS];
  assert.deepEqual(new Set(fuzzed), new Set(Object.values(FrameKind)));
});

function headerOf(f: Frame): FrameHeader {
  const h = newHeader();
  h.kind = f.kind;
  h.tag = f.tag;
  h.source = f.source;
  h.length = f.length;
  return h;
}

function bytesOf(frames: Frame[]): Buffer {
  return Buffer.concat(frames.flatMap((f) => [encodeHeader(headerOf(f)), Buffer.from(f.payload ?? [])]));
}

interface Seen { kind: number; tag: number; source: number; length: number; payload: number[] | null }

function seenOf(f: Frame): Seen {
  return { kind: f.kind, tag: f.tag, source: f.source, length: f.length, payload: f.payload === null ? null : [...f.payload] };
}

function collector(): { seen: Seen[]; onFrame: (h: FrameHeader, p: Uint8Array | null) => void; dataTarget: (h: FrameHeader) => Uint8Array } {
  const seen: Seen[] = [];
  return {
    seen,
    onFrame: (h, p) => seen.push({ kind: h.kind, tag: h.tag, source: h.source, length: h.length, payload: p === null ? null : [...p] }),
    dataTarget: (h) => new Uint8Array(h.length),
  };
}

/** Cut points into a stream of `length` bytes. */
const cutsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 40 });

function chunks(stream: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => Math.floor(c * stream.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of [...at, stream.length]) {
    out.push(stream.subarray(from, cut));
    from = cut;
  }
  return out;
}

test('FrameReader: valid frames split anywhere come out whole and in order', () => {
  fc.assert(fc.property(fc.array(frameArb, { maxLength: 30 }), cutsArb, (frames, cuts) => {
    const c = collector();
    const reader = new FrameReader(c, LIMITS);
    for (const chunk of chunks(bytesOf(frames), cuts)) reader.push(chunk);
    assert.deepEqual(c.seen, frames.map(seenOf));
    assert.ok(reader.atFrameBoundary);
  }), { numRuns: 400 });
});

test('FrameReader: any bytes in any chunks give frames or a ProtocolError, nothing else, nothing over the limits', () => {
  const anyBytes = fc.oneof(
    fc.uint8Array({ maxLength: 2000 }),
    // Mostly valid streams with a few bytes changed: headers that almost parse.
    fc.tuple(fc.array(frameArb, { minLength: 1, maxLength: 8 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }))
      .map(([frames, edits]) => {
        const b = bytesOf(frames);
        for (const [at, value] of edits) b[at % b.length] = value;
        return new Uint8Array(b);
      }),
  );
  fc.assert(fc.property(anyBytes, cutsArb, (bytes, cuts) => {
    let biggest = 0;
    const reader = new FrameReader({
      onFrame: (h) => {
        biggest = Math.max(biggest, h.length);
      },
      dataTarget: (h) => {
        assert.ok(h.length <= LIMITS.maxMessageBytes);
        return new Uint8Array(h.length);
      },
    }, LIMITS);
    try {
      for (const chunk of chunks(Buffer.from(bytes), cuts)) reader.push(chunk);
    } catch (err) {
      assert.equal((err as Error).name, 'ProtocolError', String(err));
    }
    assert.ok(biggest <= LIMITS.maxMessageBytes);
  }), { numRuns: 1000 });
});

/** Writes `frames` into a ring of `capacity` and reads them, interleaved as `schedule` says. */
function throughRing(frames: Frame[], capacity: number, schedule: boolean[]): Seen[] {
  const memory = new ArrayBuffer(ringBytes(capacity));
  const writer = new RingWriter(new Ring(memory, 0, capacity));
  const c = collector();
  const reader = new RingReader(new Ring(memory, 0, capacity), c, LIMITS);
  let next = 0;
  for (let step = 0; next < frames.length || writer.queuedBytes > 0; step++) {
    assert.ok(step < 1_000_000, 'the ring never drained');
    // Write the next frame or read, as the schedule says (then the other way round once one side is done).
    const write = next < frames.length && (schedule[step % Math.max(1, schedule.length)] ?? true);
    if (write) {
      const f = frames[next++]!;
      writer.send(headerOf(f), f.payload);
    } else {
      const moved = reader.poll(1 + (step % 3));
      const flushed = writer.flush();
      // Nothing to read and nothing queued: write after all, or the schedule would spin for ever.
      if (!moved && !flushed && writer.queuedBytes === 0 && next < frames.length) {
        const f = frames[next++]!;
        writer.send(headerOf(f), f.payload);
      }
    }
  }
  while (reader.poll()) { /* the rest */ }
  assert.ok(reader.atFrameBoundary);
  return c.seen;
}

test('RingReader: frames through a ring of any size, read at any moments, come out whole and in order', () => {
  const capacityArb = fc.integer({ min: 6, max: 13 }).map((bits) => 2 ** bits);
  fc.assert(fc.property(fc.array(frameArb, { maxLength: 25 }), capacityArb, fc.array(fc.boolean(), { minLength: 1, maxLength: 20 }),
    (frames, capacity, schedule) => {
      assert.deepEqual(throughRing(frames, capacity, schedule), frames.map(seenOf));
    }), { numRuns: 300 });
});

test('RingReader: any bytes in the ring give frames or a ProtocolError, nothing else', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 3000 }), fc.integer({ min: 1, max: 500 }), (bytes, step) => {
    const capacity = 1024;
    const memory = new ArrayBuffer(ringBytes(capacity));
    const ring = new Ring(memory, 0, capacity);
    const reader = new RingReader(new Ring(memory, 0, capacity), {
      onFrame: () => {},
      dataTarget: (h) => {
        assert.ok(h.length <= LIMITS.maxMessageBytes);
        return new Uint8Array(h.length);
      },
    }, LIMITS);
    try {
      for (let at = 0; at < bytes.length;) {
        at += ring.write(bytes.subarray(at, at + step));
        reader.poll();
      }
      reader.poll();
    } catch (err) {
      assert.equal((err as Error).name, 'ProtocolError', String(err));
    }
  }), { numRuns: 1000 });
});

test('a header split from its payload at every byte is still one frame (a worked example of the property)', () => {
  const f: Frame = { kind: FrameKind.EAGER, tag: 9, source: 1, payload: new Uint8Array([1, 2, 3]), length: 3 };
  const stream = bytesOf([f, f]);
  for (let cut = 0; cut <= HEADER_BYTES + 3; cut++) {
    const c = collector();
    const reader = new FrameReader(c, LIMITS);
    reader.push(stream.subarray(0, cut));
    reader.push(stream.subarray(cut));
    assert.equal(c.seen.length, 2);
  }
});
