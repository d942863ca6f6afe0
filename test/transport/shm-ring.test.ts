import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { encodeHeader, FrameKind, newHeader, type FrameHeader } from '../../src/transport/index.js';
import { Ring, RingReader, RingWriter, ringBytes, RING_CONTROL_BYTES } from '../../src/transport/shm-ring.js';
import { attachFront, attachInbox, inboxToken, loadShmLib, OwnInbox } from '../../src/transport/shm-segment.js';
import { BOARD_BYTES, BOARD_ENTRIES } from '../../src/transport/shm-board.js';

const LIMITS = { maxEagerBytes: 1 << 20, maxMessageBytes: 1 << 26 };

interface Seen { kind: number; tag: number; payload: Buffer | null }

/** A writer and a reader on one ring in ordinary memory, as the two processes see it. */
function pair(capacity: number, dataTarget = (h: FrameHeader) => new Uint8Array(h.length)) {
  const memory = new ArrayBuffer(ringBytes(capacity) + 64);
  const seen: Seen[] = [];
  const writer = new RingWriter(new Ring(memory, 64, capacity));
  const reader = new RingReader(new Ring(memory, 64, capacity), {
    onFrame: (h, payload) => seen.push({ kind: h.kind, tag: h.tag, payload: payload === null ? null : Buffer.from(payload) }),
    dataTarget,
  }, LIMITS);
  return { writer, reader, seen };
}

function header(kind: FrameHeader['kind'], tag: number, length: number): FrameHeader {
  const h = newHeader();
  h.kind = kind;
  h.tag = tag;
  h.length = length;
  return h;
}

function drain(reader: RingReader, writer: RingWriter): void {
  for (let turns = 0; turns < 1_000_000; turns++) {
    const moved = reader.poll();
    const flushed = writer.flush();
    if (!moved && !flushed && writer.queuedBytes === 0) return;
  }
  assert.fail('ring never drained');
}

test('frames wrap around the end of the ring many times and come out whole and in order', () => {
  const { writer, reader, seen } = pair(256);
  const sent: Buffer[] = [];
  for (let i = 0; i < 500; i++) {
    const payload = randomBytes(i % 97);
    sent.push(payload);
    writer.send(header(FrameKind.EAGER, i, payload.length), payload);
    if (i % 3 === 2) drain(reader, writer);
  }
  drain(reader, writer);
  assert.deepEqual(seen.map((s) => s.tag), sent.map((_, i) => i));
  seen.forEach((s, i) => assert.ok(s.payload!.equals(sent[i]!), `frame ${i}`));
});

test('a full ring holds frames back in order until the reader frees room', () => {
  const { writer, reader, seen } = pair(128);
  const written: number[] = [];
  for (let i = 0; i < 6; i++) writer.send(header(FrameKind.EAGER, i, 40), Buffer.alloc(40, i), () => written.push(i));
  // 128 bytes hold one 72-byte frame and part of the next.
  assert.deepEqual(written, [0]);
  assert.equal(writer.queuedBytes, 6 * 72 - 128);
  assert.equal(writer.flush(), false, 'no room, nothing moves');
  reader.poll();
  assert.deepEqual(seen.map((s) => s.tag), [0]);
  drain(reader, writer);
  assert.deepEqual(written, [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(seen.map((s) => s.tag), [0, 1, 2, 3, 4, 5]);
  assert.ok(seen.every((s, i) => s.payload!.every((b) => b === i)));
  assert.equal(writer.queuedBytes, 0);
});

test('a frame many times larger than the ring streams through, DATA straight into the target', () => {
  const target = new Uint8Array(100_000);
  const { writer, reader, seen } = pair(1024, () => target);
  const payload = randomBytes(target.length);
  let done = false;
  writer.send(header(FrameKind.DATA, 7, payload.length), payload, () => { done = true; });
  assert.equal(done, false);
  drain(reader, writer);
  assert.equal(done, true);
  assert.equal(seen.length, 1);
  assert.ok(Buffer.from(target).equals(payload));
  assert.equal(seen[0]!.kind, FrameKind.DATA);
});

test('frames without payload and empty payloads pass', () => {
  const { writer, reader, seen } = pair(64);
  writer.send(header(FrameKind.RTS, 1, 5000), null);
  writer.send(header(FrameKind.EAGER, 2, 0), new Uint8Array(0));
  writer.send(header(FrameKind.CTS, 3, 0), null);
  drain(reader, writer);
  assert.deepEqual(seen.map((s) => [s.kind, s.tag, s.payload?.length ?? null]),
    [[FrameKind.RTS, 1, null], [FrameKind.EAGER, 2, 0], [FrameKind.CTS, 3, null]]);
});

test('a DATA frame whose target has the wrong size, and an oversized eager frame, are protocol errors', () => {
  const wrongSize = pair(256, () => new Uint8Array(3));
  wrongSize.writer.send(header(FrameKind.DATA, 1, 4), new Uint8Array(4));
  assert.throws(() => wrongSize.reader.poll(), /DATA of 4 bytes for a receive of 3/);
  const big = pair(256);
  big.writer.send(header(FrameKind.EAGER, 1, LIMITS.maxEagerBytes + 1), null);
  assert.throws(() => big.reader.poll(), /eager payload of 1048577 bytes exceeds the limit of 1048576/);
});

test('a wrong version, an unknown kind or a length beyond the limit gives the socket reader\'s errors', () => {
  const cases: [(bytes: Uint8Array) => void, RegExp][] = [
    [(bytes) => { bytes[0] = 9; }, /^bad frame: protocol version 9, expected 1/],
    [(bytes) => { bytes[1] = 99; }, /^bad frame: unknown kind 99$/],
    [(bytes) => { bytes[1] = FrameKind.RTS; bytes[28] = 1; }, /^bad frame: length 4294967296 exceeds the limit of 67108864 bytes$/],
  ];
  for (const [spoil, message] of cases) {
    const { writer, reader } = pair(256);
    const bytes = encodeHeader(header(FrameKind.EAGER, 1, 0));
    spoil(bytes);
    writer.ring.write(bytes);
    assert.throws(() => reader.poll(), { name: 'ProtocolError', message });
  }
});

test('a failed writer reports the error to queued and later frames', () => {
  const { writer } = pair(64);
  const errors: (string | undefined)[] = [];
  writer.send(header(FrameKind.EAGER, 1, 100), new Uint8Array(100), (e) => errors.push(e?.message));
  writer.fail(new Error('peer gone'));
  writer.send(header(FrameKind.EAGER, 2, 1), new Uint8Array(1), (e) => errors.push(e?.message));
  assert.deepEqual(errors, ['peer gone', 'peer gone']);
  assert.equal(writer.queuedBytes, 0);
});

test('the writer-waiting flag is taken once per announcement', () => {
  const { writer, reader } = pair(64);
  assert.equal(reader.ring.takeWriterWaiting(), false);
  writer.ring.setWriterWaiting(true);
  assert.equal(reader.ring.takeWriterWaiting(), true);
  assert.equal(reader.ring.takeWriterWaiting(), false);
});

test('ring capacity must be a power of two', () => {
  assert.throws(() => new Ring(new ArrayBuffer(RING_CONTROL_BYTES + 100), 0, 100), /ring capacity 100 must be a power of two from 64 to 2\^30 bytes/);
});

test('an inbox maps through /proc/<pid>/fd, checks its owner, and its rings work across both mappings', (t) => {
  const lib = loadShmLib();
  if (lib instanceof Error) {
    t.skip(`no shared memory here: ${lib.message}`);
    return;
  }
  const key = randomBytes(32);
  const own = OwnInbox.create(lib, 3);
  try {
    const mine = own.open(3, inboxToken(key, 3, process.pid), 2, 4096);
    const theirs = attachInbox(lib, process.pid, own.fd, 3, inboxToken(key, 3, process.pid), 2, 4096, 1);
    const bytes = randomBytes(10_000);
    const target = new Uint8Array(bytes.length);
    const writer = new RingWriter(theirs.ring(1));
    const reader = new RingReader(mine.ring(1), { onFrame: () => {}, dataTarget: () => target }, LIMITS);
    writer.send(header(FrameKind.DATA, 1, bytes.length), bytes);
    drain(reader, writer);
    assert.ok(Buffer.from(target).equals(bytes));
    mine.setAsleep(true);
    assert.equal(theirs.takeAsleep(), true);
    assert.equal(theirs.takeAsleep(), false);
    // A peer maps only the ring it writes.
    assert.throws(() => theirs.ring(0), /ring 0 is not mapped here \(only 1\)/);
    assert.equal(theirs.buffer.byteLength, 4096 + BOARD_BYTES, 'the header page and the board slot alone');
    // The board slot is one memory in both mappings, and so is the offer word.
    const entry = theirs.board.view(5, Int32Array);
    entry[0] = 77;
    mine.board.publish(5, 9, 2, 4, 0xfedcba98);
    assert.equal(theirs.board.callAt(5), 5);
    assert.deepEqual([theirs.board.code(5), theirs.board.aux(5), theirs.board.length(5), theirs.board.signature(5)], [9, 2, 4, 0xfedcba98]);
    assert.equal(mine.board.view(5, Int32Array)[0], 77);
    assert.equal(theirs.board.callAt(5 + BOARD_ENTRIES), 5, 'call 21 goes where call 5 is');
    assert.equal(theirs.boardOffer, 0);
    mine.setBoardOffer(1);
    assert.equal(theirs.boardOffer, 1);
    const front = attachFront(lib, process.pid, own.fd, 3, inboxToken(key, 3, process.pid), 2, 4096);
    assert.equal(front.buffer.byteLength, 4096 + BOARD_BYTES);
    assert.equal(front.board.callAt(5), 5);
    assert.throws(() => front.ring(1), /ring 1 is not mapped here/);
    assert.throws(() => attachInbox(lib, process.pid, own.fd, 3, inboxToken(randomBytes(32), 3, process.pid), 2, 4096, 1),
      /shared-memory inbox of rank 3: owned by another rank or job/);
    assert.throws(() => attachInbox(lib, process.pid, own.fd, 4, inboxToken(key, 4, process.pid), 2, 4096, 1),
      /shared-memory inbox of rank 4: owned by another rank or job/);
    assert.throws(() => attachInbox(lib, process.pid, own.fd, 3, inboxToken(key, 3, process.pid), 9, 4096, 1, 20),
      /shared-memory inbox of rank 3 \(\/proc\/\d+\/fd\/\d+\) was not sized within 20 ms/);
  } finally {
    own.close();
  }
});

test('a whole eager frame goes up as a view of the ring, held until onFrame returns; a wrapped one whole from a scratch buffer', () => {
  const capacity = 256;
  const memory = new ArrayBuffer(ringBytes(capacity) + 64);
  const writerRing = new Ring(memory, 64, capacity);
  const writer = new RingWriter(writerRing);
  const seen: { owned: boolean; inRing: boolean; freeDuring: number; bytes: Buffer }[] = [];
  const reader = new RingReader(new Ring(memory, 64, capacity), {
    onFrame: (_h, payload, owned) => seen.push({
      owned, inRing: payload!.buffer === memory, freeDuring: writerRing.free(), bytes: Buffer.from(payload!),
    }),
    dataTarget: () => assert.fail('no DATA frames here'),
  }, LIMITS);
  const first = randomBytes(100);
  writer.send(header(FrameKind.EAGER, 1, first.length), first);
  reader.poll();
  // 132 bytes in the ring: the frame is not released while the receiver looks at it.
  assert.deepEqual(seen.map(({ owned, inRing, freeDuring }) => ({ owned, inRing, freeDuring })), [{ owned: false, inRing: true, freeDuring: capacity - 132 }]);
  assert.equal(writerRing.free(), capacity);
  // The next frame starts at 132 and its payload crosses the end of the ring.
  const second = randomBytes(150);
  writer.send(header(FrameKind.EAGER, 2, second.length), second);
  reader.poll();
  assert.equal(seen[1]!.owned, false);
  assert.equal(seen[1]!.inRing, false);
  assert.equal(writerRing.free(), capacity);
  assert.ok(seen[0]!.bytes.equals(first) && seen[1]!.bytes.equals(second));
});

test('an eager frame that fits the ring is delivered only once all of it is in; a larger one goes piecewise', () => {
  const capacity = 256;
  const memory = new ArrayBuffer(ringBytes(capacity) + 64);
  const writer = new RingWriter(new Ring(memory, 64, capacity));
  const seen: { owned: boolean; bytes: Buffer }[] = [];
  const reader = new RingReader(new Ring(memory, 64, capacity), {
    onFrame: (_h, payload, owned) => seen.push({ owned, bytes: Buffer.from(payload!) }),
    dataTarget: () => assert.fail('no DATA frames here'),
  }, LIMITS);
  // Fill the ring with one frame, queue a second that fits only once the first is read.
  const first = randomBytes(200);
  const second = randomBytes(180);
  writer.send(header(FrameKind.EAGER, 1, first.length), first);
  writer.send(header(FrameKind.EAGER, 2, second.length), second);
  assert.ok(writer.queuedBytes > 0);
  reader.poll();
  // The second frame is partly in the ring now; the reader waits for the rest instead of copying pieces.
  writer.flush();
  assert.equal(seen.length, 1);
  reader.poll();
  writer.flush();
  reader.poll();
  assert.deepEqual(seen.map((x) => x.owned), [false, false]);
  assert.ok(seen[1]!.bytes.equals(second));
  // 300 bytes never fit a 256-byte ring at once: piecewise, into a buffer of the receiver's own.
  const big = randomBytes(300);
  writer.send(header(FrameKind.EAGER, 3, big.length), big);
  drain(reader, writer);
  assert.equal(seen[2]!.owned, true);
  assert.ok(seen[2]!.bytes.equals(big));
});
