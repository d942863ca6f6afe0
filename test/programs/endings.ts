// Ranks whose programs end while others still wait for them, in the way
// argv[2] names; test/reliability/endings.test.ts checks that the job ends
// with an error naming both, instead of hanging until --timeout.
import * as MPI from 'mpi4ts';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const comm = MPI.COMM_WORLD;
const { rank } = comm;

switch (process.argv[2]) {
  case 'recv':
    // Rank 1 finishes at once; rank 0 waits for a message it never sends.
    if (rank === 0) await comm.recv(1, 5);
    break;
  case 'collective':
    // Rank 2 finishes without the bcast the others call.
    if (rank !== 2) await comm.bcast(rank === 0 ? 'x' : null, 2);
    break;
  case 'anySource':
    if (rank === 0) await comm.recv(MPI.ANY_SOURCE, 5);
    break;
  case 'probe':
    if (rank === 0) await comm.probe(1, 5);
    break;
  case 'exit':
    // Rank 2 leaves in the middle of the program, without finalize.
    await comm.barrier();
    if (rank === 2) process.exit(0);
    await comm.allreduce(1, MPI.SUM);
    break;
  case 'sendrecv': {
    // A bad dest fails at once, and leaves nothing posted: the rank exits.
    const error = await comm.sendrecv(1, comm.size + 5, 0, 0, 0).then(() => 'no error', (err: Error) => err.message);
    console.log(`rank ${rank}: ${error}`);
    break;
  }
  case 'mismatch':
    if (rank === 0) {
      await comm.bcast(1, 0);
      await comm.reduce(1, MPI.SUM, 0);
    } else {
      await comm.reduce(1, MPI.SUM, 0);
      await comm.bcast(1, 0);
    }
    break;
  case 'tooLarge': {
    // 2 x 2.5 GiB of zeroed arrays (untouched pages: no real memory) in one message.
    const error = await comm.send({ a: new Float64Array(335_544_320), b: new Float64Array(335_544_320) }, (rank + 1) % comm.size)
      .then(() => 'no error', (err: Error) => `${err.name}: ${err.message}`);
    console.log(`rank ${rank}: ${error}`);
    break;
  }
  case 'key': {
    // The launcher's key reached this rank (its initial environment says so), but the program's
    // environment no longer holds it, so nothing it starts inherits it, and no socket name shows it.
    const initial = readFileSync('/proc/self/environ', 'utf8').split('\0').find((v) => v.startsWith('MPI4TS_JOB_KEY='));
    const key = initial?.slice('MPI4TS_JOB_KEY='.length) ?? '';
    const child = spawnSync('env', { encoding: 'utf8' }).stdout;
    const sockets = spawnSync('ss', ['-xlpH'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(`pid=${process.pid},`));
    console.log(JSON.stringify({
      rank, keyLength: key.length, inEnv: process.env.MPI4TS_JOB_KEY !== undefined, inChild: child.includes('MPI4TS_JOB_KEY'),
      sockets: sockets.length, keyInSocketName: key.length >= 12 && sockets.some((l) => l.includes(key.slice(0, 12))),
    }));
    break;
  }
  default:
    throw new Error(`unknown case ${process.argv[2]}`);
}
