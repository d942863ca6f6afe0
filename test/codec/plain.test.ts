import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { serialize, deserialize } from 'node:v8';
import { inspect } from 'node:util';
import { BytesOwner, decode, encode, PayloadType } from '../../src/codec/index.js';
import { PlainTag } from '../../src/codec/plain-format.js';

/** What structured clone makes of a value: the plain format must give exactly this. */
function structuredCopy(value: unknown): unknown {
  return deserialize(serialize(value));
}

function nested(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = { inner: value };
  return value;
}

test('plain objects, dense arrays, primitives and whole typed arrays go in the plain format and come back as structured clone gives them', () => {
  const values: unknown[] = [
    { bytes: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) },
    {},
    [],
    [0, -0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 1.5, NaN, Infinity, -Infinity, Number.MIN_VALUE],
    { text: 'π ≈ 3.14159, 日本語, 🙂', long: 'é'.repeat(500), ascii: 'a'.repeat(100), empty: '' },
    { flags: [true, false, null, undefined], deep: { a: { b: { c: [[], [[]]] } } } },
    { 10: 'ten', 2: 'two', b: 1, a: 2 },
    Array.from({ length: 20 }, (_, i) => ({ id: i, name: `item${i}`, score: i / 3 })),
    { f32: new Float32Array([0.5, -2]), i8: new Int8Array([-1]), u8c: new Uint8ClampedArray([255]), i16: new Int16Array([-3]),
      u16: new Uint16Array([4]), i32: new Int32Array([-5]), u32: new Uint32Array([6]), f64: new Float64Array([Math.E]),
      b64: new BigInt64Array([-7n]), bu64: new BigUint64Array([8n]), u8: new Uint8Array(0) },
    nested(63),
    Array.from({ length: 1024 }, (_, i) => i),
  ];
  for (const value of values) {
    const { type, bytes } = encode(value);
    assert.equal(type, PayloadType.PLAIN, `${inspect(value).slice(0, 60)} is plain`);
    const back = decode(type, bytes, false);
    assert.deepStrictEqual(back, structuredCopy(value));
  }
});

test('-0 comes back as -0 and key order is kept', () => {
  const back = decode(PayloadType.PLAIN, encode({ z: -0, a: [-0] }).bytes, false) as { z: number; a: number[] };
  assert.ok(Object.is(back.z, -0));
  assert.ok(Object.is(back.a[0], -0));
  assert.deepEqual(Object.keys(back), ['z', 'a']);
});

test('a decoded typed array owns an aligned buffer of its own size', () => {
  const { bytes } = encode({ x: 1, f: new Float64Array([1.25, 2.5]) });
  // Decode from an odd offset, as a frame inside a ring or socket buffer would be.
  const shifted = new Uint8Array(bytes.length + 1);
  shifted.set(bytes, 1);
  const back = decode(PayloadType.PLAIN, shifted.subarray(1), true) as { f: Float64Array };
  assert.ok(back.f instanceof Float64Array);
  assert.deepEqual([...back.f], [1.25, 2.5]);
  assert.equal(back.f.buffer.byteLength, 16);
  // Socket frames come up as Buffer views of a read buffer that is reused afterwards.
  const readBuffer = Buffer.alloc(bytes.length + 32, 0xee);
  readBuffer.set(bytes, 32);
  const fromSocket = decode(PayloadType.PLAIN, readBuffer.subarray(32), false) as { f: Float64Array };
  readBuffer.fill(0);
  assert.deepEqual([...fromSocket.f], [1.25, 2.5]);
  assert.equal(fromSocket.f.buffer.byteLength, 16);
});

test('a "__proto__" key stays an own property and does not change the prototype', () => {
  const value = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
  const { type, bytes } = encode(value);
  assert.equal(type, PayloadType.PLAIN);
  const back = decode(type, bytes, false) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(back), Object.prototype);
  assert.ok(Object.hasOwn(back, '__proto__'));
  assert.deepEqual(back.__proto__, { polluted: true });
  assert.equal((back as { polluted?: boolean }).polluted, undefined);
  assert.equal(({} as { polluted?: boolean }).polluted, undefined);
});

test('anything structured clone carries differently goes through v8.serialize, intact', () => {
  const shared = { n: 1 };
  const cyclic: { me?: unknown } = {};
  cyclic.me = cyclic;
  const holey = [1, , 3]; // eslint-disable-line no-sparse-arrays
  const named = Object.assign([1, 2], { extra: 'kept' });
  const buffer = new ArrayBuffer(16);
  const fallbacks: [string, unknown][] = [
    ['a shared reference', { a: shared, b: shared }],
    ['a cycle', cyclic],
    ['a Map', { m: new Map([[1, 2]]) }],
    ['a Set', [new Set([1])]],
    ['a Date', { when: new Date(5) }],
    ['a BigInt', { big: 2n ** 70n }],
    ['a view of part of a buffer', { part: new Uint8Array(buffer, 4, 4) }],
    ['two views of one buffer', [new Uint8Array(buffer), new Float64Array(buffer)]],
    ['a Buffer', { b: Buffer.from('hi') }],
    ['a DataView', { d: new DataView(new ArrayBuffer(2)) }],
    ['an array with a hole', holey],
    ['an array with a named property', named],
    ['an array longer than 1024', Array.from({ length: 1025 }, (_, i) => i)],
    ['nesting of 65', nested(65)],
    ['a null-prototype object', { o: Object.create(null) as object }],
    ['a lone surrogate', { s: 'a\ud800b' }],
    ['an Error', [new Error('e')]],
  ];
  for (const [what, value] of fallbacks) {
    const { type, bytes } = encode(value);
    assert.equal(type, PayloadType.CLONE, `${what} goes through structured clone`);
    assert.deepStrictEqual(decode(type, bytes, false), structuredCopy(value), `${what} comes back as structured clone gives it`);
  }
  const back = decode(PayloadType.CLONE, encode({ a: shared, b: shared }).bytes, false) as { a: object; b: object };
  assert.equal(back.a, back.b);
});

test('values that cannot be sent are still refused with the path to the culprit', () => {
  assert.throws(() => encode({ list: [1, { f: () => 1 }] }), { name: 'TypeError', message: /the value.list\[1\].f is a function/ });
  class Particle { x = 0; }
  assert.throws(() => encode([{ p: new Particle() }]), { message: /the value\[0\].p is an instance of Particle/ });
  assert.throws(() => encode({ get broken(): never { throw new Error('getter failed'); } }),
    { name: 'TypeError', message: /cannot send this value: getter failed/ });
});

test('a getter that sends while the value is encoded gets a correct encoding of its own', () => {
  let inner: unknown;
  const value = { get x(): number {
    const nestedPayload = encode({ y: 2 });
    inner = decode(nestedPayload.type, nestedPayload.bytes, false);
    return 1;
  } };
  const { type, bytes } = encode(value);
  assert.deepEqual(decode(type, bytes, false), { x: 1 });
  assert.deepEqual(inner, { y: 2 });
});

test('malformed plain payloads are clean TypeErrors, never a crash or a huge allocation', () => {
  const good = encode({ a: [1, 'two', 3.5], t: new Int32Array([1, 2]), s: 'x' }).bytes;
  for (let cut = 0; cut < good.length; cut++) {
    assert.throws(() => decode(PayloadType.PLAIN, good.subarray(0, cut), false), { name: 'TypeError', message: /malformed plain payload/ },
      `cut at ${cut}`);
  }
  const trailing = new Uint8Array([...good, 0]);
  assert.throws(() => decode(PayloadType.PLAIN, trailing, false), /1 bytes left over after the value/);
  assert.throws(() => decode(PayloadType.PLAIN, new Uint8Array([42]), false), /unknown tag 42 at byte 0/);
  const hugeArray = new Uint8Array([PlainTag.ARRAY, 0xff, 0xff, 0xff, 0xff]);
  assert.throws(() => decode(PayloadType.PLAIN, hugeArray, false), /a count of 4294967295 at byte 1 does not fit the 0 bytes left/);
  const badTyped = new Uint8Array([PlainTag.TYPED, 77, 0, 0, 0, 0]);
  assert.throws(() => decode(PayloadType.PLAIN, badTyped, false), /unknown typed-array code 77/);
  const oddFloat64 = new Uint8Array([PlainTag.TYPED, PayloadType.FLOAT64, 3, 0, 0, 0, 1, 2, 3]);
  assert.throws(() => decode(PayloadType.PLAIN, oddFloat64, false), /a Float64Array of 3 bytes, not a multiple of 8/);
  const deep = new Uint8Array(70 * 5 + 1);
  for (let i = 0; i < 70; i++) deep.set([PlainTag.ARRAY, 1, 0, 0, 0], i * 5);
  assert.throws(() => decode(PayloadType.PLAIN, deep, false), /nesting deeper than 64/);
});

test('MPI4TS_PLAIN_CODEC=0 turns the plain format off; another value is an error naming the variable', () => {
  const script = "import { encode } from './src/codec/index.ts'; console.log(encode({ a: 1 }).type);";
  const run = (value: string) => spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script],
    { env: { ...process.env, MPI4TS_PLAIN_CODEC: value }, encoding: 'utf8' });
  assert.equal(run('1').stdout.trim(), String(PayloadType.PLAIN));
  assert.equal(run('0').stdout.trim(), String(PayloadType.CLONE));
  const bad = run('yes');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /MPI4TS_PLAIN_CODEC="yes" must be 0 \(off\) or 1 \(on, the default\)/);
});

test('short strings decode right whatever the string cache holds: every key of one length, ASCII and not, over and over', () => {
  // 3-character keys: far more than the cache has slots, so slots are shared and replaced.
  const keys: string[] = [];
  for (let a = 97; a < 123; a++) for (let b = 97; b < 123; b += 5) keys.push(`${String.fromCharCode(a)}x${String.fromCharCode(b)}`);
  keys.push('é', 'éé', 'aé', 'éa', 'ab\u0000', '');
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < keys.length; i++) {
      const value = { [keys[i]!]: keys[(i + 1) % keys.length], same: keys[i] };
      const { type, bytes } = encode(value);
      assert.deepStrictEqual(decode(type, bytes, false), value);
    }
  }
});

test('encoded plain bytes are scratch memory until the next encode; their owner says so', () => {
  const first = encode({ n: 1 });
  assert.equal(first.owner, BytesOwner.SCRATCH);
  const kept = Uint8Array.from(first.bytes);
  encode({ n: 2 });
  assert.deepStrictEqual(decode(PayloadType.PLAIN, kept, false), { n: 1 });
  // Larger than the scratch: a buffer grown for it, the caller's to keep (no copy needed).
  const large = encode({ data: new Float64Array(4096) });
  assert.equal(large.owner, BytesOwner.FRESH);
  const largeBytes = large.bytes;
  encode({ n: 3 });
  assert.deepStrictEqual(decode(PayloadType.PLAIN, largeBytes, false), { data: new Float64Array(4096) });
  assert.equal(encode(new Float64Array(2)).owner, BytesOwner.CALLER);
  assert.equal(encode(new Map()).owner, BytesOwner.FRESH);
});
