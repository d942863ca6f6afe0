/**
 * The host's board in one process: three HostBoards (one per "rank") over
 * slots in ordinary memory, driven by hand, with coll/host.ts's works. The
 * protocol's rules: a call completes when the entries it needs are there,
 * in call order; a bcast's root does not wait; an entry is reused only once
 * every member published the call after it; a member's "no" sends every
 * call by messages; a mismatch and an ended member fail the call in words.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostBoard, type BoardMismatch } from '../../src/p2p/index.js';
import { BoardSlot, BOARD_ENTRIES } from '../../src/transport/index.js';
import { BOARD_BYTES } from '../../src/transport/shm-board.js';
import { host, SUM, MAX } from '../../src/coll/index.js';
import { encode } from '../../src/codec/index.js';

interface Rank {
  board: HostBoard;
  pending: number;
  woke: number[];
}

function ranks(n: number, offers: number[] = Array(n).fill(1)): Rank[] {
  const slots = Array.from({ length: n }, () => new BoardSlot(new ArrayBuffer(BOARD_BYTES), 0));
  return Array.from({ length: n }, (_, rank) => {
    const me: Rank = { board: null as unknown as HostBoard, pending: 0, woke: [] };
    me.board = new HostBoard({
      members: Array.from({ length: n }, (_, r) => 10 + r), rank, slots,
      wake: (world) => me.woke.push(world),
      offer: (world) => offers[world - 10]!,
      progress: { clock: 0, postCount: 0, begin: () => me.pending++, end: () => me.pending-- },
      sameCall: () => false,
      comm: 'COMM_WORLD', context: 1,
    });
    return me;
  });
}

/** Polls every rank until nothing moves. */
function settle(all: Rank[]): void {
  for (let moved = true; moved;) {
    moved = false;
    for (const r of all) if (r.board.advance()) moved = true;
  }
}

const SIGNATURE = 1234;
const never = (): Promise<never> => Promise.reject(new Error('by messages'));

/** A promise's state, after the microtasks queued so far. */
async function state(p: Promise<unknown>): Promise<'pending' | 'fulfilled' | 'rejected'> {
  let s: 'pending' | 'fulfilled' | 'rejected' = 'pending';
  p.then(() => { s = 'fulfilled'; }, () => { s = 'rejected'; });
  await Promise.resolve();
  await Promise.resolve();
  return s;
}

test('a barrier completes on every rank once all three published, not before; peers are woken', async () => {
  const all = ranks(3);
  const a = all[0]!.board.run(host.barrierWork, 'barrier', 0, SIGNATURE, never);
  const b = all[1]!.board.run(host.barrierWork, 'barrier', 0, SIGNATURE, never);
  settle(all);
  assert.equal(await state(a), 'pending');
  assert.deepEqual(all[0]!.woke, [11, 12]);
  const report = all[0]!.board.report(0, () => ({ waitedMs: 0, waitedUpToMs: 0 }), () => null);
  assert.deepEqual(report.map((op) => [op.call, op.wait, op.peer, op.peerInComm]), [['barrier', 'board', 12, 2]]);
  const c = all[2]!.board.run(host.barrierWork, 'barrier', 0, SIGNATURE, never);
  settle(all);
  assert.deepEqual(await Promise.all([a, b, c]), [undefined, undefined, undefined]);
  assert.deepEqual(all.map((r) => r.pending), [0, 0, 0]);
});

test('allreduce and allreduceInto reduce in rank order: every rank gets the same bits', async () => {
  const all = ranks(3);
  const values = [0.1, 0.2, 0.3];
  const sums = all.map((r, i) => r.board.run(host.allreduceWork(values[i]!, SUM), 'allreduce', 0, SIGNATURE, never));
  settle(all);
  const got = await Promise.all(sums);
  assert.deepEqual(got, [(0.1 + 0.2) + 0.3, (0.1 + 0.2) + 0.3, (0.1 + 0.2) + 0.3]);
  const outs = all.map(() => new Int32Array(3));
  const maxes = all.map((r, i) => r.board.run(host.allreduceIntoWork(new Int32Array([i, -i, 7]), outs[i], MAX), 'allreduceInto', 1, SIGNATURE, never));
  settle(all);
  await Promise.all(maxes);
  for (const out of outs) assert.deepEqual(Array.from(out), [2, 0, 7]);
});

test('a bcast root goes on at once; the others wait for the root alone and get a copy', async () => {
  const all = ranks(3);
  const sent = { a: [1, 2, 3], s: 'text' };
  const late = all[2]!.board.run(host.bcastWork(null, 1, 2), 'bcast', 0, SIGNATURE, never);
  settle(all);
  assert.equal(await state(late), 'pending');
  const root = all[1]!.board.run(host.bcastWork(sent, 1, 1), 'bcast', 0, SIGNATURE, never);
  settle(all);
  assert.equal(await root, sent);
  const got = await late;
  assert.deepEqual(got, sent);
  assert.notEqual(got, sent);
  // Rank 0 joins last and still finds the root's entry.
  const first = all[0]!.board.run(host.bcastWork(null, 1, 0), 'bcast', 0, SIGNATURE, never);
  settle(all);
  assert.deepEqual(await first, sent);
});

test('a root runs less than BOARD_ENTRIES calls ahead: its next entry waits until every rank published the call after the one it reuses', async () => {
  const all = ranks(2);
  const roots: Promise<unknown>[] = [];
  for (let i = 0; i < BOARD_ENTRIES + 3; i++) roots.push(all[0]!.board.run(host.bcastWork(i, 0, 0), 'bcast', i, SIGNATURE, never));
  settle(all);
  const ahead = BOARD_ENTRIES - 1;
  const states = await Promise.all(roots.map(state));
  assert.deepEqual(states.slice(0, ahead), Array(ahead).fill('fulfilled'));
  assert.deepEqual(states.slice(ahead), ['pending', 'pending', 'pending', 'pending']);
  // Rank 1 takes two: the root may publish two more (call 16 reuses the entry of call 0, needing call 1 published; 17, call 2).
  const got: Promise<unknown>[] = [];
  for (let i = 0; i < 2; i++) got.push(all[1]!.board.run(host.bcastWork(null, 0, 1), 'bcast', i, SIGNATURE, never));
  settle(all);
  assert.deepEqual(await Promise.all(got), [0, 1]);
  assert.deepEqual((await Promise.all(roots.map(state))).slice(ahead), ['fulfilled', 'fulfilled', 'pending', 'pending']);
  for (let i = 2; i < BOARD_ENTRIES + 3; i++) got.push(all[1]!.board.run(host.bcastWork(null, 0, 1), 'bcast', i, SIGNATURE, never));
  settle(all);
  assert.deepEqual(await Promise.all(got), Array.from({ length: BOARD_ENTRIES + 3 }, (_, i) => i));
});

test('calls by messages publish and go on; entries that disagree send every rank the messages\' way', async () => {
  const all = ranks(2);
  let byMessages = 0;
  const messages = (): Promise<string> => {
    byMessages++;
    return Promise.resolve('by messages');
  };
  // A Buffer on one rank, a Uint8Array on the other: one call, codes that differ.
  const a = all[0]!.board.run(host.allreduceIntoWork(Buffer.alloc(2), Buffer.alloc(2), SUM), 'allreduceInto', 0, SIGNATURE, messages);
  const b = all[1]!.board.run(host.allreduceIntoWork(new Uint8Array(2), new Uint8Array(2), SUM), 'allreduceInto', 0, SIGNATURE, messages);
  settle(all);
  assert.deepEqual(await Promise.all([a, b]), ['by messages', 'by messages']);
  assert.equal(byMessages, 2);
});

test('a member whose entry names another call: the call fails with both signatures (a root that publishes second sees it too)', async () => {
  const all = ranks(2);
  const seen: (BoardMismatch | undefined)[] = [];
  const record = (m?: BoardMismatch): Promise<string> => {
    seen.push(m);
    return Promise.resolve('failed');
  };
  const reduce = all[1]!.board.run(host.messagesWork, 'reduce', 6, 777, record);
  settle(all);
  assert.equal(await reduce, 'failed');
  assert.deepEqual(seen, [undefined]);
  const root = all[0]!.board.run(host.bcastWork(5, 0, 0), 'bcast', 6, 555, record);
  settle(all);
  assert.equal(await root, 'failed');
  assert.deepEqual(seen[1], { mine: 555, theirs: 777, peer: 1, sequence: 6 });
});

test('one member said no at start: every call goes by messages, on every rank; one not yet known holds the first call', async () => {
  const offers = [1, 0, 1];
  const all = ranks(3, offers);
  const messages = (): Promise<string> => Promise.resolve('by messages');
  const first = all[0]!.board.run(host.barrierWork as never, 'barrier', 0, SIGNATURE, messages);
  settle(all);
  assert.equal(await state(first), 'pending');
  assert.equal(all[0]!.board.report(0, () => ({ waitedMs: 0, waitedUpToMs: 0 }), () => null)[0]!.peerInComm, 1);
  offers[1] = 2;
  settle(all);
  assert.equal(await first, 'by messages');
  assert.equal(all[0]!.board.declined, true);
});

test('a member that ended fails the call that needs it, in words; a call that does not need it completes', async () => {
  const all = ranks(3);
  const root = all[0]!.board.run(host.bcastWork('v', 0, 0), 'bcast', 0, SIGNATURE, never);
  const waiting = all[1]!.board.run(host.bcastWork(null, 0, 1), 'bcast', 0, SIGNATURE, never);
  settle(all);
  assert.equal(await root, 'v');
  all[1]!.board.memberEnded(12, 'exited before the job ended (without finalize)');
  assert.equal(await waiting, 'v');
  const barrier = all[1]!.board.run(host.barrierWork, 'barrier', 1, SIGNATURE, never);
  settle(all);
  await assert.rejects(barrier, /^JobError: barrier can never complete: it waits for rank 2 of the communicator to join it, but that rank exited before the job ended \(without finalize\)$/);
  assert.equal(all[1]!.pending, 0);
});

test('a bcast queued behind calls that complete as it is made keeps its value: their messages\' algorithms encode into the same scratch', async () => {
  const all = ranks(2);
  const [r0, r1] = [all[0]!.board, all[1]!.board];
  const messages = (value: number) => (): Promise<never> => {
    encode(value);
    return new Promise<never>(() => {});
  };
  // Rank 0: a barrier that waits, a call by messages behind it, then bcast(42) while rank 1 has reached the barrier.
  void r0.run(host.barrierWork, 'ibarrier', 0, SIGNATURE, never);
  void r0.run(host.messagesWork, 'igather', 1, SIGNATURE + 1, messages(999));
  void r1.run(host.barrierWork, 'ibarrier', 0, SIGNATURE, never);
  void r1.run(host.messagesWork, 'igather', 1, SIGNATURE + 1, messages(7));
  const got = r1.run(host.bcastWork(undefined, 0, 1), 'ibcast', 2, SIGNATURE + 2, never);
  void r0.run(host.bcastWork(42, 0, 0), 'ibcast', 2, SIGNATURE + 2, never);
  settle(all);
  assert.equal(await got, 42);
});

test('calls queued behind one that can never complete fail in their own words', async () => {
  const all = ranks(3);
  const barrier = all[0]!.board.run(host.barrierWork, 'ibarrier', 0, SIGNATURE, never);
  const behind = all[0]!.board.run(host.allreduceWork(1, SUM), 'iallreduce', 1, SIGNATURE, never);
  all[0]!.board.memberEnded(11, 'has finished its program (finalize)');
  await assert.rejects(barrier, /^JobError: ibarrier can never complete: it waits for rank 1 of the communicator to join it, but that rank has finished its program \(finalize\)$/);
  await assert.rejects(behind, /^JobError: iallreduce can never complete: it waits behind ibarrier, which waits for rank 1 of the communicator to join it, but that rank has finished its program \(finalize\)$/);
});
