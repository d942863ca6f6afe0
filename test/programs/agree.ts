// The report every check program makes: each rank tells rank 0 of COMM_WORLD
// that it passed `name` (point-to-point only, so a broken collective cannot
// hide its own failure), and rank 0 prints "ok <name>" (test/helpers.ts okLines).
import * as MPI from 'mpi4ts';
import assert from 'node:assert/strict';

const world = MPI.COMM_WORLD;

export async function agree(name: string): Promise<void> {
  if (world.rank === 0) {
    for (let r = 1; r < world.size; r++) assert.equal(await world.recv(r, 30000), name);
    console.log(`ok ${name}`);
  } else {
    await world.send(name, 0, 30000);
  }
}
