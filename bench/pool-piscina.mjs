// Tasks per second of an empty task through piscina with 4 worker threads, for bench/pool.ts:
//   node bench/pool-piscina.mjs N
// N tasks run at once, after a warm-up; one JSON line out.
import { performance } from 'node:perf_hooks';

const { Piscina } = await import('piscina');

const n = Number(process.argv[2] ?? 200000);
const pool = new Piscina({ filename: new URL('./pool-piscina-task.mjs', import.meta.url).href, minThreads: 4, maxThreads: 4 });
async function burst(count) {
  const started = performance.now();
  const pending = new Array(count);
  for (let i = 0; i < count; i++) pending[i] = pool.run(null);
  await Promise.all(pending);
  return count / ((performance.now() - started) / 1000);
}
await burst(Math.min(n, 20000));
const rate = await burst(n);
await pool.destroy();
console.log(JSON.stringify({ workers: 4, tasks: n, tasksPerSecond: rate }));
