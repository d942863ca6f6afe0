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
  // The buffer forms (buffers.ts): the same MPI calls as their value forms, other messages.
  bcastInto: 19,
  reduceInto: 20,
  gatherInto: 21,
  scatterInto: 22,
  allgatherInto: 23,
  alltoallInto: 24,
  alltoallv: 25,
  alltoallw: 26,
  scanInto: 27,
  exscanInto: 28,
  reduceScatterBlockInto: 29,
  reduceScatterInto: 30,
  gathervInto: 31,
  scattervInto: 32,
  allgathervInto: 33,
  create: 34,
  createGroup: 35,
  // Intercommunicators (comm/intercomm.ts); 36-39 left to another change. Their
  // collectives (barrier, bcast, ...) keep their calls' codes: they run in the
  // intercommunicator's own contexts.
  createIntercomm: 40,
  merge: 41,
  disconnect: 42,
};

/**
 * A nonblocking collective (ibcast) matches only its own kind on the other
 * ranks (MPI 4.1 section 6.12: never a blocking call): its code is the
 * blocking call's plus this.
 */
const NONBLOCKING = 100;

const NAMES = new Map<number, string>();
for (const [name, code] of Object.entries(CODES)) if (!NAMES.has(code)) NAMES.set(code, name);

/** The code of a collective call by its name (a code of 255 for one not listed). */
export function collectiveCode(call: string): number {
  const code = CODES[call];
  if (code !== undefined) return code;
  const blocking = call.startsWith('i') ? CODES[call[1]!.toLowerCase() + call.slice(2)] : undefined;
  return blocking === undefined ? 255 : blocking + NONBLOCKING;
}

/** The call a code stands for, for errors. */
export function collectiveName(code: number): string {
  if (code === 0) return 'a point-to-point message';
  const blocking = code > NONBLOCKING ? NAMES.get(code - NONBLOCKING) : undefined;
  if (blocking !== undefined) return `i${blocking}`;
  return NAMES.get(code) ?? `collective call ${code}`;
}
