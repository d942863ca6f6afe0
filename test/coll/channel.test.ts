import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Failure, fromWire, toWire } from '../../src/coll/channel.js';
import { PayloadType, decode, encode } from '../../src/codec/index.js';

/** What the peer's channel makes of a value: through the wire form and the codec, as on the network. */
function overTheWire(value: unknown): { type: number; back: unknown } {
  const payload = encode(toWire(value));
  return { type: payload.type, back: fromWire(decode(payload.type, payload.bytes, false)) };
}

test('collective primitives travel bare, with the codec\'s own codes, not structured clone', () => {
  for (const value of [0, -0, 1.5, NaN, 'text', '', true, false, null, undefined]) {
    const { type, back } = overTheWire(value);
    assert.notEqual(type, PayloadType.CLONE, `${String(value)} went by structured clone`);
    assert.ok(Object.is(back, value), `${String(value)} came back as ${String(back)}`);
  }
  assert.equal(overTheWire(12n).back, 12n);
});

test('typed arrays travel raw; objects and arrays come back whole, even ones that look like wire forms', () => {
  const doubles = new Float64Array([1, 2, 3]);
  const raw = overTheWire(doubles);
  assert.equal(raw.type, PayloadType.FLOAT64);
  assert.deepEqual(raw.back, doubles);
  for (const value of [[1, 2], [], [[5]], { failed: ['Error', 'not a failure', null, 0] }, new Map([[1, 'a']])]) {
    assert.deepEqual(overTheWire(value).back, value);
  }
});

test('a failure comes back as a Failure with its kind, message, class and origin', () => {
  const back = overTheWire(new Failure('MPIError', 'counts differ', 'ERR_COUNT', 3)).back;
  assert.ok(back instanceof Failure);
  assert.deepEqual({ ...back }, { kind: 'MPIError', message: 'counts differ', errorClass: 'ERR_COUNT', origin: 3 });
});

test('a failure names the call once, though the engine already put it in front of its message', () => {
  assert.equal(new Failure('TypeError', 'allgather: cannot send this value: a function', null, 1).toError('allgather', 1).message,
    'allgather: cannot send this value: a function');
  assert.equal(new Failure('TypeError', 'allgather: cannot send this value: a function', null, 1).toError('allgather', 0).message,
    'allgather: rank 1 failed: cannot send this value: a function');
  assert.equal(new Failure('MPIError', 'counts differ', 'ERR_COUNT', 0).toError('gatherv', 0).message, 'gatherv: counts differ');
});
