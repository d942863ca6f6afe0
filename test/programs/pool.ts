// Task pools under mpi4ts run --pool (rank 0 submits) or plain (CommExecutor):
// the checks named on the command line, each printing "ok <check>".
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as MPI from 'mpi4ts';

const module = new URL('./pool-tasks.ts', import.meta.url);
const checks = process.argv.slice(2).filter((a) => !a.startsWith('mpi4ts-test-'));

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

const run: Record<string, () => Promise<void>> = {
  async basics() {
    const pool = new MPI.PoolExecutor({ module });
    assert.equal(await pool.submit('square', 7), 49);
    assert.equal(await pool.run('add', [2, 3]), 5);
    await pool.ready();
    assert.equal(pool.size, MPI.COMM_WORLD.size - 1);
    const inputs = Array.from({ length: 100 }, (_, i) => i);
    assert.deepEqual(await collect(pool.map('square', inputs)), inputs.map((x) => x * x));
    for (const chunksize of [1, 3, 7, 100, 1000]) {
      assert.deepEqual(await collect(pool.map('square', inputs, { chunksize })), inputs.map((x) => x * x), `chunksize ${chunksize}`);
      const unordered = await collect(pool.map<number>('square', inputs, { chunksize, ordered: false }));
      assert.deepEqual(unordered.slice().sort((a, b) => a - b), inputs.map((x) => x * x), `unordered chunksize ${chunksize}`);
    }
    assert.deepEqual(await collect(pool.starmap('add', [[1, 2], [3, 4]])), [3, 7]);
    assert.deepEqual(await collect(pool.map('square', [])), []);
    async function* gen(): AsyncGenerator<number> {
      for (let i = 0; i < 10; i++) yield i;
    }
    assert.deepEqual(await collect(pool.map('square', gen(), { chunksize: 4 })), inputs.slice(0, 10).map((x) => x * x));
    // Many submits in one turn, every worker used.
    const pids = new Set((await Promise.all(Array.from({ length: 400 }, () => pool.submit<[number, number]>('count')))).map((r) => r[1]));
    assert.ok(pids.size >= 1 && pids.size <= MPI.COMM_WORLD.size - 1);
    await pool.shutdown();
    // A second pool over the same workers, with fewer of them.
    const two = new MPI.PoolExecutor({ module, maxWorkers: 1 });
    assert.equal(await two.submit('square', 3), 9);
    assert.equal(two.size, 1);
    await two.shutdown();
  },

  async throws() {
    const pool = new MPI.PoolExecutor({ module });
    const err = await rejection(pool.submit('fail', 'boom'));
    assert.ok(err instanceof MPI.TaskError);
    assert.ok(err instanceof MPI.MPIError);
    assert.equal(err.name, 'RangeError');
    assert.equal(err.message, 'boom');
    assert.equal((err as MPI.TaskError).code, 'MPI4TS_ERR_TASK');
    assert.match(err.stack!, /^RangeError: boom\n\s+at fail \(.*pool-tasks\.ts:\d+:\d+\)/);
    assert.match(err.stack!, /task "fail" on pool worker rank \d+, .*, pid \d+\)$/);
    // The pool goes on.
    assert.equal(await pool.submit('square', 4), 16);
    // A map stops at the failing input: the results before it, then its error.
    const got2: number[] = [];
    const mapErr2 = await rejection((async () => {
      for await (const r of pool.starmap<number>('failAt', [[1, 3], [2, 3], [3, 3], [4, 3]], { chunksize: 2 })) got2.push(r);
    })());
    assert.deepEqual(got2, [10, 20]);
    assert.equal(mapErr2.name, 'TypeError');
    assert.equal(mapErr2.message, 'input 3 is bad');
    assert.equal(await pool.submit('square', 5), 25);
    await pool.shutdown();
  },

  async abort() {
    const pool = new MPI.PoolExecutor({ module, maxWorkers: 1 });
    await pool.ready();
    // Queued: removed, never runs (the worker's call count skips it).
    const first = pool.submit<[number, number]>('count');
    const slow = pool.submit('sleep', 300, 'slow');
    const controller = new AbortController();
    const queued = pool.run('count', [], { signal: controller.signal });
    controller.abort(new Error('not wanted'));
    const after = pool.submit<[number, number]>('count');
    assert.equal((await rejection(queued)).message, 'not wanted');
    assert.equal(await slow, 'slow');
    const [n0] = await first;
    const [n1] = await after;
    assert.equal(n1, n0 + 1, 'the aborted task never ran');
    // Running: rejects at once with the reason; the task's own result is dropped.
    const hang = new AbortController();
    const running = pool.run('sleep', [1500, 'finished'], { signal: hang.signal });
    setTimeout(() => hang.abort(), 200);
    const err = await rejection(running);
    assert.equal(err.name, 'AbortError');
    // Aborted before submit: rejects without running.
    assert.equal((await rejection(pool.run('square', [2], { signal: AbortSignal.abort(new Error('early')) }))).message, 'early');
    // The worker finishes the hung task, then serves again.
    assert.equal(await pool.submit('square', 6), 36);
    // A map aborted part way ends with the reason.
    const mapAbort = new AbortController();
    const seen: number[] = [];
    const mapErr = await rejection((async () => {
      for await (const r of pool.map<number>('square', Array.from({ length: 1000 }, (_, i) => i), { signal: mapAbort.signal })) {
        seen.push(r);
        if (seen.length === 10) mapAbort.abort(new Error('enough'));
      }
    })());
    assert.equal(mapErr.message, 'enough');
    assert.ok(seen.length >= 10 && seen.length < 1000);
    await pool.shutdown();
  },

  async importsMpi4ts() {
    const pool = new MPI.PoolExecutor({ module: new URL('./pool-mpi-tasks.ts', import.meta.url) });
    await pool.ready();
    const ranks = await Promise.all(Array.from({ length: 20 }, () => pool.submit<[number, number]>('worldRank')));
    for (const [rank, size] of ranks) {
      assert.ok(rank >= 1 && rank < MPI.COMM_WORLD.size);
      assert.equal(size, MPI.COMM_WORLD.size);
    }
    await pool.shutdown();
  },

  async big() {
    const pool = new MPI.PoolExecutor({ module });
    const n = 1 << 20; // 8 MiB of doubles
    const arrays = await Promise.all([pool.submit<Float64Array>('big', n), pool.submit<Float64Array>('big', n)]);
    for (const a of arrays) {
      assert.ok(a instanceof Float64Array);
      assert.equal(a.length, n);
      assert.equal(a[n - 1], (n - 1) * 0.5);
    }
    // And as an argument.
    assert.equal(await pool.submit('sum', arrays[0]), (n * (n - 1) / 2) * 0.5);
    await pool.shutdown();
  },

  async sigkill() {
    const pool = new MPI.PoolExecutor({ module });
    await pool.ready();
    const workers = pool.size;
    const path = join(tmpdir(), `mpi4ts-pool-pid-${process.pid}`);
    rmSync(path, { force: true });
    const doomed = pool.submit('pidThenWait', path, 60_000);
    while (!existsSync(path) || readFileSync(path, 'utf8') === '') await new Promise((r) => setTimeout(r, 20));
    const pid = Number(readFileSync(path, 'utf8'));
    rmSync(path, { force: true });
    process.kill(pid, 'SIGKILL');
    const err = await rejection(doomed);
    assert.ok(err instanceof MPI.WorkerLostError, String(err));
    assert.equal((err as MPI.WorkerLostError).code, 'MPI4TS_ERR_WORKER_LOST');
    assert.match(err.message, new RegExp(`^PoolExecutor: task "pidThenWait" was running on pool worker rank \\d+ \\(.+, pid ${pid}\\) was killed by signal SIGKILL$`));
    assert.equal((err as MPI.WorkerLostError).worker.pid, pid);
    if (workers > 1) {
      // The pool goes on with the others.
      assert.deepEqual(await collect(pool.map('square', [1, 2, 3, 4, 5, 6])), [1, 4, 9, 16, 25, 36]);
      assert.equal(pool.size, workers - 1);
      console.log('went on');
    } else {
      const broken = await rejection(pool.submit('square', 2));
      assert.ok(broken instanceof MPI.PoolError);
      assert.match(broken.message, /^PoolExecutor: the pool is broken: every worker has died \(the last: pool worker rank 1 .*SIGKILL\)$/);
      console.log('broken');
    }
    await pool.shutdown();
  },

  async exits() {
    const pool = new MPI.PoolExecutor({ module });
    await pool.ready();
    for (const code of [0, 3]) {
      const err = await rejection(pool.submit('exitNow', code));
      assert.ok(err instanceof MPI.WorkerLostError, String(err));
      assert.match(err.message, code === 0
        ? /^PoolExecutor: task "exitNow" was running on pool worker rank \d+ \(.+, pid \d+\) exited with code 0 before its pool was done \(process\.exit\(\) in a task\?\)$/
        : /^PoolExecutor: task "exitNow" was running on pool worker rank \d+ \(.+, pid \d+\) exited with code 3$/);
    }
    assert.equal(pool.size, MPI.COMM_WORLD.size - 3);
    assert.equal(await pool.submit('square', 8), 64);
    await pool.shutdown();
  },

  async sigkillBig() {
    // A worker killed while its 128 MiB result is on its way (or about to be): the task fails, the others' go on.
    const pool = new MPI.PoolExecutor({ module });
    await pool.ready();
    const path = join(tmpdir(), `mpi4ts-pool-big-${process.pid}`);
    rmSync(path, { force: true });
    const others = Array.from({ length: 20 }, (_, i) => pool.submit('sleep', 20, i));
    const doomed = pool.submit('pidThenBig', path, 16 * 1024 * 1024).then(() => null, (e: unknown) => e as Error);
    while (!existsSync(path) || readFileSync(path, 'utf8') === '') await new Promise((r) => setTimeout(r, 1));
    const pid = Number(readFileSync(path, 'utf8'));
    rmSync(path, { force: true });
    process.kill(pid, 'SIGKILL');
    const err = await doomed;
    // Killed after the last byte arrived, the task has its result: either way nothing hangs.
    if (err !== null) {
      assert.ok(err instanceof MPI.WorkerLostError, String(err));
      assert.equal(err.worker.pid, pid);
    }
    console.log(err === null ? 'the result came before the kill' : 'lost in flight');
    assert.deepEqual(await Promise.all(others), Array.from({ length: 20 }, (_, i) => i));
    assert.equal(await pool.submit('square', 3), 9);
    await pool.shutdown();
  },

  async spawnedSigkill() {
    // Without --pool: spawned workers lost one after the other (an exit, two SIGKILLs); the pool goes on, then is broken, and the job ends 0.
    const pool = new MPI.PoolExecutor({ module, maxWorkers: 3 });
    await pool.ready();
    assert.equal(pool.size, 3);
    // A task that ends its worker's process with code 0 is a death too (it never finalized).
    const exited = await rejection(pool.submit('exitNow', 0));
    assert.ok(exited instanceof MPI.WorkerLostError, String(exited));
    assert.match(exited.message, /^PoolExecutor: task "exitNow" was running on pool worker rank [012] of spawned world 1 \(.+, pid \d+\) exited with code 0 before its pool was done \(process\.exit\(\) in a task\?\)$/);
    assert.equal(pool.size, 2);
    const killOne = async (meanwhile: () => void = () => {}): Promise<[number, Error]> => {
      const path = join(tmpdir(), `mpi4ts-pool-spawned-${process.pid}`);
      rmSync(path, { force: true });
      const doomed = rejection(pool.submit('pidThenWait', path, 60_000));
      while (!existsSync(path) || readFileSync(path, 'utf8') === '') await new Promise((r) => setTimeout(r, 20));
      const pid = Number(readFileSync(path, 'utf8'));
      rmSync(path, { force: true });
      meanwhile();
      process.kill(pid, 'SIGKILL');
      return [pid, await doomed];
    };
    const [pid, err] = await killOne();
    assert.ok(err instanceof MPI.WorkerLostError, String(err));
    assert.equal(err.code, 'MPI4TS_ERR_WORKER_LOST');
    assert.match(err.message, new RegExp(`^PoolExecutor: task "pidThenWait" was running on pool worker rank [012] of spawned world 1 \\(.+, pid ${pid}\\) was killed by signal SIGKILL$`));
    assert.equal(err.worker.pid, pid);
    // The pool goes on with the other worker.
    assert.deepEqual(await collect(pool.map('square', [1, 2, 3, 4])), [1, 4, 9, 16]);
    assert.equal(pool.size, 1);
    console.log('went on');
    // The last one too: broken, queued and later tasks reject with PoolError, nothing hangs.
    let queued: Promise<Error> | null = null;
    const [, last] = await killOne(() => (queued = rejection(pool.submit('square', 5))));
    assert.ok(last instanceof MPI.WorkerLostError, String(last));
    for (const broken of [await queued!, await rejection(pool.submit('square', 6))]) {
      assert.ok(broken instanceof MPI.PoolError && !(broken instanceof MPI.WorkerLostError), String(broken));
      assert.match(broken.message, /^PoolExecutor: the pool is broken: every worker has died \(the last: pool worker rank [012] of spawned world 1 .*SIGKILL\)$/);
    }
    console.log('broken');
    await pool.shutdown();
  },

  async hosts() {
    // Across hosts (test/multihost): --pool workers or spawned ones; the tasks run on more than one host.
    const pool = new MPI.PoolExecutor({ module: new URL('./pool-mpi-tasks.ts', import.meta.url), maxWorkers: Number(process.env.POOL_WORKERS ?? 3) });
    await pool.ready();
    const names = await collect(pool.map<string>('processorName', Array.from({ length: 40 }, () => 10)));
    assert.equal(names.length, 40);
    console.log(`task hosts: ${[...new Set(names)].sort().join(',')} (${pool.size} workers)`);
    if (process.env.POOL_KILL_REMOTE === '1') {
      // A worker on another host SIGKILLed mid-task (the hosts share this machine's pids): its task fails, the pool goes on.
      const path = join(tmpdir(), `mpi4ts-pool-remote-${process.pid}`);
      rmSync(path, { force: true });
      const doomed = rejection(pool.submit('pidThenWait', path, 60_000));
      while (!existsSync(path) || readFileSync(path, 'utf8') === '') await new Promise((r) => setTimeout(r, 20));
      const [pid, host] = readFileSync(path, 'utf8').split(' ');
      rmSync(path, { force: true });
      process.kill(Number(pid), 'SIGKILL');
      const err = await doomed;
      assert.ok(err instanceof MPI.WorkerLostError, String(err));
      assert.match(err.message, new RegExp(`^PoolExecutor: task "pidThenWait" was running on pool worker rank \\d+ of spawned world 1 \\(${host}, pid ${pid}\\) was killed by signal SIGKILL$`));
      assert.equal(err.worker.host, host);
      assert.equal((await collect(pool.map<string>('processorName', Array.from({ length: 8 }, () => 1)))).length, 8);
      assert.equal(pool.size, Number(process.env.POOL_WORKERS ?? 3) - 1);
      console.log(`killed the worker on ${host}; went on`);
    }
    await pool.shutdown();
  },

  async shutdown() {
    const pool = new MPI.PoolExecutor({ module, maxWorkers: 1 });
    await pool.ready();
    const slow = pool.submit('sleep', 300, 'slow');
    const queued = [1, 2, 3].map((x) => rejection(pool.submit('square', x)));
    await new Promise((r) => setTimeout(r, 50));
    await pool.shutdown({ cancelFutures: true });
    assert.equal(await slow, 'slow');
    for (const q of queued) {
      const err = await q;
      assert.ok(err instanceof MPI.PoolError);
      assert.equal(err.message, 'PoolExecutor: the task was cancelled by shutdown({ cancelFutures: true }) before it ran');
    }
    const late = await rejection(pool.submit('square', 2));
    assert.equal(late.message, 'PoolExecutor.submit: the pool is shut down; no task can be submitted');
    // wait: false returns at once; the tasks still run.
    const other = new MPI.PoolExecutor({ module });
    const pending = other.submit('sleep', 200, 'later');
    let settled = false;
    void pending.then(() => (settled = true));
    await other.shutdown({ wait: false });
    assert.equal(settled, false);
    assert.equal(await pending, 'later');
    // Symbol.asyncDispose (what `await using` calls at a block's end) is shutdown with wait.
    // (Called by hand: Node 22's own type stripping would leave `await using` to a V8 that cannot parse it.)
    const scoped = new MPI.PoolExecutor({ module });
    const last = scoped.submit('sleep', 100, 'last');
    await scoped[Symbol.asyncDispose]();
    assert.equal(await Promise.race([last, 'not settled']), 'last');
    assert.equal((await rejection(scoped.submit('square', 1))).message, 'PoolExecutor.submit: the pool is shut down; no task can be submitted');
  },

  async backpressure() {
    const pool = new MPI.PoolExecutor({ module });
    await pool.ready();
    const total = 3 * 1024 * 1024;
    const chunksize = 1000;
    let produced = 0;
    let consumed = 0;
    let most = 0;
    function* inputs(): Generator<number> {
      for (let i = 0; i < total; i++) {
        produced++;
        most = Math.max(most, produced - consumed);
        yield i & 1023;
      }
    }
    // Run with NODE_OPTIONS=--expose-gc: garbage not yet collected is no retention.
    const gc = (globalThis as { gc?: () => void }).gc;
    assert.ok(gc !== undefined, 'run with NODE_OPTIONS=--expose-gc');
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    let heapMost = 0;
    let checksum = 0;
    for await (const r of pool.map<number>('square', inputs(), { chunksize })) {
      consumed++;
      checksum += r;
      if ((consumed & 0x3ffff) === 0) {
        gc();
        heapMost = Math.max(heapMost, process.memoryUsage().heapUsed - heapBefore);
        if (process.env.POOL_HEAP_LOG) console.log(`heap ${consumed} ${((process.memoryUsage().heapUsed - heapBefore) / 1048576).toFixed(1)}`);
      }
    }
    assert.equal(consumed, total);
    let expected = 0;
    for (let i = 0; i < 1024; i++) expected += i * i;
    assert.equal(checksum, expected * (total / 1024));
    // At most 32 chunks per worker between the input and the caller, and the chunk being read.
    const bound = (32 * pool.size + 1) * chunksize;
    assert.ok(most <= bound, `${most} inputs held at once, bound ${bound}`);
    // Held at once, the 3M inputs alone would be some 100 MB of heap (a number in an array is 8 to 16 bytes, a promise each more).
    assert.ok(heapMost < 32 * 1024 * 1024, `heap grew by ${heapMost} bytes`);
    console.log(`held at most ${most} of ${total} inputs (bound ${bound}); heap grew by at most ${(heapMost / 1048576).toFixed(1)} MiB`);
    await pool.shutdown();
  },

  async balance() {
    const pool = new MPI.PoolExecutor({ module });
    await pool.ready();
    const ranks = await collect(pool.starmap<number>('whoSlow', Array.from({ length: 120 }, () => [1, 2, 40])));
    const counts = new Map<number, number>();
    for (const r of ranks) counts.set(r, (counts.get(r) ?? 0) + 1);
    const slow = counts.get(1) ?? 0;
    const fast = Math.min(...[...counts].filter(([r]) => r !== 1).map(([, c]) => c));
    assert.ok(slow < fast, `the slow worker ran ${slow} tasks, the fewest of the fast ones ${fast}`);
    await pool.shutdown();
  },

  async badInput() {
    assert.throws(() => new MPI.PoolExecutor({ module: new URL('./no-such-tasks.ts', import.meta.url) }),
      { name: 'MPIError', code: 'MPI4TS_ERR_ARG', message: `PoolExecutor: the task module ${new URL('./no-such-tasks.ts', import.meta.url).pathname} does not exist` });
    assert.throws(() => new MPI.PoolExecutor({ module, maxWorkers: 0 }),
      { message: 'PoolExecutor: options.maxWorkers must be a whole number >= 1, got 0' });
    assert.throws(() => new MPI.PoolExecutor({ module, maxWorkers: 1.5 }),
      { message: 'PoolExecutor: options.maxWorkers must be a whole number >= 1, got 1.5' });
    assert.throws(() => new MPI.PoolExecutor({ module: 'tasks.ts' }),
      { message: 'PoolExecutor: options.module must be the task module\'s URL (e.g. new URL(\'./tasks.ts\', import.meta.url)) or absolute path, got "tasks.ts"' });
    assert.throws(() => new MPI.PoolExecutor({ module: new URL(import.meta.url) }),
      { message: `PoolExecutor: the task module ${process.argv[1]} is the program itself; put the tasks in a module of their own` });
    const pool = new MPI.PoolExecutor({ module });
    assert.throws(() => pool.map('square', [1], { chunksize: 0 }),
      { code: 'MPI4TS_ERR_ARG', message: 'PoolExecutor.map: options.chunksize must be a whole number >= 1, got 0' });
    assert.throws(() => pool.map('square', 5 as unknown as number[]),
      { message: 'PoolExecutor.map: inputs must be iterable (an array, a generator, a stream), got 5' });
    assert.throws(() => pool.submit(42 as unknown as string),
      { message: 'PoolExecutor.submit: the task must be named by the export of the task module (a non-empty string), got 42' });
    const unknown = await rejection(pool.submit('nope'));
    assert.ok(unknown instanceof MPI.TaskError);
    assert.equal(unknown.message, `the task module ${module.pathname} exports no function "nope" (its functions: add, big, count, exitNow, fail, failAt, noop, pidThenBig, pidThenWait, sleep, square, sum, whoSlow)`);
    assert.equal((await rejection(pool.submit('notAFunction'))).message.startsWith(`the task module ${module.pathname} exports no function "notAFunction"`), true);
    await pool.shutdown();
    const broken = new MPI.PoolExecutor({ module: new URL('./pool-broken-tasks.ts', import.meta.url) });
    const loadErr = await rejection(broken.submit('anything'));
    assert.ok(loadErr instanceof MPI.TaskError);
    assert.equal(loadErr.message, 'this task module cannot load');
    assert.match(loadErr.stack!, /pool-broken-tasks\.ts:2/);
    await broken.shutdown();
  },

  async commExecutor() {
    const root = Number(process.env.POOL_ROOT ?? '0');
    const executor = await MPI.CommExecutor.start(MPI.COMM_WORLD, root, { module });
    if (executor === null) {
      assert.notEqual(MPI.COMM_WORLD.rank, root);
      console.log(`rank ${MPI.COMM_WORLD.rank} served`);
      return;
    }
    assert.equal(MPI.COMM_WORLD.rank, root);
    assert.equal(executor.size, MPI.COMM_WORLD.size - 1);
    const inputs = Array.from({ length: 50 }, (_, i) => i);
    assert.deepEqual(await collect(executor.map('square', inputs, { chunksize: 4 })), inputs.map((x) => x * x));
    const err = await rejection(executor.submit('fail', 'no'));
    assert.equal(err.name, 'RangeError');
    assert.equal(await executor.submit('add', 1, 2), 3);
    await executor.shutdown();
    assert.equal((await rejection(executor.submit('add', 1, 2))).message, 'CommExecutor.submit: the pool is shut down; no task can be submitted');
  },

  async poolOfOne() {
    assert.throws(() => new MPI.PoolExecutor({ module }),
      { message: 'PoolExecutor: no workers: under mpi4ts run --pool, ranks 1..N-1 are the workers, and this job has one rank; run it with -n 2 or more' });
  },

  async spawned() {
    // Without --pool (mpi4ts run -n 1): the pool spawns its workers, maxWorkers of them, and shuts them down.
    const pool = new MPI.PoolExecutor({ module, maxWorkers: 3 });
    await pool.ready();
    assert.equal(pool.size, 3);
    assert.equal(await pool.submit('square', 9), 81);
    const inputs = Array.from({ length: 200 }, (_, i) => i);
    assert.deepEqual(await collect(pool.map('square', inputs, { chunksize: 7 })), inputs.map((x) => x * x));
    const failed = await rejection(pool.submit('fail', 'spawned boom'));
    assert.ok(failed instanceof MPI.TaskError, String(failed));
    assert.match(failed.message, /spawned boom/);
    // 8 MB there and back as raw typed arrays: big(n)[i] = i / 2.
    const big = await pool.submit<Float64Array>('big', 1 << 20);
    assert.ok(big instanceof Float64Array && big.length === 1 << 20 && big[12345] === 12345 / 2);
    assert.equal(await pool.submit<number>('sum', big), ((1 << 20) * ((1 << 20) - 1)) / 4);
    await pool.shutdown();
    // No maxWorkers: a worker per core in a local job (MPI.UNIVERSE_SIZE is -n, 1).
    const wide = new MPI.PoolExecutor({ module });
    await wide.ready();
    assert.equal(wide.size, availableParallelism());
    assert.equal(await wide.submit('add', 40, 2), 42);
    await wide.shutdown();
    await assert.rejects(MPI.CommExecutor.start(MPI.COMM_SELF, 0, { module }),
      { message: 'CommExecutor.start: the communicator has 1 rank; a CommExecutor needs its root and at least one other rank to serve' });
  },
};

for (const check of checks) {
  const f = run[check];
  if (f === undefined) throw new Error(`no check ${check}`);
  await f();
  console.log(`ok ${check}`);
}
