// Rendezvous payloads written straight into the receiver's memory (cross-memory
// attach, transport/cma.ts), checked byte for byte at the sizes around the
// window's edges, into views at an offset, as ssend, inside objects, with
// ANY_SOURCE, through sendrecvReplace, and a truncated receive that must fail
// cleanly. Every rank pairs with rank ^ 1 (an odd last rank pairs with itself:
// a message to oneself never takes the direct path). Rank 0 prints "ok direct".
// DIRECT_UNDUMPABLE=1: every rank makes itself non-dumpable first, so that a
// sender without CAP_SYS_PTRACE is refused (EPERM) and must fall back;
// DIRECT_UNDUMPABLE=even: only the even ranks, so that the odd ones' writes
// into them and their readers' reads of them are refused, and the others not.
// Payloads of 1 MiB and more sent one way at a time (the receiver idle) are
// split: the sender writes the head, the receiver reads the tail.
import * as MPI from 'mpi4ts';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const undumpable = process.env.DIRECT_UNDUMPABLE;
if (undumpable === '1' || (undumpable === 'even' && MPI.COMM_WORLD.rank % 2 === 0)) {
  const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  const prctl = koffi.load('libc.so.6').func('int prctl(int, unsigned long, unsigned long, unsigned long, unsigned long)');
  const PR_SET_DUMPABLE = 4;
  assert.equal(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), 0);
}

const comm = MPI.COMM_WORLD;
const { rank, size } = comm;
const peer = (rank ^ 1) < size ? rank ^ 1 : rank;
const SIZES = [8 * 1024 - 1, 8 * 1024, 100_000, 1 << 20, 2 << 20, (2 << 20) + 1, 5_000_000];

function pattern(from: number, length: number, salt: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (from * 31 + salt * 7 + i * 13) & 0xff;
  return bytes;
}

function same(got: Uint8Array, want: Uint8Array, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  if (Buffer.compare(Buffer.from(got.buffer, got.byteOffset, got.length), Buffer.from(want.buffer, want.byteOffset, want.length)) !== 0) {
    const at = got.findIndex((b, i) => b !== want[i]);
    assert.fail(`${what}: byte ${at} is ${got[at]}, expected ${want[at]}`);
  }
}

// First (so that no refusal of an exchange has turned direct copies off yet), one way at a time,
// so that the receiver has no send of its own and a core to spare: split payloads
// (every size from the split's threshold up, odd ones whose halves are not whole pages), each way.
for (const [i, length] of [1 << 20, (1 << 20) + 1, 3_000_001, 8 << 20].entries()) {
  for (const sender of [0, 1]) {
    if (peer === rank) break;
    const tag = 20 + i * 2 + sender;
    if ((rank & 1) === sender) {
      await comm.send(pattern(rank, length, tag), peer, tag);
    } else {
      const into = new Uint8Array(length + 64).fill(0xee);
      const view = into.subarray(32, 32 + length);
      await comm.recvInto(view, peer, tag);
      same(view, pattern(peer, length, tag), `one-way recvInto ${length} B from ${peer}`);
      assert.ok(into.subarray(0, 32).every((b) => b === 0xee) && into.subarray(32 + length).every((b) => b === 0xee), `${length} B one way: bytes outside the view changed`);
    }
  }
}

// Typed arrays into views at an offset of a larger buffer: the bytes land at the view's place, not the buffer's start.
for (const [i, length] of SIZES.entries()) {
  const into = new Uint8Array(length + 64).fill(0xee);
  const view = into.subarray(32, 32 + length);
  const [received] = await Promise.all([comm.recvInto(view, peer, i), comm.send(pattern(rank, length, i), peer, i)]);
  assert.equal(received, view);
  same(view, pattern(peer, length, i), `recvInto ${length} B from ${peer}`);
  assert.ok(into.subarray(0, 32).every((b) => b === 0xee) && into.subarray(32 + length).every((b) => b === 0xee), `${length} B: bytes outside the view changed`);
}

// ssend (always rendezvous), values with typed arrays inside (structured payloads), ANY_SOURCE.
const big = new Float64Array(300_000).map((_, i) => i * rank + 0.5);
const [value] = await Promise.all([comm.recv<{ who: number; data: Float64Array }>(MPI.ANY_SOURCE, 50), comm.ssend({ who: rank, data: big }, peer, 50)]);
assert.equal(value.who, peer);
assert.equal(value.data.length, 300_000);
assert.equal(value.data[299_999], 299_999 * peer + 0.5);

// sendrecvReplace: the buffer is sent and then received into.
const swap = pattern(rank, 1 << 20, 9);
await comm.sendrecvReplace(swap, peer, peer, 60, 60);
same(swap, pattern(peer, 1 << 20, 9), 'sendrecvReplace');

// A message larger than the buffer: TruncationError, and the next message is intact.
const small = new Uint8Array(50_000);
const [truncated] = await Promise.all([
  comm.recvInto(small, peer, 70).then(() => null, (err: unknown) => err),
  comm.send(pattern(rank, 200_000, 70), peer, 70),
]);
if (peer !== rank) {
  assert.ok(truncated instanceof MPI.TruncationError, String(truncated));
  assert.match((truncated as Error).message, /message of 200000 bytes .* does not fit the 50000-byte buffer/);
}
const after = new Uint8Array(300_000);
await Promise.all([comm.recvInto(after, peer, 71), comm.send(pattern(rank, 300_000, 71), peer, 71)]);
same(after, pattern(peer, 300_000, 71), 'after the truncation');

// A collective over every rank: allreduce of 1M doubles (ring steps of 2-8 MB between neighbours).
const sum = await comm.allreduceInto(new Float64Array(1 << 20).fill(rank + 1), new Float64Array(1 << 20), MPI.SUM);
assert.ok(sum.every((x) => x === (size * (size + 1)) / 2));

const all = await comm.gather('ok', 0);
if (rank === 0) {
  assert.deepEqual(all, new Array(size).fill('ok'));
  console.log('ok direct');
}
