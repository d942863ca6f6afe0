// COMM_WORLD's small collectives on the host's board (p2p/host-board.ts,
// coll/host.ts), as a program meets them. Prints "ok <check>" per check that
// passed, and "board <true|false>" as the diagnostics channel said it.
//   board.ts [checks...]      mixed, nonblocking, fallback, ahead, dup
//   board.ts kill             rank 1 SIGKILLs itself while the others wait in a barrier
//   board.ts compute <ms>     rank 0 computes (a busy loop) <ms> between two barriers
import diagnostics_channel from 'node:diagnostics_channel';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

let onBoard: boolean | null = null;
diagnostics_channel.subscribe('mpi4ts:coll:host-board', (message) => {
  onBoard = (message as { board: boolean }).board;
});

const MPI = await import('mpi4ts');
const comm = MPI.COMM_WORLD;
const { rank, size } = comm;

/** A number every rank derives alike from the round: which call, which root. */
function pick(round: number, n: number): number {
  return ((round * 2654435761) >>> 0) % n;
}

/** Every rank got the same bits: a reduction of doubles in another order would differ in the last place. */
async function sameEverywhere(value: Float64Array, what: string): Promise<void> {
  const all = await comm.allgather(Array.from(value));
  for (const other of all) assert.deepEqual(other, Array.from(value), `${what}: ranks disagree`);
}

/** Every kind of call the board takes, and some it does not, in an order that changes every round. */
async function mixed(): Promise<void> {
  const small = new Float64Array(128);
  const smallOut = new Float64Array(128);
  const big = new Float64Array(200); // 1600 bytes: more than an entry holds, so by messages
  const bigOut = new Float64Array(200);
  const ints = new Int32Array(5);
  for (let round = 0; round < 400; round++) {
    const root = pick(round, size);
    switch (pick(round, 8)) {
      case 0:
        await comm.barrier();
        break;
      case 1: {
        const got = await comm.bcast(rank === root ? { round, root, text: 'x'.repeat(round % 50) } : null, root);
        assert.deepEqual(got, { round, root, text: 'x'.repeat(round % 50) });
        break;
      }
      case 2: {
        // 3000 characters: the root's entry says "too large", and every rank goes by messages.
        const got = await comm.bcast(rank === root ? 'y'.repeat(3000) + round : null, root);
        assert.equal(got, 'y'.repeat(3000) + round);
        break;
      }
      case 3: {
        assert.equal(await comm.allreduce(rank + round, MPI.SUM), (size * (size - 1)) / 2 + size * round);
        assert.equal(await comm.allreduce(rank === root ? 1e9 : rank, MPI.MAX), size === 1 ? 1e9 : Math.max(1e9, size - 1));
        assert.equal(await comm.allreduce(BigInt(rank), MPI.SUM), BigInt((size * (size - 1)) / 2));
        break;
      }
      case 4: {
        const n = 1 + (round % 128);
        for (let i = 0; i < n; i++) small[i] = 0.1 * (rank + 1) + i / 3;
        const out = await comm.allreduceInto(small.subarray(0, n), smallOut.subarray(0, n), MPI.SUM);
        let expected = 0;
        for (let r = 0; r < size; r++) expected += 0.1 * (r + 1);
        assert.ok(Math.abs(out[0]! - expected) < 1e-9, `${out[0]} vs ${expected}`);
        await sameEverywhere(out.slice(), 'allreduceInto SUM of doubles');
        break;
      }
      case 5: {
        ints.fill(1 << (rank % 31));
        await comm.allreduceInto(MPI.IN_PLACE, ints, MPI.BOR);
        let expected = 0;
        for (let r = 0; r < size; r++) expected |= 1 << (r % 31);
        assert.deepEqual(Array.from(ints), [expected, expected, expected, expected, expected]);
        break;
      }
      case 6: {
        // Powers of two: the product is exact in any order.
        big.fill(rank % 3 === 0 ? 2 : 1);
        await comm.allreduceInto(big, bigOut, MPI.PROD);
        assert.equal(bigOut[199], 2 ** Math.ceil(size / 3));
        break;
      }
      case 7: {
        // Calls that never go on the board, between ones that do.
        const all = await comm.gather(rank * round, root);
        if (rank === root) assert.deepEqual(all, Array.from({ length: size }, (_, r) => r * round));
        else assert.equal(all, null);
        break;
      }
    }
  }
}

/** Nonblocking calls started together, awaited in another order. */
async function nonblocking(): Promise<void> {
  for (let round = 0; round < 200; round++) {
    const root = pick(round, size);
    const out = new Float64Array(3);
    const barrier = comm.ibarrier();
    const bcast = comm.ibcast(rank === root ? [round, 'value'] : null, root);
    const reduce = comm.iallreduceInto(new Float64Array([rank, 1, round]), out, MPI.SUM);
    const sum = comm.iallreduce(rank, MPI.SUM);
    const gathered = comm.iallgather(rank);
    assert.deepEqual(await gathered.wait(), Array.from({ length: size }, (_, r) => r));
    assert.equal(await sum.wait(), (size * (size - 1)) / 2);
    assert.deepEqual(Array.from(await reduce.wait()), [(size * (size - 1)) / 2, size, size * round]);
    assert.deepEqual(await bcast.wait(), [round, 'value']);
    await barrier.wait();
  }
}

/** Values the board cannot carry take the messages' path on every rank, with the same results. */
async function fallback(): Promise<void> {
  // A user op (associative, not commutative), a bigint array, a Buffer, MAXLOC: by messages.
  const concat = MPI.Op.create((a: string, b: string) => a + b, false);
  assert.equal(await comm.allreduce(String(rank), concat), Array.from({ length: size }, (_, r) => r).join(''));
  const out = new BigInt64Array(2);
  await comm.allreduceInto(new BigInt64Array([BigInt(rank), 2n]), out, MPI.SUM);
  assert.deepEqual(Array.from(out), [BigInt((size * (size - 1)) / 2), 2n * BigInt(size)]);
  const buf = Buffer.alloc(4, rank + 1);
  const bufOut = Buffer.alloc(4);
  await comm.allreduceInto(buf, bufOut, MPI.MAX);
  assert.deepEqual(Array.from(bufOut), [size, size, size, size]);
  assert.deepEqual(await comm.allreduce([rank % 2, rank], MPI.MAXLOC), [size > 1 ? 1 : 0, size > 1 ? 1 : 0]);
  // A value that cannot be sent fails on every rank, naming the call (one rank sends nothing).
  if (size > 1) await assert.rejects(comm.bcast(rank === 0 ? { f: () => 1 } : null, 0), /bcast: /);
}

/**
 * The root of bcasts runs ahead of ranks that are late: it may be at most
 * an entry ring (16 calls) ahead, then waits; nothing is lost or mixed up.
 */
async function ahead(): Promise<void> {
  if (rank !== 0) await sleep(300);
  for (let i = 0; i < 60; i++) {
    const got = await comm.bcast(rank === 0 ? i : null, 0);
    assert.equal(got, i);
  }
  await comm.barrier();
}

/** Other communicators go by messages (one board per host, COMM_WORLD's), alongside. */
async function dup(): Promise<void> {
  const other = await comm.dup();
  for (let i = 0; i < 50; i++) {
    const [a, b] = await Promise.all([comm.allreduce(i, MPI.SUM), other.allreduce(i + 1, MPI.SUM)]);
    assert.equal(a, i * size);
    assert.equal(b, (i + 1) * size);
  }
  other.free();
}

async function kill(): Promise<void> {
  await comm.barrier();
  if (rank === 1) {
    await sleep(200);
    process.kill(process.pid, 'SIGKILL');
  }
  await comm.barrier();
}

async function compute(ms: number): Promise<void> {
  await comm.barrier();
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  if (rank === 0) {
    let x = 0;
    while (performance.now() - start < ms) x += Math.sqrt(x + 1);
    assert.ok(x > 0);
  }
  await comm.barrier();
  const cpu = process.cpuUsage(cpuBefore);
  if (rank !== 0) console.log(`rank ${rank} cpu ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms wall ${(performance.now() - start).toFixed(0)} ms`);
}

const checks: Record<string, () => Promise<void>> = { mixed, nonblocking, fallback, ahead, dup };
const args = process.argv.slice(2).filter((a) => !a.startsWith('mpi4ts-test-'));
if (args[0] === 'kill') await kill();
else if (args[0] === 'compute') await compute(Number(args[1] ?? 3000));
else {
  for (const name of args.length > 0 ? args : Object.keys(checks)) {
    await checks[name]!();
    if (rank === 0) console.log(`ok ${name}`);
  }
}
if (rank === 0) console.log(`board ${String(onBoard)}`);
