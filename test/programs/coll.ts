// Collective checks, run at several sizes by test/coll.test.ts. Every check
// compares against a serial reference computed here; rank 0 prints
// "ok <check>" once the check passed on every rank (agreement by p2p only).
import * as MPI from 'mpi4ts';
import assert from 'node:assert/strict';
import { agree } from './agree.js';

const comm = MPI.COMM_WORLD;
const { rank, size } = comm;
const ranks = Array.from({ length: size }, (_, r) => r);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function barrier(): Promise<void> {
  // Ranks arrive at very different times; nobody may leave before the last arrives.
  // All ranks share one clock (one host, or namespace hosts on one kernel), so
  // compare the last arrival with every departure instead of timing waits.
  await comm.barrier();
  await sleep(rank * 40);
  const arrived = Date.now();
  await comm.barrier();
  const left = Date.now();
  const times = await comm.gather([arrived, left], 0);
  if (times !== null) {
    const lastArrival = Math.max(...times.map(([a]) => a));
    const firstDeparture = Math.min(...times.map(([, l]) => l));
    assert.ok(firstDeparture >= lastArrival, `a rank left the barrier at ${firstDeparture}, before the last arrived at ${lastArrival}`);
  }
  for (let i = 0; i < 5; i++) await comm.barrier();
}

function valueOf(r: number): { from: number; list: number[]; text: string } {
  return { from: r, list: [r, r * r], text: `rank ${r}` };
}

async function bcast(): Promise<void> {
  for (const root of ranks) {
    assert.deepEqual(await comm.bcast(rank === root ? valueOf(root) : null, root), valueOf(root));
    const big = await comm.bcast(rank === root ? new Float64Array(100_000).fill(root + 0.5) : null, root);
    assert.ok(big instanceof Float64Array && big.length === 100_000 && big[99_999] === root + 0.5);
  }
}

async function allgather(): Promise<void> {
  assert.deepEqual(await comm.allgather(valueOf(rank)), ranks.map(valueOf));
  const arrays = await comm.allgather(new Int16Array([rank, -rank]));
  assert.deepEqual(arrays.map((a) => Array.from(a)), ranks.map((r) => [r, r === 0 ? 0 : -r]));
}

async function allreduce(): Promise<void> {
  assert.equal(await comm.allreduce(rank + 1), (size * (size + 1)) / 2);
  assert.equal(await comm.allreduce(rank, MPI.MAX), size - 1);
  const masks = await comm.allreduce(new Uint32Array([0xffff_ffff ^ (1 << rank), 0xf0f0]), MPI.BAND);
  assert.deepEqual(Array.from(masks), [(0xffff_ffff & ~((2 ** size - 1))) >>> 0, 0xf0f0]);
}

async function bigAllreduce(): Promise<void> {
  const n = 1_000_000;
  const mine = new Float64Array(n);
  for (let i = 0; i < n; i++) mine[i] = rank + (i % 1000);
  const sum = await comm.allreduce(mine, MPI.SUM);
  assert.equal(mine[5], rank + 5, 'the input is left alone');
  const rankSum = (size * (size - 1)) / 2;
  for (let i = 0; i < n; i++) if (sum[i] !== rankSum + size * (i % 1000)) assert.fail(`element ${i}: ${sum[i]}`);
}

/** allreduceInto: into another array and in place, on the ring (large) and the doubling (small) paths. */
async function allreduceInto(): Promise<void> {
  const rankSum = (size * (size - 1)) / 2;
  for (const n of [1_000_000, 7]) {
    const mine = new Float64Array(n);
    for (let i = 0; i < n; i++) mine[i] = rank + (i % 1000);
    const into = new Float64Array(n).fill(-1);
    assert.equal(await comm.allreduceInto(mine, into, MPI.SUM), into, 'resolves with recvbuf');
    assert.equal(mine[5 % n], rank + (5 % n), 'sendbuf is left alone');
    for (let i = 0; i < n; i++) if (into[i] !== rankSum + size * (i % 1000)) assert.fail(`${n}: element ${i}: ${into[i]}`);
    assert.equal(await comm.allreduceInto(mine, mine, MPI.MAX), mine, 'in place');
    for (let i = 0; i < n; i++) if (mine[i] !== size - 1 + (i % 1000)) assert.fail(`${n} in place: element ${i}: ${mine[i]}`);
  }
  const shared = new Int32Array(200_000).fill(1);
  await assert.rejects(comm.allreduceInto(shared.subarray(0, 100_000), shared.subarray(50_000, 150_000)),
    /allreduceInto: recvbuf overlaps sendbuf; pass the same array as both to reduce in place/);
  const last = size - 1;
  await failsEverywhere('allreduceInto-recvbuf', () => comm.allreduceInto(new Int32Array(100_000), new Int32Array(rank === last ? 99_999 : 100_000)),
    /allreduceInto: (rank \d+ failed: )?recvbuf must have the type and length of sendbuf \(100000 elements of Int32Array\), got 99999 elements of Int32Array/, MPI.MPIError);
  assert.equal(await comm.allreduce(1), size, 'collectives still agree');
}

async function scatterGather(): Promise<void> {
  for (const root of ranks) {
    const items = ranks.map((r) => ({ r, square: r * r, root }));
    assert.deepEqual(await comm.scatter(rank === root ? items : null, root), items[rank]);
    const gathered = await comm.gather(valueOf(rank), root);
    assert.deepEqual(gathered, rank === root ? ranks.map(valueOf) : null);
  }
}

async function alltoall(): Promise<void> {
  const got = await comm.alltoall(ranks.map((to) => `${rank}->${to}`));
  assert.deepEqual(got, ranks.map((from) => `${from}->${rank}`));
  const arrays = await comm.alltoall(ranks.map((to) => new Int32Array([rank, to])));
  assert.deepEqual(arrays.map((a) => Array.from(a)), ranks.map((from) => [from, rank]));
}

// ---- every op on numbers, bigints, booleans and every typed-array type, against a serial fold ----

type Scalar = number | bigint | boolean;
const truth = (v: Scalar): boolean => v !== 0 && v !== 0n && v !== false;
const asKind = (sample: Scalar, b: boolean): Scalar => (typeof sample === 'boolean' ? b : typeof sample === 'bigint' ? (b ? 1n : 0n) : (b ? 1 : 0));
const scalarRef: Record<string, (a: Scalar, b: Scalar) => Scalar> = {
  SUM: (a, b) => (a as number) + (b as number),
  PROD: (a, b) => (a as number) * (b as number),
  MAX: (a, b) => ((a as number) > (b as number) ? a : b),
  MIN: (a, b) => ((a as number) < (b as number) ? a : b),
  LAND: (a, b) => asKind(a, truth(a) && truth(b)),
  LOR: (a, b) => asKind(a, truth(a) || truth(b)),
  LXOR: (a, b) => asKind(a, truth(a) !== truth(b)),
  BAND: (a, b) => (typeof a === 'bigint' ? a & (b as bigint) : Number(BigInt(a as number) & BigInt(b as number))),
  BOR: (a, b) => (typeof a === 'bigint' ? a | (b as bigint) : Number(BigInt(a as number) | BigInt(b as number))),
  BXOR: (a, b) => (typeof a === 'bigint' ? a ^ (b as bigint) : Number(BigInt(a as number) ^ BigInt(b as number))),
};
const OPS = Object.keys(scalarRef);
const opOf = (name: string): MPI.Op => (MPI as unknown as Record<string, MPI.Op>)[name]!;

function serial<T>(values: T[], f: (a: T, b: T) => T): T {
  return values.slice(1).reduce(f, values[0]!);
}

/** Runs every reduction of `mine` (the value of rank r is gen(r)) and checks each against the serial fold. */
async function checkAllReductions<T>(label: string, gen: (r: number) => T, op: MPI.Op, ref: (a: T, b: T) => T,
  same: (a: T, b: T) => void, roots: readonly number[] = ranks): Promise<void> {
  const all = ranks.map(gen);
  const total = serial(all, ref);
  same(await comm.allreduce(gen(rank), op), total);
  for (const root of roots) {
    const at = await comm.reduce(gen(rank), op, root);
    if (rank === root) same(at as T, total);
    else assert.equal(at, null, `${label}: reduce gives null off the root`);
  }
  same(await comm.scan(gen(rank), op), serial(all.slice(0, rank + 1), ref));
  const ex = await comm.exscan(gen(rank), op);
  if (rank === 0) assert.equal(ex, null, `${label}: exscan gives null on rank 0`);
  else same(ex as T, serial(all.slice(0, rank), ref));
}

async function opsOnScalars(): Promise<void> {
  for (const name of OPS) {
    const op = opOf(name);
    const num = (r: number): number => (name === 'PROD' ? (r % 3) + 1 : name.startsWith('B') ? (r * 0x1_0000_0001 + 5) ^ 0 : (r * 7) % 5 - 2);
    const eq = (a: unknown, b: unknown): void => assert.deepEqual(a, b, `${name}`);
    await checkAllReductions(`${name} numbers`, name.startsWith('B') ? (r) => 3 * 2 ** 33 + r * 6 + 1 : num, op, scalarRef[name]! as never, eq);
    const oneRoot = [OPS.indexOf(name) % size];
    await checkAllReductions(`${name} bigints`, (r) => BigInt(num(r)) * (name === 'PROD' ? 1n : 2n ** 70n), op, scalarRef[name]! as never, eq, oneRoot);
    if (name.startsWith('L')) await checkAllReductions(`${name} booleans`, (r) => r % 3 !== 1, op, scalarRef[name]! as never, eq, oneRoot);
  }
  // MAXLOC/MINLOC on [value, index] pairs; ties go to the lowest index.
  const pair = (r: number): [number, number] => [[5, 9, 9, 1, 5, 9, 1][r % 7]!, 100 - r];
  const loc = (max: boolean) => (a: [number, number], b: [number, number]): [number, number] =>
    a[0] === b[0] ? [a[0], Math.min(a[1], b[1])] : (max ? a[0] > b[0] : a[0] < b[0]) ? a : b;
  const eq = (a: unknown, b: unknown): void => assert.deepEqual(a, b);
  await checkAllReductions('MAXLOC', pair, MPI.MAXLOC, loc(true), eq);
  await checkAllReductions('MINLOC', pair, MPI.MINLOC, loc(false), eq);
  await checkAllReductions('MAXLOC bigint', (r) => [BigInt(pair(r)[0]), pair(r)[1]] as [bigint, number], MPI.MAXLOC, loc(true) as never, eq);
}

type AnyTyped = MPI.TypedArray;
const TYPES = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array] as const;

async function opsOnTypedArrays(length: number, ops: readonly string[], allCalls: boolean, types: readonly (typeof TYPES)[number][] = TYPES): Promise<void> {
  for (const Type of types) {
    const isBig = Type === BigInt64Array || Type === BigUint64Array;
    const isFloat = Type === Float32Array || Type === Float64Array;
    for (const name of ops) {
      if (isFloat && name.startsWith('B')) continue;
      const gen = (r: number): AnyTyped => {
        const a = new (Type as unknown as new (n: number) => AnyTyped)(length);
        for (let i = 0; i < length; i++) {
          const v = name === 'PROD' ? ((r + i) % 3) + 1 : ((r * 37 + i * 11) % 150) - (Type.name.startsWith('Int') || Type === BigInt64Array || isFloat ? 40 : 0);
          (a as unknown as (number | bigint)[])[i] = isBig ? BigInt(v) : v;
        }
        return a;
      };
      const f = scalarRef[name]!;
      const imul = name === 'PROD' && (Type === Int32Array || Type === Uint32Array);
      const ref = (a: AnyTyped, b: AnyTyped): AnyTyped => {
        const out = a.slice();
        for (let i = 0; i < length; i++) {
          const x = (a as unknown as Scalar[])[i]!;
          const y = (b as unknown as Scalar[])[i]!;
          (out as unknown as Scalar[])[i] = imul ? Math.imul(x as number, y as number) : f(x, y) as never;
        }
        return out;
      };
      const same = (got: AnyTyped, want: AnyTyped): void => {
        assert.ok(got instanceof Type, `${name} on ${Type.name}: got ${got?.constructor?.name}`);
        assert.equal(got.length, want.length, `${name} on ${Type.name}: length`);
        for (let i = 0; i < want.length; i++) {
          const g = (got as unknown as Scalar[])[i];
          const w = (want as unknown as Scalar[])[i];
          if (g !== w && !(Number.isNaN(g) && Number.isNaN(w))) assert.fail(`${name} on ${Type.name}: element ${i} is ${g}, expected ${w}`);
        }
      };
      const oneRoot = [(TYPES.indexOf(Type) + OPS.indexOf(name)) % size];
      if (allCalls) await checkAllReductions(`${name} ${Type.name}`, gen, opOf(name), ref, same, oneRoot);
      else same(await comm.allreduce(gen(rank), opOf(name)), serial(ranks.map(gen), ref));
    }
  }
}

// 13 elements: at least one per rank, so with MPI4TS_RING_MIN_BYTES=0 these take the ring too.
const smallTypedOps = (): Promise<void> => opsOnTypedArrays(13, OPS, true);
// Long enough for the ring (64 KiB) in the 1-byte types too, and not a multiple of any size.
const largeTypedOps = (): Promise<void> => opsOnTypedArrays(70_001, ['SUM'], false, [Uint8Array, Float32Array, BigInt64Array]);

async function userOps(): Promise<void> {
  // Non-commutative: string concatenation and 2x2 matrix products must come out in rank order.
  const concat = MPI.Op.create((a: string, b: string) => a + b, false);
  const word = (r: number): string => String.fromCharCode(97 + r);
  const eq = (a: unknown, b: unknown): void => assert.deepEqual(a, b);
  await checkAllReductions('concat', word, concat, (a, b) => a + b, eq);
  type M = [number, number, number, number];
  const mul = (a: M, b: M): M => [a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3], a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3]];
  await checkAllReductions('matmul', (r): M => [1, r + 1, 0, 1 + (r % 2)], MPI.Op.create(mul, false), mul, eq);
  // Commutative user op on objects.
  const merge = MPI.Op.create((a: { n: number; who: number[] }, b: { n: number; who: number[] }) => ({ n: a.n + b.n, who: [...a.who, ...b.who].sort((x, y) => x - y) }));
  const got = await comm.allreduce({ n: rank, who: [rank] }, merge);
  assert.deepEqual(got, { n: (size * (size - 1)) / 2, who: ranks });
}

async function vectorVariants(): Promise<void> {
  const counts = ranks.map((r) => r + 1);
  const total = counts.reduce((a, b) => a + b, 0);
  const offset = (r: number): number => (r * (r + 1)) / 2;
  const part = (r: number): Float64Array => Float64Array.from({ length: r + 1 }, (_, i) => r * 100 + i);
  const whole = Float64Array.from(ranks.flatMap((r) => Array.from(part(r))));
  for (const root of ranks) {
    const g = await comm.gatherv(part(rank), rank === root ? counts : null, root);
    if (rank === root) assert.deepEqual(g, whole);
    else assert.equal(g, null);
    const s = await comm.scatterv(rank === root ? whole : null, rank === root ? counts : null, root);
    assert.deepEqual(s, part(rank));
  }
  assert.deepEqual(await comm.allgatherv(part(rank), counts), whole);
  const contribution = Int32Array.from({ length: total }, (_, i) => i * (rank + 1));
  const mine = await comm.reduceScatter(contribution, counts, MPI.SUM);
  const factor = (size * (size + 1)) / 2;
  assert.deepEqual(mine, Int32Array.from({ length: rank + 1 }, (_, i) => (offset(rank) + i) * factor));
  const maxUser = MPI.Op.create((a: Int32Array, b: Int32Array) => a.map((x, i) => Math.max(x, b[i]!)), false);
  assert.deepEqual(await comm.reduceScatter(contribution, counts, maxUser), Int32Array.from({ length: rank + 1 }, (_, i) => (offset(rank) + i) * size));
}

async function isolation(): Promise<void> {
  // A user receive with wildcards on the same communicator, posted during collectives, must not catch their traffic.
  // (Rank 0 listens to itself only: the others send it their agreement messages meanwhile.)
  const user = comm.irecv(rank === 0 ? 0 : MPI.ANY_SOURCE, MPI.ANY_TAG);
  assert.deepEqual(await comm.bcast(rank === 0 ? 'collective' : null, 0), 'collective');
  await comm.allreduce(new Float64Array(20_000).fill(1));
  await comm.barrier();
  assert.equal(user.test().done, false, 'the user receive caught collective traffic');
  // Nobody sends anything else (such as the agreement after this check) until all have checked.
  await comm.barrier();
  await comm.send({ user: rank }, rank, 5);
  assert.deepEqual(await user, { user: rank });
}

async function concurrent(): Promise<void> {
  // Calls started without awaiting, entered at different times, must not cross-match.
  await sleep(((rank * 17) % 5) * 20);
  const last = size - 1;
  const a = comm.bcast(rank === 0 ? 'from 0' : null, 0);
  const b = comm.bcast(rank === last ? 'from last' : null, last);
  const c = comm.allreduce(rank);
  const d = comm.allgather(rank * 2);
  const e = comm.barrier();
  const f = comm.allreduce(new Int32Array(30_000).fill(rank), MPI.MAX);
  const [ra, rb, rc, rd, , rf] = await Promise.all([a, b, c, d, e, f]);
  assert.equal(ra, 'from 0');
  assert.equal(rb, 'from last');
  assert.equal(rc, (size * (size - 1)) / 2);
  assert.deepEqual(rd, ranks.map((r) => r * 2));
  assert.equal(rf[29_999], last);
}

/** Runs a collective that must fail, on every rank, with a message matching `pattern`. */
async function failsEverywhere(what: string, run: () => Promise<unknown>, pattern: RegExp, kind: new (...args: never[]) => Error): Promise<void> {
  const outcome = await run().then((v) => ({ ok: v }), (err: unknown) => ({ err }));
  assert.ok('err' in outcome, `${what}: rank ${rank} got ${JSON.stringify(outcome)} instead of an error`);
  const err = outcome.err as Error;
  assert.ok(err instanceof kind, `${what}: ${err?.constructor?.name} ${err?.message}`);
  assert.match(err.message, pattern, `${what} on rank ${rank}`);
  if (rank === 0) console.log(`error ${what}: ${err.message}`);
}

async function badInput(): Promise<void> {
  const last = size - 1;
  await failsEverywhere('scatter-wrong-length', () => comm.scatter(rank === last ? ranks.concat([9]) : null, last),
    /scatter: .*values at the root must be an array of \d+ items \(one per rank\), got an array of length \d+/, MPI.MPIError);
  await failsEverywhere('reduce-string', () => comm.reduce('text', MPI.SUM, 0), /^reduce: SUM cannot reduce a string/, TypeError);
  await failsEverywhere('allreduce-string-on-last', () => comm.allreduce(rank === last ? 'text' : rank), /allreduce: .*SUM cannot reduce a string/, TypeError);
  await failsEverywhere('allreduce-bitwise-float', () => comm.allreduce(new Float64Array(3), MPI.BXOR), /BXOR needs an integer type, got a Float64Array/, TypeError);
  if (size > 1) {
    await failsEverywhere('allreduce-lengths', () => comm.allreduce(new Float64Array(rank === last ? 11 : 10)),
      /differ (in length )?between ranks \((10 and 11|11 and 10|10 elements of Float64Array and 11|11 elements of Float64Array and 10) /, MPI.MPIError);
    await failsEverywhere('allreduce-lengths-large', () => comm.allreduce(new Float64Array(rank === last ? 10 : 100_000)),
      /typed arrays differ between ranks/, MPI.MPIError);
    await failsEverywhere('reduce-lengths', () => comm.reduce(new Int32Array(rank === 0 ? 3 : 4), MPI.MAX, last),
      /differ in length between ranks/, MPI.MPIError);
    await failsEverywhere('scan-types', () => comm.scan(rank === last ? 1n : 1), /every rank must pass the same kind of value/, TypeError);
    await failsEverywhere('allgather-unsendable', () => comm.allgather(rank === last ? (() => 1) : rank), /cannot send this value/, TypeError);
  }
  if (size > 1) {
    // The op runs only where two values meet: on a single rank it never runs.
    await failsEverywhere('user-op-throws', () => comm.allreduce(rank, MPI.Op.create(() => { throw new RangeError('no way'); })),
      /allreduce: (rank \d+ failed: )?no way/, RangeError);
  }
  await failsEverywhere('alltoall-short', () => comm.alltoall(rank === 0 ? [] : ranks), /alltoall: .*values must be an array of \d+ items/, MPI.MPIError);
  await failsEverywhere('reduceScatter-counts', () => comm.reduceScatter(new Float64Array(size + 1), ranks.map(() => 1)),
    /^reduceScatter: sendbuf has \d+ elements but the counts add up to \d+/, MPI.MPIError);
  // Argument checks reject at once, naming the call.
  await assert.rejects(comm.bcast(1, size), /^MPIError: bcast: root \d+ is out of range for a communicator of size \d+/);
  await assert.rejects(comm.reduce(1, ((a: number, b: number) => a + b) as never), /reduce: op must be an MPI.Op .* got a function \(wrap it with MPI.Op.create\)/);
  // After all that, collectives still agree.
  assert.equal(await comm.allreduce(1), size);
}

const checks: Record<string, () => Promise<void>> = {
  barrier, bcast, allgather, allreduce, bigAllreduce, allreduceInto, scatterGather, alltoall, opsOnScalars, smallTypedOps, largeTypedOps,
  userOps, vectorVariants, isolation, concurrent, badInput,
};
const only = process.argv.slice(2).filter((a) => !a.startsWith('mpi4ts-test-'));
for (const [name, check] of Object.entries(checks)) {
  if (only.length > 0 && !only.includes(name)) continue;
  const started = performance.now();
  await check();
  await agree(name);
  if (rank === 0 && process.env.COLL_TIMING !== undefined) console.error(`${name}: ${(performance.now() - started).toFixed(0)} ms`);
}
