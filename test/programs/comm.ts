// Communicator and topology checks, run at several sizes by test/comm.test.ts.
// Each check throws on a wrong result; rank 0 prints "ok <check>" once all ranks passed it.
import * as MPI from 'mpi4ts';
import assert from 'node:assert/strict';

const world = MPI.COMM_WORLD;
const { rank, size } = world;

async function agree(name: string): Promise<void> {
  const all = await world.gather(name, 0);
  if (rank === 0) {
    assert.deepEqual(all, new Array(size).fill(name));
    console.log(`ok ${name}`);
  }
}

/** A dup has the same ranks and its own matching space. */
async function dupIsolation(): Promise<void> {
  const copy = await world.dup();
  assert.equal(copy.rank, rank);
  assert.equal(copy.size, size);
  const dest = (rank + 1) % size;
  const source = (rank - 1 + size) % size;
  // Same tag on both: each receive must get the message of its own communicator.
  const onCopy = copy.irecv(source, 7);
  const onWorld = world.irecv(source, 7);
  await Promise.all([copy.send('copy', dest, 7), world.send('world', dest, 7)]);
  assert.equal(await onWorld, 'world');
  assert.equal(await onCopy, 'copy');
  assert.equal(await copy.allreduce(rank), (size * (size - 1)) / 2);
  copy.free();
}

/** More cycles than there are context ids: free must give them back. */
async function dupFreeCycles(): Promise<void> {
  for (let i = 0; i < 2100; i++) {
    const copy = await world.dup();
    if (i % 500 === 0) assert.equal(await copy.bcast(i, size - 1), i);
    copy.free();
  }
}

/** Without free, creation stops with a clear error on every rank, and nothing is broken. */
async function contextExhaustion(): Promise<void> {
  const held: MPI.Comm[] = [];
  let failure: unknown = null;
  try {
    for (let i = 0; i < 3000; i++) held.push(await world.dup());
  } catch (err) {
    failure = err;
  }
  assert.match(String(failure), /no communicator context left: 2048 communicators exist at once/);
  assert.equal(held.length, 2046);
  for (const comm of held) comm.free();
  const again = await world.dup();
  assert.equal(await again.allreduce(1), size);
  again.free();
}

/** split by parity, key reversing the order. */
async function split(): Promise<void> {
  const color = rank % 2;
  const sub = await world.split(color, -rank);
  assert.ok(sub !== null);
  const members = [...Array(size).keys()].filter((r) => r % 2 === color).reverse();
  assert.equal(sub.size, members.length);
  assert.equal(sub.rank, members.indexOf(rank));
  assert.deepEqual(await sub.allgather(rank), members);
  // A message on the sub-communicator is not seen by the same tag on the world.
  const partner = (sub.rank + 1) % sub.size;
  const from = (sub.rank - 1 + sub.size) % sub.size;
  const got = sub.irecv(from, 3);
  await sub.send(rank, partner, 3);
  assert.equal(await got, members[from]);
  assert.equal(world.iprobe(MPI.ANY_SOURCE, 3), false);
  sub.free();
}

async function splitUndefined(): Promise<void> {
  const sub = await world.split(rank === 0 ? MPI.UNDEFINED : 1);
  if (rank === 0) {
    assert.equal(sub, null);
  } else {
    assert.ok(sub !== null);
    assert.equal(sub.size, size - 1);
    assert.equal(sub.rank, rank - 1);
    sub.free();
  }
}

/** Nested splits and dups of sub-communicators coexist with their parents. */
async function nested(): Promise<void> {
  const half = (await world.split(rank < size / 2 ? 0 : 1))!;
  const halfCopy = await half.dup();
  const single = (await halfCopy.split(halfCopy.rank))!;
  assert.equal(single.size, 1);
  assert.equal(await single.allreduce(rank), rank);
  assert.equal(await halfCopy.allreduce(1), half.size);
  assert.equal(await world.allreduce(1), size);
  for (const c of [single, halfCopy, half]) c.free();
}

async function splitType(): Promise<void> {
  const local = await world.splitType(MPI.COMM_TYPE_SHARED);
  assert.ok(local !== null);
  // Every rank of these tests runs on this one host.
  assert.equal(local.size, size);
  assert.equal(local.rank, rank);
  local.free();
  assert.equal(await world.splitType(MPI.UNDEFINED), null);
}

async function freedAndBadInput(): Promise<void> {
  const copy = await world.dup();
  copy.free();
  assert.throws(() => copy.isend(1, 0), /isend: this communicator was freed/);
  await assert.rejects(copy.recv(0), /recv: this communicator was freed/);
  assert.throws(() => copy.free(), /free: this communicator was freed/);
  assert.throws(() => world.free(), /free: COMM_WORLD and COMM_SELF cannot be freed/);
  assert.throws(() => MPI.COMM_SELF.free(), /cannot be freed/);
  await assert.rejects(world.splitType(99), /splitType: type 99 is not supported/);
  // A bad color on one rank is reported on every rank; the others do not hang.
  const color = rank === size - 1 ? -4 : 0;
  const expected = rank === size - 1
    ? /split: color -4 must be a non-negative integer or UNDEFINED/
    : new RegExp(`split: rank ${size - 1} passed a bad argument: split: color -4`);
  await assert.rejects(world.split(color), expected);
  await assert.rejects(world.createCart([size + 1]), new RegExp(`createCart: dims \\[${size + 1}\\] make ${size + 1} cells, more than the ${size} ranks`));
  await assert.rejects(world.createCart([0]), /createCart: dims \[0\] must be a non-empty array of positive integers/);
  await assert.rejects(world.createCart([size], [1 as unknown as boolean]), /createCart: periods \[1\] must be an array of 1 booleans/);
  // The world still works.
  assert.equal(await world.allreduce(2), 2 * size);
}

/** A 2-D grid, periodic in the first dimension only, against the row-major formulas. */
async function cart(): Promise<void> {
  const dims = MPI.computeDims(size, 2);
  const grid = await world.createCart(dims, [true, false]);
  assert.ok(grid !== null);
  const [rows, cols] = dims as [number, number];
  const expectedCoords = [Math.floor(rank / cols), rank % cols];
  assert.deepEqual(grid.coords, expectedCoords);
  for (let r = 0; r < size; r++) {
    assert.equal(grid.getCartRank(grid.getCoords(r)), r);
  }
  const [row, col] = expectedCoords as [number, number];
  // Periodic rows: wrap around.
  assert.deepEqual(grid.shift(0, 1), [((row - 1 + rows) % rows) * cols + col, ((row + 1) % rows) * cols + col]);
  // Non-periodic columns: PROC_NULL off the edges.
  const left = col > 0 ? rank - 1 : MPI.PROC_NULL;
  const right = col < cols - 1 ? rank + 1 : MPI.PROC_NULL;
  assert.deepEqual(grid.shift(1, 1), [left, right]);
  assert.deepEqual(grid.shift(1, -1), [right, left]);
  assert.equal(grid.getCartRank([row + rows, col]), rank);
  assert.throws(() => grid.getCartRank([row, col + cols]), new RegExp(`getCartRank: coords\\[1\\] = ${col + cols} is outside 0\\.\\.${cols - 1} in a non-periodic dimension`));
  assert.throws(() => grid.shift(2, 1), /shift: direction 2 is out of range for a 2-dimensional grid \(0\.\.1\)/);
  // Halo exchange along the columns: each rank gets its neighbours' ranks (null at the edges).
  const [source, dest] = grid.shift(1, 1);
  const fromLeft = await grid.sendrecv(rank, dest, 0, source, 0);
  assert.equal(fromLeft, source === MPI.PROC_NULL ? null : source);
  grid.free();
  // A grid smaller than the communicator: the ranks beyond it get null.
  const line = await world.createCart([Math.max(1, size - 1)], [true]);
  if (rank < Math.max(1, size - 1)) {
    assert.ok(line !== null);
    assert.deepEqual(line.shift(0, 1), [(rank - 1 + line.size) % line.size, (rank + 1) % line.size]);
    line.free();
  } else {
    assert.equal(line, null);
  }
}

const checks: Record<string, () => Promise<void>> = {
  dupIsolation, dupFreeCycles, contextExhaustion, split, splitUndefined, nested, splitType, freedAndBadInput, cart,
};
const selected = process.argv.slice(2).filter((a) => a in checks);
for (const name of selected.length > 0 ? selected : Object.keys(checks)) {
  await checks[name]!();
  await agree(name);
}
