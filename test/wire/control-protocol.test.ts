import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineDecoder, type ControlMessage } from '../../src/wire/index.js';

test('control lines split across any chunks come out whole, in order', () => {
  const text = '{"t":"finalize","rank":1}\n{"t":"finalized"}\n\n{"t":"done","rank":3,"how":"exited"}\n';
  for (let cut = 0; cut <= text.length; cut++) {
    for (let cut2 = cut; cut2 <= text.length; cut2 += 7) {
      const got: ControlMessage[] = [];
      const decoder = new LineDecoder((m) => got.push(m));
      decoder.push(Buffer.from(text.slice(0, cut)));
      decoder.push(text.slice(cut, cut2));
      decoder.push(Buffer.from(text.slice(cut2)));
      assert.deepEqual(got.map((m) => m.t), ['finalize', 'finalized', 'done'], `cuts ${cut}, ${cut2}`);
    }
  }
});

test('a line longer than the limit fails before it is kept, in one chunk or many; the limit may change as a connection proves itself', () => {
  let limit = 16;
  const decoder = new LineDecoder(() => {}, () => limit);
  assert.throws(() => decoder.push('x'.repeat(17)), /control line longer than 16 bytes/);
  const many = new LineDecoder(() => {}, () => limit);
  for (let i = 0; i < 4; i++) many.push('xxxx');
  assert.throws(() => many.push('x'), /control line longer than 16 bytes/);
  limit = 32;
  const got: ControlMessage[] = [];
  const growing = new LineDecoder((m) => got.push(m), () => limit);
  growing.push('{"t":"finalized"}\n');
  limit = 1 << 20;
  growing.push(`{"t":"abort","rank":0,"code":1,"message":"${'y'.repeat(100_000)}"}\n`);
  assert.deepEqual(got.map((m) => m.t), ['finalized', 'abort']);
});

test('before its proof a connection\'s first 64 KiB chunk without a newline is refused; a proven 16 MiB line is kept and parsed', () => {
  const decoder = new LineDecoder(() => {}, () => 16 * 1024);
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  assert.throws(() => decoder.push(chunk), /longer than 16384 bytes/);
  const got: ControlMessage[] = [];
  const large = new LineDecoder((m) => got.push(m));
  large.push('{"t":"finalized","pad":"');
  for (let i = 0; i < 256; i++) large.push(chunk);
  large.push('"}\n');
  assert.deepEqual(got.map((m) => m.t), ['finalized']);
});

test('a line that is not a JSON object with a kind is an error', () => {
  assert.throws(() => new LineDecoder(() => {}).push('not json\n'), SyntaxError);
  assert.throws(() => new LineDecoder(() => {}).push('{"x":1}\n'), /control message without a kind/);
});
