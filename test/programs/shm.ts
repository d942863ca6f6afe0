// Shared-memory transport checks, by mode (argv[2]):
//   transports  print this rank's transport per peer
//   alltoall    every rank sends every other rank messages of many sizes (eager
//               and rendezvous, larger than a small ring), as typed arrays and
//               inside objects, all posted before any is received (so frames
//               wait behind full rings), and checks them
//   killed      exchange over the rings, show the inbox is mapped, then rank 1
//               kills itself with SIGKILL
import { readFileSync } from 'node:fs';
import * as MPI from 'mpi4ts';

const comm = MPI.COMM_WORLD;
const mode = process.argv[2];
const SIZES = [0, 1, 100, 4000, 70_000, 300_000];
/** Objects go under tags of their own; each is encoded in scratch memory that the next send reuses. */
const OBJECT_TAG = 1_000_000;
/** Enough small objects to fill a 64 KiB ring, so that some wait for room. */
const copiesOf = (length: number): number => (length <= 4000 ? 24 : 2);

function pattern(from: number, to: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (from * 31 + to * 7 + i) & 0xff;
  return bytes;
}

async function alltoall(): Promise<void> {
  const sends: Promise<void>[] = [];
  for (let peer = 0; peer < comm.size; peer++) {
    if (peer === comm.rank) continue;
    for (const length of SIZES) sends.push(comm.send(pattern(comm.rank, peer, length), peer, length));
    for (const length of SIZES) {
      for (let copy = 0; copy < copiesOf(length); copy++) {
        sends.push(comm.send({ from: comm.rank, copy, bytes: pattern(comm.rank + copy, peer, length) }, peer, OBJECT_TAG + length));
      }
    }
  }
  for (let peer = 0; peer < comm.size; peer++) {
    if (peer === comm.rank) continue;
    for (const length of SIZES) {
      const got = await comm.recv<Uint8Array>(peer, length);
      const want = pattern(peer, comm.rank, length);
      if (!(got instanceof Uint8Array) || Buffer.compare(got, want) !== 0) throw new Error(`rank ${comm.rank}: bad ${length}-byte message from ${peer}`);
    }
    for (const length of SIZES) {
      for (let copy = 0; copy < copiesOf(length); copy++) {
        const got = await comm.recv<{ from: number; copy: number; bytes: Uint8Array }>(peer, OBJECT_TAG + length);
        const want = pattern(peer + copy, comm.rank, length);
        if (got.from !== peer || got.copy !== copy || Buffer.compare(got.bytes, want) !== 0) {
          throw new Error(`rank ${comm.rank}: bad object ${copy} with ${length} bytes from ${peer}`);
        }
      }
    }
  }
  await Promise.all(sends);
  console.log(`rank ${comm.rank} alltoall ok`);
}

async function killed(): Promise<void> {
  const peer = 1 - comm.rank;
  await comm.send(new Uint8Array(1000), peer, 1);
  await comm.recv(peer, 1);
  const inbox = readFileSync('/proc/self/maps', 'utf8').split('\n').find((l) => l.includes('mpi4ts-inbox'));
  console.log(`rank ${comm.rank} via ${MPI.runtimeInfo().transports[peer]} maps ${inbox === undefined ? 'nothing' : 'its inbox'}`);
  await comm.send('mapped', peer, 2);
  await comm.recv(peer, 2);
  if (comm.rank === 1) process.kill(process.pid, 'SIGKILL');
  await comm.recv(peer, 3);
}

if (mode === 'transports') console.log(`rank ${comm.rank} ${MPI.runtimeInfo().transports.join(',')}`);
else if (mode === 'alltoall') await alltoall();
else if (mode === 'killed') await killed();
else throw new Error(`unknown mode ${String(mode)}`);
