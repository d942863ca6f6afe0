/**
 * The Comm and CartComm face (src/comm/comm.ts) without a job: every check a
 * rank makes alone fails before the engine is reached, and its message starts
 * with the user's call, never with a helper's name. What the calls do once
 * their arguments are good is tested by real jobs (test/programs/).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROC_NULL } from '../../src/base/index.js';
import { SUM, type Op } from '../../src/coll/index.js';
import { CartComm, Comm } from '../../src/comm/index.js';
import { ContextPool, pointToPointContext, WORLD_CONTEXT_ID } from '../../src/comm/context.js';
import type { CommWorld } from '../../src/comm/world.js';

/** A world of 4 ranks seen from rank 0, whose engine accepts groups and nothing else. */
function fakeWorld(): CommWorld {
  const engine = {
    setGroup: () => {},
    isend: () => assert.fail('a send reached the engine'),
    irecv: () => assert.fail('a receive reached the engine'),
    probe: () => assert.fail('a probe reached the engine'),
    iprobe: () => assert.fail('a probe reached the engine'),
  };
  const bootstrap = { abort: () => assert.fail('abort reached the bootstrap') };
  return { rank: 0, engine, contexts: new ContextPool(), table: [], bootstrap };
}

function worldComm(): Comm {
  return new Comm({ world: fakeWorld(), group: [0, 1, 2, 3], context: pointToPointContext(WORLD_CONTEXT_ID) });
}

/** A communicator of the same 4 ranks under context id 5, which free() may release. */
function freeableComm(): Comm {
  const world = fakeWorld();
  world.contexts.take(5);
  return new Comm({ world, group: [0, 1, 2, 3], context: pointToPointContext(5) });
}

const rankRange = 'is out of range for a communicator of size 4';

test('the contexts of a communicator: its id, 2n for point-to-point, 2n + 1 for collectives', () => {
  const comm = freeableComm();
  assert.deepEqual([comm.contextId, comm.pointToPointContext, comm.collContext], [5, 10, 11]);
  assert.deepEqual([comm.rank, comm.size], [0, 4]);
});

test('sends reject or throw naming the user\'s call', async () => {
  const comm = worldComm();
  await assert.rejects(comm.send(1, 9), { errorClass: 'ERR_RANK', message: `send: dest 9 ${rankRange} (0..3, or PROC_NULL)` });
  await assert.rejects(comm.ssend(1, 0, -1), { errorClass: 'ERR_TAG', message: 'ssend: tag -1 is not a valid tag (an integer from 0 to TAG_UB = 2147483647)' });
  assert.throws(() => comm.isend(1, -5), { message: `isend: dest -5 ${rankRange} (0..3, or PROC_NULL)` });
  assert.throws(() => comm.issend(1, 0, 1.5), /^MPIError: issend: tag 1.5 is not a valid tag/);
});

test('receives reject or throw naming the user\'s call', async () => {
  const comm = worldComm();
  await assert.rejects(comm.recv(7), { errorClass: 'ERR_RANK', message: `recv: source 7 ${rankRange} (0..3, ANY_SOURCE or PROC_NULL)` });
  await assert.rejects(comm.recvInto(new Uint8Array(4), 0, -2), /^MPIError: recvInto: tag -2 is not a valid tag .*, or ANY_TAG\)$/);
  await assert.rejects(comm.recvInto([1] as unknown as Uint8Array, 0),
    { name: 'TypeError', message: 'recvInto: buf must be a typed array, DataView, ArrayBuffer or Buffer, got Array' });
  assert.throws(() => comm.irecv(4), { message: `irecv: source 4 ${rankRange} (0..3, ANY_SOURCE or PROC_NULL)` });
  assert.throws(() => comm.irecvInto(null as unknown as Uint8Array, 0),
    { name: 'TypeError', message: 'irecvInto: buf must be a typed array, DataView, ArrayBuffer or Buffer, got null' });
});

test('sendrecv checks both halves before posting either, naming itself', async () => {
  const comm = worldComm();
  await assert.rejects(comm.sendrecv(1, 4), { message: `sendrecv: dest 4 ${rankRange} (0..3, or PROC_NULL)` });
  await assert.rejects(comm.sendrecv(1, 0, -1), /^MPIError: sendrecv: sendtag -1 is not a valid tag/);
  await assert.rejects(comm.sendrecv(1, 0, 0, 9), { message: `sendrecv: source 9 ${rankRange} (0..3, ANY_SOURCE or PROC_NULL)` });
});

test('probe and iprobe name themselves', async () => {
  const comm = worldComm();
  await assert.rejects(comm.probe(5), { message: `probe: source 5 ${rankRange} (0..3, ANY_SOURCE or PROC_NULL)` });
  assert.throws(() => comm.iprobe(0, -7), /^MPIError: iprobe: tag -7 is not a valid tag/);
});

test('PROC_NULL is a valid peer', () => {
  // Checked, then handed to the engine, which is where this fake fails.
  assert.throws(() => worldComm().isend(1, PROC_NULL), /a send reached the engine/);
});

test('collectives reject a bad root or op at once, the message starting with the call', async () => {
  const comm = worldComm();
  await assert.rejects(comm.bcast(1, 4), { errorClass: 'ERR_ROOT', message: 'bcast: root 4 is out of range for a communicator of size 4 (0..3)' });
  await assert.rejects(comm.gather(1, -1), /^MPIError: gather: root -1 is out of range/);
  await assert.rejects(comm.reduce(1, SUM, 9), /^MPIError: reduce: root 9 is out of range/);
  await assert.rejects(comm.allreduce(1, ((a: number, b: number) => a + b) as unknown as Op),
    { name: 'TypeError', message: 'allreduce: op must be an MPI.Op such as MPI.SUM or one made by MPI.Op.create, got a function (wrap it with MPI.Op.create)' });
  await assert.rejects(comm.scan(1, 'sum' as unknown as Op), /^TypeError: scan: op must be an MPI.Op .* got sum$/);
});

test('a freed communicator refuses every call, naming it; the predefined ones cannot be freed', async () => {
  assert.throws(() => worldComm().free(), { errorClass: 'ERR_COMM', message: 'free: COMM_WORLD and COMM_SELF cannot be freed' });
  const comm = freeableComm();
  comm.free();
  assert.equal(comm.world.contexts.isFree(5), true, 'free gives the id back');
  assert.throws(() => comm.free(), { errorClass: 'ERR_COMM', message: 'free: this communicator was freed' });
  await assert.rejects(comm.send(1, 0), { message: 'send: this communicator was freed' });
  await assert.rejects(comm.recv(0), { message: 'recv: this communicator was freed' });
  assert.throws(() => comm.isend(1, 0), { message: 'isend: this communicator was freed' });
  await assert.rejects(comm.barrier(), { message: 'barrier: this communicator was freed' });
  await assert.rejects(comm.allreduce(1), { message: 'allreduce: this communicator was freed' });
  assert.throws(() => comm.dup(), { message: 'dup: this communicator was freed' });
  assert.throws(() => comm.split(0), { message: 'split: this communicator was freed' });
  assert.throws(() => comm.createCart([2]), { message: 'createCart: this communicator was freed' });
});

test('createCart rejects a grid that does not fit before any exchange', async () => {
  const comm = worldComm();
  await assert.rejects(comm.createCart([5]), { errorClass: 'ERR_DIMS', message: 'createCart: dims [5] make 5 cells, more than the 4 ranks of the communicator' });
  await assert.rejects(comm.createCart([2, 2], [true]), /^MPIError: createCart: periods \[true\] must be an array of 2 booleans/);
});

test('a CartComm knows its grid and answers through the grid math', () => {
  const world = fakeWorld();
  world.contexts.take(6);
  const dims = [2, 2];
  const cart = new CartComm({ world, group: [0, 1, 2, 3], context: pointToPointContext(6), dims, periods: [true, false] });
  dims[0] = 9;
  assert.deepEqual([cart.dims, cart.periods, cart.ndims, cart.coords], [[2, 2], [true, false], 2, [0, 0]]);
  assert.ok(Object.isFrozen(cart.dims) && Object.isFrozen(cart.coords));
  assert.deepEqual(cart.getCoords(3), [1, 1]);
  assert.equal(cart.getCartRank([2, 1]), 1);
  assert.deepEqual(cart.shift(0, 1), [2, 2]);
  assert.deepEqual(cart.shift(1, 1), [PROC_NULL, 1]);
  assert.throws(() => cart.getCoords(4), /^MPIError: getCoords: rank 4 is out of range for a Cartesian communicator of size 4 \(0\.\.3\)$/);
  cart.free();
  assert.throws(() => cart.shift(0, 1), { message: 'shift: this communicator was freed' });
});
