// The in-memory network the collective unit tests run on (memory-link.ts):
// it must keep the real path's order, codec and receive-into rules, and tell
// a stuck pattern from a finished one, or the tests above it prove nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toWire } from '../../src/coll/channel.js';
import { TruncationError } from '../../src/base/index.js';
import { MemoryNetwork, runRanks, Stuck } from './memory-link.js';

test('messages between one pair arrive in the order sent, whichever side comes first', async () => {
  const network = new MemoryNetwork(3);
  const [zero, one, two] = [network.link(0), network.link(1), network.link(2)];
  const early = [zero.irecv(1), zero.irecv(1)];
  await one.isend(0, 'a');
  await two.isend(0, 'from two');
  await one.isend(0, 'b');
  await one.isend(0, 'c');
  assert.deepEqual(await Promise.all([...early, zero.irecv(1), zero.irecv(2)]), ['a', 'b', 'c', 'from two']);
  assert.deepEqual(network.strays(), []);
});

test('values go through the codec: copies arrive, a typed array is taken when sent, refused values throw at once', async () => {
  const network = new MemoryNetwork(2);
  const [zero, one] = [network.link(0), network.link(1)];
  const object = { list: [1, 2], nested: { big: 5n } };
  const doubles = new Float64Array([1, 2, 3]);
  await zero.isend(1, toWire(object));
  await zero.isend(1, doubles);
  doubles[0] = 99;
  const [gotObject, gotDoubles] = [await one.irecv(0), await one.irecv(0)];
  assert.deepEqual(gotObject, [object]);
  assert.notEqual((gotObject as unknown[])[0], object);
  assert.deepEqual(gotDoubles, new Float64Array([1, 2, 3]));
  assert.throws(() => zero.isend(1, [() => 1]), { name: 'TypeError', message: /^cannot send this value: .*function/ });
  assert.deepEqual(network.strays(), [], 'a refused value sends nothing');
});

test('irecvInto copies raw bytes into the target and counts them; a structured value comes as itself; too many bytes are refused', async () => {
  const network = new MemoryNetwork(2);
  const [zero, one] = [network.link(0), network.link(1)];
  const target = new Float64Array(4);
  await zero.isend(1, new Float64Array([7, 8]));
  assert.equal(await one.irecvInto(0, target.subarray(1)), 16);
  assert.deepEqual(target, new Float64Array([0, 7, 8, 0]));
  await zero.isend(1, 5);
  assert.deepEqual(await one.irecvInto(0, target), { instead: 5 });
  await zero.isend(1, new Float64Array(5));
  await assert.rejects(Promise.resolve(one.irecvInto(0, target)), TruncationError);
});

test('ranks out of range throw: an algorithm that computes a wrong peer fails at once', () => {
  const link = new MemoryNetwork(2).link(0);
  assert.throws(() => link.isend(2, 1), /dest 2 is out of range for a memory network of 2 ranks/);
  assert.throws(() => link.irecv(-1), /source -1 is out of range/);
});

test('runRanks tells which rank waits for whom, and messages never received', async () => {
  await assert.rejects(runRanks(3, 'test', async (ch) => (ch.rank === 2 ? ch.recv(0) : null)),
    (err) => err instanceof Stuck && err.waits.join() === 'rank 2 waits for 1 message(s) from rank 0');
  await assert.rejects(runRanks(2, 'test', (ch) => (ch.rank === 0 ? ch.send(1, 'lost') : Promise.resolve())),
    (err) => err instanceof Stuck && err.strays.join() === 'rank 0 sent rank 1 1 message(s) never received');
  const outcomes = await runRanks(2, 'test', async (ch) => {
    await ch.send(1 - ch.rank, ch.rank);
    return ch.recv(1 - ch.rank);
  });
  assert.deepEqual(outcomes.map((o) => o.value), [1, 0]);
});
