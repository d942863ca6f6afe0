import { test, countedTest, counts } from './counts.js';
import assert from 'node:assert/strict';
import { example, mpi4ts, mpirun, sortedLines, strays } from './helpers.js';

test('helloworld: every rank reports rank, size and host', async () => {
  const r = await mpirun(4, example('helloworld.ts'));
  assert.equal(r.code, 0, r.stderr);
  const lines = sortedLines(r.stdout);
  assert.equal(lines.length, 4);
  lines.forEach((line, i) => assert.match(line, new RegExp(`^Hello, World! I am process ${i} of 4 on \\S+\\.$`)));
  assert.deepEqual(await strays(r.marker), []);
});

test('send-recv: rank 1 receives (0+1)*5 from rank 0', async () => {
  const r = await mpirun(2, example('send-recv.ts'));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(sortedLines(r.stdout), ['rank 0 sent 5 to rank 1', 'rank 1 received 5 from rank 0']);
});

for (const np of counts([1, 3, 7])) {
  countedTest(`ring with ${np} rank(s): each rank hears from its predecessor`, async () => {
    const r = await mpirun(np, example('ring.ts'));
    assert.equal(r.code, 0, r.stderr);
    const expected = Array.from({ length: np }, (_, rank) => {
      const prev = (rank - 1 + np) % np;
      return `rank ${rank} received ${prev * 10} from rank ${prev}`;
    }).sort();
    assert.deepEqual(sortedLines(r.stdout), expected);
  });
}

test('tags: rank 3 gets tag 2 (34) before tag 1 (23)', async () => {
  const r = await mpirun(4, example('tags.ts'));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '34\n23\n');
});

for (const np of counts([1, 3, 4, 7])) {
  countedTest(`heat-1d with ${np} rank(s): halo exchange over a Cartesian grid gives the serial answer`, async () => {
    const r = await mpirun(np, example('heat-1d.ts'));
    assert.equal(r.code, 0, r.stderr);
    const steps = /converged in (\d+) steps \(serial: (\d+)\)/.exec(r.stdout);
    assert.ok(steps !== null, r.stdout);
    assert.equal(steps[1], steps[2]);
    assert.match(r.stdout, /temperature at the middle: 0\.\d{4}/);
    // The same arithmetic in the same order: not close, identical.
    assert.match(r.stdout, /largest difference from the serial run: 0\n/);
  });
}

// ---- pi, scatter-gather, bcast (collectives) ----

/** cpi's sum with one rank: the reference the parallel runs must match up to reassociation. */
function serialPi(n: number): number {
  const h = 1 / n;
  let sum = 0;
  for (let i = 1; i <= n; i++) {
    const x = h * (i - 0.5);
    sum += 4 / (1 + x * x);
  }
  return h * sum;
}

/** Checks pi.ts's output for n intervals on np ranks; the wall-time line is only checked for its form. */
function checkPiOutput(stdout: string, n: number, np: number): void {
  const lines = stdout.split('\n');
  assert.equal(lines.length, 4, stdout);
  const got = /^pi is approximately (3\.\d{16}), Error is (\d\.\de-\d+)$/.exec(lines[0]!);
  assert.ok(got !== null, lines[0]);
  const pi = Number(got[1]);
  assert.ok(Math.abs(pi - serialPi(n)) <= 1e-12, `${pi} against the serial ${serialPi(n)}`);
  assert.equal(got[2], Math.abs(pi - Math.PI).toExponential(1));
  assert.equal(lines[1], `${n} intervals on ${np} rank(s)`);
  assert.match(lines[2]!, /^wall clock time = \d+\.\d{6} s$/);
  assert.equal(lines[3], '');
}

for (const np of counts([1, 3, 4, 7])) {
  countedTest(`pi with ${np} rank(s): bcast n, reduce the midpoint sums, the serial sum to 1e-12`, async () => {
    const r = await mpirun(np, example('pi.ts'), { args: ['1000000'] });
    assert.equal(r.code, 0, r.stderr);
    checkPiOutput(r.stdout, 1_000_000, np);
    assert.deepEqual(await strays(r.marker), []);
  });
}

test('pi without an argument integrates 1000000 intervals', async () => {
  const r = await mpi4ts(['run', '-n', '2', example('pi.ts')]);
  assert.equal(r.code, 0, r.stderr);
  checkPiOutput(r.stdout, 1_000_000, 2);
});

for (const bad of ['abc', '0']) {
  test(`pi with n = "${bad}" stops every rank with a message naming n and what it may be`, async () => {
    const r = await mpirun(3, example('pi.ts'), { args: [bad] });
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`^pi: n = "${bad}" is not allowed: n, the number of intervals, ` +
      'must be a whole number from 1 to 9007199254740991 \\(default 1000000\\)', 'm'));
    assert.equal(r.stderr.match(/is not allowed/g)?.length, 1, 'rank 0 alone reports it');
    assert.deepEqual(await strays(r.marker), []);
  });
}

for (const np of counts([1, 3, 4, 7])) {
  countedTest(`scatter-gather with ${np} rank(s): chunks of 0..${4 * np - 1} scattered, squared, gathered`, async () => {
    const r = await mpirun(np, example('scatter-gather.ts'));
    assert.equal(r.code, 0, r.stderr);
    const numbers = Array.from({ length: 4 * np }, (_, i) => i);
    const expected = Array.from({ length: np }, (_, rank) => {
      const chunk = numbers.slice(4 * rank, 4 * rank + 4);
      return `rank ${rank} got [${chunk.join(', ')}] and sends back [${chunk.map((x) => x * x).join(', ')}]`;
    });
    expected.push(`root gathered [${numbers.map((x) => x * x).join(', ')}]`);
    assert.deepEqual(sortedLines(r.stdout), expected.sort());
    // The root prints its gathered list after its own chunk.
    assert.ok(r.stdout.indexOf('rank 0 got') < r.stdout.indexOf('root gathered'), r.stdout);
    assert.deepEqual(await strays(r.marker), []);
  });
}

for (const np of counts([1, 4])) {
  countedTest(`bcast with ${np} rank(s): every rank gets the root's dictionary`, async () => {
    const r = await mpirun(np, example('bcast.ts'));
    assert.equal(r.code, 0, r.stderr);
    const data = '{"key1":[7,2.72,{"re":2,"im":3}],"key2":["abc","xyz"]}';
    assert.deepEqual(sortedLines(r.stdout), Array.from({ length: np }, (_, rank) => `rank ${rank} got ${data}`).sort());
  });
}

for (const np of counts([1, 2, 4, 7])) {
  countedTest(`groups with ${np} rank(s): workers made from a group allreduce among themselves, the master checks`, async () => {
    const r = await mpirun(np, example('groups.ts'));
    assert.equal(r.code, 0, r.stderr);
    const by = np === 1 ? '(rank 0 alone)' : `from ${np - 1} worker(s), reported by world rank 1`;
    assert.equal(r.stdout, `sum of squares 1..10000 = 333383335000 ${by}\n`);
  });
}

for (const np of counts([1, 2, 3, 4])) {
  countedTest(`intercomm with ${np} rank(s): two halves greet, allreduce across and merge`, async () => {
    const r = await mpirun(np, example('intercomm.ts'));
    assert.equal(r.code, 0, r.stderr);
    if (np === 1) {
      assert.equal(r.stdout, 'an intercommunicator needs two groups: run with 2 or more ranks\n');
      return;
    }
    const left = Math.ceil(np / 2);
    const greetings = Array.from({ length: np }, (_, rank) => {
      const local = rank < left ? rank : rank - left;
      const otherSize = rank < left ? np - left : left;
      if (local >= otherSize) return null;
      const from = rank < left ? left + local : local;
      return `world rank ${rank} (${rank < left ? 'left' : 'right'}) heard: hello from world rank ${from}`;
    }).filter((line) => line !== null);
    assert.deepEqual(sortedLines(r.stdout), [`${left} left and ${np - left} right ranks; merged size ${np}`, ...greetings].sort());
    assert.deepEqual(await strays(r.marker), []);
  });
}

test('deadlock (intentionally broken): the launcher names the cycle and exits 125', async () => {
  const r = await mpirun(3, example('deadlock.ts'), { launcher: ['--debug-calls'], killAfterMs: 30_000 });
  assert.equal(r.code, 125, r.stderr);
  assert.match(r.stderr, /rank 0 waits in recv\(source=1, tag=0\) at examples\/deadlock\.ts:\d+\n\s+rank 1 waits in recv\(source=2, tag=0\) at examples\/deadlock\.ts:\d+\n\s+rank 2 waits in recv\(source=0, tag=0\) at examples\/deadlock\.ts:\d+\n\s+cycle: rank 0 -> rank 1 -> rank 2 -> rank 0/);
  assert.doesNotMatch(r.stdout, /never printed/);
  assert.deepEqual(await strays(r.marker), []);
});
