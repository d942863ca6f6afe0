// What a collective call's messages carry of it (coll/calls.ts): the word
// for each kind of call, which differences are mismatches and which are a
// field one rank leaves open, and the words of the error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callSignature, collectiveCode, describeCall, sameCall } from '../../src/coll/calls.js';
import { LinkChannel, type Link } from '../../src/coll/channel.js';
import { Op, MAX, SUM } from '../../src/coll/op.js';
import { CollectiveMismatchError } from '../../src/base/index.js';

test('a call without arguments to agree on carries its bare code, as before', () => {
  assert.equal(callSignature('barrier'), collectiveCode('barrier'));
  assert.equal(callSignature('ibarrier'), collectiveCode('barrier') + 100);
  assert.equal(callSignature('allgather'), 5);
});

test('every word is a non-negative 32-bit number (what the frame header takes)', () => {
  const words = [callSignature('bcast', 65_533), callSignature('bcast', 1_000_000), callSignature('allreduceInto', -1, SUM, new Float64Array(70_000)),
    callSignature('ireduceInto', 7, Op.create((a: number) => a), new BigUint64Array(3))];
  for (const w of words) assert.equal(w >>> 0, w, String(w));
});

test('the words say the call and the arguments it carries', () => {
  assert.equal(describeCall(callSignature('bcast', 0)), 'bcast(root=0)');
  assert.equal(describeCall(callSignature('reduce', 3, SUM)), 'reduce(SUM, root=3)');
  assert.equal(describeCall(callSignature('allreduce', -1, MAX)), 'allreduce(MAX)');
  assert.equal(describeCall(callSignature('allreduceInto', -1, SUM, new Float64Array(10))), 'allreduceInto(Float64Array(10), SUM)');
  assert.equal(describeCall(callSignature('iallreduceInto', -1, SUM, new Int32Array(4))), 'iallreduceInto(Int32Array(4), SUM)');
  assert.equal(describeCall(callSignature('bcastInto', 0, null, new Float64Array(10))), 'bcastInto(Float64Array, root=0)');
  assert.equal(describeCall(callSignature('ibcastInto', 2, null, { buf: new Uint8Array(9), offset: 1 })), 'ibcastInto(Uint8Array, root=2)');
  assert.equal(describeCall(callSignature('allgatherInto', -1, null, { buf: new Int16Array(9), offset: 1, count: 5 })), 'allgatherInto(Int16Array(5))');
  assert.equal(describeCall(callSignature('alltoallInto', -1, null, new Float32Array(12), 4)), 'alltoallInto(Float32Array(3))');
  assert.equal(describeCall(callSignature('reduceScatterInto', -1, SUM, new Float32Array(12), 0)), 'reduceScatterInto(Float32Array, SUM)');
  assert.equal(describeCall(callSignature('reduce', 0, Op.create((a: number) => a))), 'reduce(a user op, root=0)');
  assert.equal(describeCall(callSignature('barrier')), 'barrier()');
  assert.equal(describeCall(callSignature('allreduceInto', -1, SUM, new Float64Array(70_000))), 'allreduceInto(Float64Array(65534 or more), SUM)');
  assert.equal(describeCall(callSignature('bcast', 70_000)), 'bcast(root=65534 or more)');
});

test('another call, root, op, element type or count is a mismatch', () => {
  const f10 = new Float64Array(10);
  const pairs: [number, number][] = [
    [callSignature('bcast', 0), callSignature('reduce', 0, SUM)],
    [callSignature('bcast', 0), callSignature('bcast', 1)],
    [callSignature('reduce', 0, SUM), callSignature('reduce', 0, MAX)],
    [callSignature('bcastInto', 0, null, f10), callSignature('bcastInto', 0, null, new Int32Array(10))],
    [callSignature('allreduceInto', -1, SUM, f10), callSignature('allreduceInto', -1, SUM, new Float64Array(12))],
    [callSignature('bcast', 0), callSignature('ibcast', 0)],
  ];
  for (const [a, b] of pairs) {
    assert.equal(sameCall(a, b), false, `${describeCall(a)} against ${describeCall(b)}`);
    assert.equal(sameCall(b, a), false, `${describeCall(b)} against ${describeCall(a)}`);
  }
});

test('a field one rank leaves open matches: a bad buffer (its failure travels instead), or the value form of the same MPI call', () => {
  const good = callSignature('allreduceInto', -1, SUM, new Float64Array(10));
  assert.equal(sameCall(good, callSignature('allreduceInto', -1, SUM, 'not a buffer')), true);
  assert.equal(sameCall(good, callSignature('allreduce', -1, SUM)), true, 'allreduce and allreduceInto send the same messages');
  assert.equal(sameCall(good, callSignature('allreduceInto', -1, SUM, { buf: new Float64Array(3), count: 1.5 })), true, 'a count the call refuses');
  // Counts past the field are not compared.
  assert.equal(sameCall(callSignature('allreduceInto', -1, SUM, new Uint8Array(70_000)), callSignature('allreduceInto', -1, SUM, new Uint8Array(80_000))), true);
});

test('a channel words the engine\'s mismatch with the call\'s place, and rethrows it as a CollectiveMismatchError', async () => {
  const mine = callSignature('reduce', 0, SUM);
  const theirs = callSignature('bcast', 0);
  const refusal = new CollectiveMismatchError('engine words', { calls: { mine, theirs, peer: 0, sequence: 6 } });
  const link: Link = {
    isend: () => Promise.resolve(),
    irecv: () => Promise.reject(refusal),
    irecvInto: () => Promise.reject(refusal),
  };
  const ch = new LinkChannel(1, 2, link, { collectivePlace: (tag) => `as collective #${tag + 1} on COMM_WORLD` }, 6);
  await ch.recv(0);
  const err = ch.failure!.toError('reduce', 1);
  assert.ok(err instanceof CollectiveMismatchError);
  assert.equal(err.code, 'MPI4TS_ERR_COLLECTIVE_MISMATCH');
  assert.equal(err.errorClass, 'ERR_OTHER');
  assert.equal(err.message, 'reduce: rank 1 called reduce(SUM, root=0) where rank 0 called bcast(root=0), as collective #7 on COMM_WORLD; ' +
    'every rank of a communicator must make the same collective calls in the same order');
  // On a rank it reached through the pattern: the origin named, the class kept.
  const passedOn = ch.failure!.toError('reduce', 2);
  assert.ok(passedOn instanceof CollectiveMismatchError);
  assert.match(passedOn.message, /^reduce: rank 1 failed: rank 1 called reduce/);
  // Without a place (an in-memory link): the call's number alone.
  const bare = new LinkChannel(1, 2, link);
  await bare.recvInto(0, new Uint8Array(8));
  assert.match(bare.failure!.message, /, as call number 1; /);
});
