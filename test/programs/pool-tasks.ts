// Tasks of test/programs/pool.ts: the exports are the tasks, named by export.
import { writeFileSync } from 'node:fs';

let calls = 0;

export function square(x: number): number {
  return x * x;
}

export function add(a: number, b: number): number {
  return a + b;
}

export function noop(): void {}

/** How many tasks this worker ran before this one, and its pid. */
export function count(): [number, number] {
  return [calls++, process.pid];
}

export function fail(message: string): never {
  throw new RangeError(message);
}

export function failAt(x: number, bad: number): number {
  if (x === bad) throw new TypeError(`input ${x} is bad`);
  return x * 10;
}

export async function sleep(ms: number, value: unknown = null): Promise<unknown> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return value;
}

/** A typed array of `n` doubles, element i = i * 0.5: returned raw. */
export function big(n: number): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = i * 0.5;
  return a;
}

export function sum(a: Float64Array): number {
  let s = 0;
  for (const x of a) s += x;
  return s;
}

/** Writes this worker's pid to `path`, then waits `ms` (the test kills it meanwhile). */
export async function pidThenWait(path: string, ms: number): Promise<string> {
  writeFileSync(path, String(process.pid));
  await new Promise((resolve) => setTimeout(resolve, ms));
  return 'finished';
}

/** Writes this worker's pid to `path` once `n` doubles are ready, then returns them: the test kills it while they travel (or just before). */
export function pidThenBig(path: string, n: number): Float64Array {
  const a = new Float64Array(n).fill(2.5);
  writeFileSync(path, String(process.pid));
  return a;
}

/** The world rank of the worker (MPI4TS_RANK) after `ms`, slower on `slowRank`. */
export async function whoSlow(slowRank: number, fastMs: number, slowMs: number): Promise<number> {
  const rank = Number(process.env.MPI4TS_RANK);
  await new Promise((resolve) => setTimeout(resolve, rank === slowRank ? slowMs : fastMs));
  return rank;
}

/** Ends the worker's process from inside a task. */
export function exitNow(code: number): never {
  process.exit(code);
}

export const notAFunction = 42;
