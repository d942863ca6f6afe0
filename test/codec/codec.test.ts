import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode, PayloadType } from '../../src/codec/index.js';

function roundTrip(value: unknown): unknown {
  const { type, bytes } = encode(value);
  return decode(type, bytes, false);
}

test('typed arrays travel as raw bytes and come back as the same type', () => {
  const arrays = [new Int8Array([-1]), new Uint8Array([1]), new Uint8ClampedArray([2]), new Int16Array([-3]),
    new Uint16Array([4]), new Int32Array([-5]), new Uint32Array([6]), new Float32Array([0.5]), new Float64Array([Math.E]),
    new BigInt64Array([-7n]), new BigUint64Array([8n])];
  for (const a of arrays) {
    const { type, bytes } = encode(a);
    assert.notEqual(type, PayloadType.CLONE);
    assert.equal(bytes.byteLength, a.byteLength);
    const back = decode(type, bytes, false);
    assert.equal(Object.getPrototypeOf(back), Object.getPrototypeOf(a));
    assert.deepEqual(back, a);
  }
});

test('a typed array view at an odd offset is copied into alignment', () => {
  const backing = new Uint8Array(17);
  const view = new Float64Array(new Uint8Array(backing.buffer, 0, 16).slice().buffer);
  view[1] = 2.5;
  const bytes = new Uint8Array(backing.buffer, 1, 16);
  bytes.set(new Uint8Array(view.buffer));
  const back = decode(PayloadType.FLOAT64, bytes, true) as Float64Array;
  assert.equal(back[1], 2.5);
});

test('Buffer, DataView and ArrayBuffer keep their kind', () => {
  assert.ok(Buffer.isBuffer(roundTrip(Buffer.from('hi'))));
  assert.ok(roundTrip(new DataView(new ArrayBuffer(4))) instanceof DataView);
  const ab = roundTrip(new Uint8Array([1, 2]).buffer);
  assert.ok(ab instanceof ArrayBuffer);
  assert.deepEqual([...new Uint8Array(ab as ArrayBuffer)], [1, 2]);
});

test('structured values: Map, Set, Date, BigInt, nested and cyclic', () => {
  const cyclic: { me?: unknown } = {};
  cyclic.me = cyclic;
  const value = { m: new Map([[1, 'a']]), s: new Set(['x']), d: new Date(5), b: 2n ** 70n, n: [1, [2]], cyclic };
  const back = roundTrip(value) as typeof value;
  assert.deepEqual(back.m, value.m);
  assert.deepEqual(back.s, value.s);
  assert.deepEqual(back.d, value.d);
  assert.equal(back.b, value.b);
  assert.equal(back.cyclic.me, back.cyclic);
});

test('functions and symbols cannot be sent: a TypeError that says what', () => {
  assert.throws(() => encode(function named() {}), { name: 'TypeError', message: /cannot send this value: the value is a function \(named\), which cannot be cloned/ });
  assert.throws(() => encode(Symbol('s')), { name: 'TypeError', message: /the value is a symbol \(Symbol\(s\)\), which cannot be cloned/ });
  assert.throws(() => encode({ nested: { list: [1, () => 1] } }), { name: 'TypeError', message: /cannot send this value: the value.nested.list\[1\] is a function \(anonymous\)/ });
});

test('class instances are refused, since they would arrive without their class', () => {
  class Particle {
    #mass = 1;
    x = 0;
    get mass(): number { return this.#mass; }
  }
  assert.throws(() => encode(new Particle()), { name: 'TypeError', message: /the value is an instance of Particle, which would arrive as a plain object without its class/ });
  assert.throws(() => encode({ items: new Map([['p', new Particle()]]) }), { message: /the value.items.get\("p"\) is an instance of Particle/ });
  // Errors, null-prototype objects, boxed primitives and RegExps are fine.
  assert.doesNotThrow(() => encode([new Error('e'), Object.create(null), new RegExp('x'), new Number(1)]));
});

test('numbers, strings, booleans, null and undefined have codes of their own and come back exactly', () => {
  const values: unknown[] = [0, -0, 1.5, -(2 ** 53), Number.MAX_VALUE, Number.MIN_VALUE, Infinity, -Infinity, NaN,
    '', 'hello', 'π ≈ 3.14159, 日本語, 🙂', 'x'.repeat(100_000), true, false, null, undefined];
  for (const value of values) {
    const { type, bytes } = encode(value);
    assert.notEqual(type, PayloadType.CLONE, `${String(value).slice(0, 20)} takes its own code`);
    assert.ok(Object.is(decode(type, bytes, false), value), `${String(value).slice(0, 20)} comes back`);
  }
  assert.equal(encode(3).bytes.length, 8);
  assert.equal(encode(null).bytes.length, 0);
});

test('a string with a lone surrogate goes through structured clone, which keeps it', () => {
  const lone = 'a\ud800b';
  const { type, bytes } = encode(lone);
  assert.equal(type, PayloadType.CLONE);
  assert.equal(decode(type, bytes, false), lone);
});

test('a number payload of the wrong size and an unknown type code are clean errors', () => {
  assert.throws(() => decode(PayloadType.NUMBER, new Uint8Array(3), false), /a number payload has 3 bytes, not 8/);
  assert.throws(() => decode(99, new Uint8Array(0), false), /unknown payload type code 99/);
});

test('a typed array sent again is encoded from its current contents, and a detached one is refused as on its first send', () => {
  const values = new Float64Array([1, 2]);
  const object = { values };
  assert.deepEqual(decode(encode(values).type, Uint8Array.from(encode(values).bytes), false), new Float64Array([1, 2]));
  assert.deepEqual(decode(encode(object).type, Uint8Array.from(encode(object).bytes), false), { values: new Float64Array([1, 2]) });
  values[1] = 5;
  assert.deepEqual(decode(encode(values).type, Uint8Array.from(encode(values).bytes), false), new Float64Array([1, 5]));
  assert.deepEqual(decode(encode(object).type, Uint8Array.from(encode(object).bytes), false), { values: new Float64Array([1, 5]) });
  // Two views of one buffer: a shared reference, which only structured clone carries.
  assert.equal(encode({ a: values, b: new Uint8Array(values.buffer) }).type, PayloadType.CLONE);
  structuredClone(values.buffer, { transfer: [values.buffer] });
  assert.equal(values.byteLength, 0);
  assert.throws(() => encode(values), TypeError);
  assert.throws(() => encode(object), { name: 'TypeError', message: /cannot send this value/ });
});
