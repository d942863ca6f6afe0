// Which of a list of big numbers are prime, each checked on a pool worker,
// as mpi4py's demo/futures/run_primes.py does with MPIPoolExecutor; the
// answers are checked against the same computation done here.
// Run it with: npx mpi4ts run -n 4 --pool examples/primes-pool.ts
// (rank 0 runs this script; ranks 1..3 are the pool's workers)
import * as MPI from 'mpi4ts';

const tasks = new URL('./primes-tasks.ts', import.meta.url);
// The same module, loaded here too, for the local check.
const { isPrime } = (await import(tasks.href)) as typeof import('./primes-tasks.js');

// Big primes and big composites alike (the composites are products of two large primes, as slow to rule out).
const NUMBERS = [
  112272535095293, 112582705942171, 112272535095293, 115280095190773, 115797848077099,
  1099726899285419, 10000019 * 10000079, 2147483647, 2147483647 * 3,
];

const pool = new MPI.PoolExecutor({ module: tasks });
await pool.ready();
const answers: boolean[] = [];
try {
  for await (const prime of pool.map<boolean>('isPrime', NUMBERS)) answers.push(prime);
} finally {
  await pool.shutdown();
}

NUMBERS.forEach((n, i) => console.log(`${n} is ${answers[i] ? 'prime' : 'not prime'}`));
const expected = NUMBERS.map(isPrime);
if (answers.some((a, i) => a !== expected[i])) throw new Error(`the pool's answers ${answers} differ from the local ones ${expected}`);
console.log(`primes-pool: ${answers.filter(Boolean).length} of ${NUMBERS.length} numbers are prime, as computed locally (${pool.size} workers)`);
