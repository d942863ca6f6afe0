// Broadcasting: the root's value reaches every rank. Any value structured
// clone can carry goes, here mpi4py's tutorial dictionary as an object (with
// {re, im} for Python's complex 2+3j, an array for its tuple).
// Run it with: npx mpi4ts run -n 4 examples/bcast.ts
import { isDeepStrictEqual } from 'node:util';
import * as MPI from 'mpi4ts';

interface Data {
  key1: [number, number, { re: number; im: number }];
  key2: [string, string];
}

function makeData(): Data {
  return { key1: [7, 2.72, { re: 2, im: 3 }], key2: ['abc', 'xyz'] };
}

const comm = MPI.COMM_WORLD;
const data = await comm.bcast(comm.rank === 0 ? makeData() : null, 0);
if (!isDeepStrictEqual(data, makeData())) throw new Error(`rank ${comm.rank} got ${JSON.stringify(data)}`);
console.log(`rank ${comm.rank} got ${JSON.stringify(data)}`);
