// Dynamic processes, run by test/spawn.test.ts: `spawn.ts CASE [ARG] MARKER`.
// The same file is parent and child: a process with a parent (MPI.getParent())
// runs the child's half of CASE. Every child gets the parent's arguments, the
// test's marker last, so the test finds strays among them too. Parent rank 0
// prints "ok <check>" once a check passed on every rank; children print
// nothing unless the case says so.
import * as MPI from 'mpi4ts';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);
const [kase, extra] = args;
const world = MPI.COMM_WORLD;
const parent = MPI.getParent();
const ok = (check: string): void => {
  if (world.rank === 0) console.log(`ok ${check}`);
};
const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);
/** root argument of a rooted intercomm collective in the group that holds the root (local rank 0). */
const here = (c: MPI.Intercomm): number => (c.rank === 0 ? MPI.ROOT : MPI.PROC_NULL);

/** Parents and children check the intercommunicator from both sides; children are `kids` processes. */
async function exercise(inter: MPI.Intercomm, isParent: boolean): Promise<void> {
  const mineSize = isParent ? world.size : inter.size;
  assert.equal(inter.size, world.size);
  assert.equal(inter.rank, world.rank);
  assert.equal(inter.isInter, true);
  if (!isParent) assert.equal(world.size, mineSize);
  // bcast each way
  const down = isParent ? await inter.bcast({ n: 7 }, here(inter)) : await inter.bcast(null, 0);
  if (!isParent) assert.deepEqual(down, { n: 7 });
  const up = isParent ? await inter.bcast(null, 0) : await inter.bcast(world.size, here(inter));
  if (isParent) assert.equal(up, inter.remoteSize);
  // reduce and gather of the children's ranks at parent rank 0
  if (isParent) {
    const total = await inter.reduce(null, MPI.SUM, here(inter));
    const all = await inter.gather(null, here(inter));
    if (world.rank === 0) {
      assert.equal(total, range(inter.remoteSize).reduce((a, b) => a + b, 0));
      assert.deepEqual(all, range(inter.remoteSize));
    }
  } else {
    await inter.reduce(world.rank, MPI.SUM, 0);
    await inter.gather(world.rank, 0);
  }
  // allreduce: each group gets the other's sum
  const other = await inter.allreduce(isParent ? 1000 + world.rank : world.rank);
  const expected = isParent ? range(inter.remoteSize).reduce((a, b) => a + b, 0) : range(inter.remoteSize, 1000).reduce((a, b) => a + b, 0);
  assert.equal(other, expected);
  await inter.barrier();
  // point-to-point: every parent sends to every child, typed and object
  if (isParent) {
    for (let c = 0; c < inter.remoteSize; c++) await inter.send({ from: world.rank, to: c }, c, 5);
    for (let c = 0; c < inter.remoteSize; c++) assert.deepEqual(await inter.recv(c, 6), new Float64Array([c, world.rank]));
  } else {
    for (let p = 0; p < inter.remoteSize; p++) assert.deepEqual(await inter.recv(p, 5), { from: p, to: world.rank });
    for (let p = 0; p < inter.remoteSize; p++) await inter.send(new Float64Array([world.rank, p]), p, 6);
  }
}

/** The children of `inter` report back their COMM_WORLD's size and APPNUMs (gathered at parent rank 0). */
async function childFacts(inter: MPI.Intercomm): Promise<{ size: number; appnum: number; argv: string[] }[] | null> {
  return inter.gather(null, here(inter)) as Promise<{ size: number; appnum: number; argv: string[] }[] | null>;
}

async function sendFacts(inter: MPI.Intercomm): Promise<void> {
  await inter.gather({ size: world.size, appnum: MPI.APPNUM, argv: args }, 0);
}

async function parentSide(): Promise<void> {
  switch (kase) {
    case 'basic': {
      // extra: the root; children: world.size + 1
      const root = Number(extra ?? 0);
      const kids = world.size + 1;
      const inter = await world.spawn(self, args, kids, root);
      assert.equal(inter.remoteSize, kids);
      await exercise(inter, true);
      const facts = await childFacts(inter);
      if (world.rank === 0) {
        assert.deepEqual(facts!.map((f) => f.size), range(kids).map(() => kids));
        assert.deepEqual(facts![0]!.argv, args);
      }
      ok(`spawn ${kids} from root ${root}`);
      await inter.disconnect();
      return;
    }
    case 'twice': {
      // two spawns in a row, from the last rank then from rank 0, on a dup
      const dup = await world.dup();
      const first = await world.spawn(self, args, 2, world.size - 1);
      const second = await dup.spawn(self, args, 1, 0);
      await exercise(first, true);
      await exercise(second, true);
      assert.equal(first.remoteSize, 2);
      assert.equal(second.remoteSize, 1);
      ok('two spawns');
      return;
    }
    case 'multiple': {
      const inter = await world.spawnMultiple([self, self], [args, args], [2, 1], 0, [{ env: { SPAWN_TEST_VAR: 'a' } }, { env: { SPAWN_TEST_VAR: 'b' } }]);
      assert.equal(inter.remoteSize, 3);
      const facts = await childFacts(inter);
      if (world.rank === 0) {
        assert.deepEqual(facts!.map((f) => f.size), [3, 3, 3]);
        assert.deepEqual(facts!.map((f) => f.appnum), [0, 0, 1]);
      }
      const envs = await inter.gather(null, here(inter));
      if (world.rank === 0) assert.deepEqual(envs, ['a', 'a', 'b']);
      ok('spawnMultiple');
      return;
    }
    case 'nested': {
      const inter = await world.spawn(self, args, 2, 0);
      const fromGrandchildren = await inter.gather(null, here(inter));
      if (world.rank === 0) assert.deepEqual(fromGrandchildren, [['grandchild 0 of 0'], ['grandchild 0 of 1']]);
      ok('nested spawn');
      return;
    }
    case 'throw': {
      const inter = await world.spawn(self, args, 2, 0);
      await inter.recv(0);
      return;
    }
    case 'killed': {
      // An ordinary child SIGKILLed (not a PoolExecutor's worker): the job ends, as for any rank.
      const inter = await world.spawn(self, args, 2, 0);
      await inter.recv(0);
      return;
    }
    case 'sleep': {
      const inter = await world.spawn(self, args, 2, 0);
      await inter.barrier();
      ok('children up');
      await inter.recv(0);
      return;
    }
    case 'wait': {
      // Parents wait in a receive while the children sleep on a timer: no deadlock.
      const inter = await world.spawn(self, args, 2, 0);
      if (world.rank === 0) assert.equal(await inter.recv(0), 'late');
      ok('waited for the children');
      return;
    }
    case 'deadlock': {
      const inter = await world.spawn(self, args, 1, 0);
      await inter.recv(0, 9);
      return;
    }
    case 'where': {
      // extra: how many children; args[2], when not the marker: the hosts option
      const hosts = args.length > 3 ? args[2] : undefined;
      const inter = await world.spawn(self, args, Number(extra), 0, hosts === undefined ? {} : { hosts });
      const names = await inter.gather(null, here(inter));
      if (world.rank === 0) console.log(`hosts: ${(names as string[]).join(',')}\nuniverse: ${MPI.UNIVERSE_SIZE}`);
      ok('where');
      return;
    }
    case 'concurrent': {
      // The two halves of a split spawn at the same time: two blocks start and join in any order.
      const half = (await world.split(world.rank % 2, world.rank))!;
      const inter = await half.spawn(self, args, 2, 0);
      const merged = await inter.merge(false);
      // Parents first (high = false), then the children.
      assert.equal(merged.size, half.size + 2);
      assert.equal(merged.rank, half.rank);
      const ranks = await merged.allgather(merged.rank);
      assert.deepEqual(ranks, range(merged.size));
      assert.equal(await merged.allreduce(1), half.size + 2);
      ok('concurrent spawns, merged');
      return;
    }
    case 'hello': {
      const inter = await world.spawn(self, args, 2, 0);
      await inter.barrier();
      ok('hello');
      return;
    }
    case 'nompi': {
      // A child that never joins: the job ends instead of waiting for it.
      await world.spawn(fileURLToPath(new URL('./spawn-nompi.mjs', import.meta.url)), args, 2, 0);
      ok('spawned what never joins?');
      return;
    }
    case 'refused': {
      // Under another launcher: the error every rank gets.
      const err = await world.spawn(self, args, 1).then(() => null, (e: unknown) => e as MPI.MPIError);
      if (world.rank === 0) console.log(`refused: ${err?.code}: ${err?.message}`);
      return;
    }
    case 'universe':
      ok(`universe ${MPI.UNIVERSE_SIZE} parent ${String(MPI.getParent())}`);
      return;
    case 'bad': {
      const attempts: [string, () => Promise<unknown>][] = [
        ['missing', () => world.spawn('no-such-program.ts', [], 1)],
        ['zero', () => world.spawn(self, [], 0)],
        ['negative', () => world.spawn(self, [], -1)],
        ['fraction', () => world.spawn(self, [], 1.5)],
        ['root', () => world.spawn(self, [], 1, world.size)],
        ['args', () => world.spawn(self, [1 as unknown as string], 1)],
      ];
      for (const [name, attempt] of attempts) {
        const err = await attempt().then(() => null, (e: unknown) => e);
        assert.ok(err instanceof MPI.MPIError, `${name}: ${String(err)}`);
        if (world.rank === 0) console.log(`${name}: ${err.errorClass}: ${err.message}`);
      }
      ok('bad input');
      return;
    }
    default:
      throw new Error(`unknown case ${String(kase)}`);
  }
}

async function childSide(inter: MPI.Intercomm): Promise<void> {
  switch (kase) {
    case 'basic':
      await exercise(inter, false);
      await sendFacts(inter);
      await inter.disconnect();
      return;
    case 'twice':
      await exercise(inter, false);
      return;
    case 'multiple':
      await sendFacts(inter);
      await inter.gather(process.env.SPAWN_TEST_VAR, 0);
      return;
    case 'nested': {
      if (args.includes('--grandchild')) {
        await inter.gather(`grandchild ${world.rank} of ${inter.rank === 0 ? 'x' : 'y'}`, 0);
        return;
      }
      // Each child spawns one grandchild of its own (from COMM_SELF), which answers it.
      const grand = await MPI.COMM_SELF.spawn(self, [...args.slice(0, -1), '--grandchild', args.at(-1)!], 1, 0);
      const words = (await grand.gather(null, MPI.ROOT))!;
      await inter.gather([String(words[0]).replace('x', String(world.rank))], 0);
      return;
    }
    case 'throw':
      if (world.rank === 1) throw new Error('child 1 fails on purpose');
      await new Promise((r) => setTimeout(r, 60_000));
      return;
    case 'killed':
      if (world.rank === 1) process.kill(process.pid, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 60_000));
      return;
    case 'sleep':
      await inter.barrier();
      await new Promise((r) => setTimeout(r, 60_000));
      return;
    case 'wait':
      await new Promise((r) => setTimeout(r, 2500));
      if (world.rank === 0) await inter.send('late', 0);
      return;
    case 'deadlock':
      await inter.recv(0, 9);
      return;
    case 'where':
      await inter.gather(MPI.getProcessorName(), 0);
      return;
    case 'concurrent': {
      const merged = await inter.merge(true);
      assert.equal(merged.rank, inter.remoteSize + world.rank);
      await merged.allgather(merged.rank);
      assert.equal(await merged.allreduce(1), inter.remoteSize + world.size);
      return;
    }
    case 'hello':
      console.log(`child ${world.rank}`);
      await inter.barrier();
      return;
    default:
      throw new Error(`unknown case ${String(kase)}`);
  }
}

if (parent === null) await parentSide();
else await childSide(parent);
