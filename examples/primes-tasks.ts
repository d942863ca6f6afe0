// The task of examples/primes-pool.ts: trial division up to the square root.
// A task module's exports are the tasks a pool runs, named by export.

/** Whether n (an integer below 2^53) is prime. */
export function isPrime(n: number): boolean {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  const limit = Math.floor(Math.sqrt(n));
  for (let d = 3; d <= limit; d += 2) {
    if (n % d === 0) return false;
  }
  return true;
}
