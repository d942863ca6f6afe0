/**
 * A code for each collective call, carried by every message of the call
 * (FrameHeader.collective): ranks that reach the same call number with
 * different calls then fail with an error that says so, instead of reading
 * each other's data as their own. Codes are on the wire: add, never renumber.
 *
 * # Unfinished features
 * None of its own: a call added to the folder (index.ts lists those
 * missing) takes a new code here.
 */
const CODES: Record<string, number> = {
  barrier: 1,
  bcast: 2,
  scatter: 3,
  gather: 4,
  allgather: 5,
  alltoall: 6,
  reduce: 7,
  // The same call in MPI (MPI_Allreduce), and the same messages here.
  allreduce: 8,
  allreduceInto: 8,
  scan: 9,
  exscan: 10,
  gatherv: 11,
  scatterv: 12,
  allgatherv: 13,
  reduceScatter: 14,
  dup: 15,
  split: 16,
  splitType: 17,
  createCart: 18,
};

const NAMES = new Map<number, string>();
for (const [name, code] of Object.entries(CODES)) if (!NAMES.has(code)) NAMES.set(code, name);

/** The code of a collective call by its name (a code of 255 for one not listed). */
export function collectiveCode(call: string): number {
  return CODES[call] ?? 255;
}

/** The call a code stands for, for errors. */
export function collectiveName(code: number): string {
  if (code === 0) return 'a point-to-point message';
  return NAMES.get(code) ?? `collective call ${code}`;
}
