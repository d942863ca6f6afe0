// Tasks per second of an empty task through MPI.PoolExecutor, for bench/pool.ts:
//   mpi4ts run -n 5 --pool bench/pool-mpi4ts.ts N
// (4 workers). N tasks submitted at once, after a warm-up; one JSON line out.
import * as MPI from 'mpi4ts';

const n = Number(process.argv[2] ?? 200000);
const pool = new MPI.PoolExecutor({ module: new URL('./pool-tasks.ts', import.meta.url) });
async function burst(count: number): Promise<number> {
  const started = performance.now();
  const pending: Promise<unknown>[] = new Array(count);
  for (let i = 0; i < count; i++) pending[i] = pool.submit('noop');
  await Promise.all(pending);
  return count / ((performance.now() - started) / 1000);
}
await burst(Math.min(n, 20000));
const rate = await burst(n);
await pool.shutdown();
console.log(JSON.stringify({ workers: pool.size, tasks: n, tasksPerSecond: rate }));
