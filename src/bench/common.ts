/**
 * What every benchmark family shares: the messages it sends, a barrier and
 * a statistics gather built on point-to-point alone (so the point-to-point
 * tests depend on nothing they do not measure), and the clock.
 */
import { performance } from 'node:perf_hooks';
import type { Comm } from '../comm/index.js';
import type { Row } from './format.js';

/** Tags of the benchmark's own bookkeeping, far from the measured traffic. */
export const SYNC_TAG = 32_001;
export const STATS_TAG = 32_002;

/** Seconds from a monotonic clock, as MPI_Wtime. */
export function now(): number {
  return performance.now() / 1000;
}

/**
 * The value a benchmark sends for `size` bytes. Typed path: a Uint8Array,
 * which travels as raw bytes. Object path: a plain object holding the
 * bytes, which goes through structured clone as any JavaScript object does
 * (the counterpart of mpi4py's pickled send/recv).
 */
export function message(size: number, typed: boolean): unknown {
  const bytes = new Uint8Array(size).fill(size & 0xff);
  return typed ? bytes : { bytes };
}

/** Called by every rank of the benchmark between sizes. */
export type RowSink = (row: Row) => void;

/** Every rank reaches this before any leaves it: a gather to rank 0 then a release. */
export async function p2pBarrier(comm: Comm): Promise<void> {
  if (comm.size === 1) return;
  if (comm.rank === 0) {
    for (let r = 1; r < comm.size; r++) await comm.recv(r, SYNC_TAG);
    for (let r = 1; r < comm.size; r++) await comm.send(null, r, SYNC_TAG);
  } else {
    await comm.send(null, 0, SYNC_TAG);
    await comm.recv(0, SYNC_TAG);
  }
}

export interface Spread {
  avg: number;
  min: number;
  max: number;
}

/** Average, minimum and maximum over the ranks of one figure per rank; meaningful at rank 0 only. */
export async function spreadAtRoot(comm: Comm, mine: number): Promise<Spread> {
  if (comm.rank !== 0) {
    await comm.send(mine, 0, STATS_TAG);
    return { avg: mine, min: mine, max: mine };
  }
  const all = [mine];
  for (let r = 1; r < comm.size; r++) all.push(await comm.recv<number>(r, STATS_TAG));
  return { avg: all.reduce((a, b) => a + b, 0) / all.length, min: Math.min(...all), max: Math.max(...all) };
}
