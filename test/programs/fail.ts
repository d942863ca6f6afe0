// Fails in the way argv[2] names, on the rank argv[3] names, while the others
// wait for a message that never comes. test/failure.test.ts checks the job ends.
import * as MPI from 'mpi4ts';

const comm = MPI.COMM_WORLD;
const mode = process.argv[2] ?? 'none';
const culprit = Number(process.argv[3] ?? '0');

console.log(`ready ${comm.rank}`);
// Everybody is up before anyone fails: all report to rank 0, which then releases them.
if (comm.rank === 0) {
  for (let r = 1; r < comm.size; r++) await comm.recv(MPI.ANY_SOURCE, 1);
  for (let r = 1; r < comm.size; r++) await comm.send('go', r, 2);
} else {
  await comm.send('up', 0, 1);
  await comm.recv(0, 2);
}

if (comm.rank === culprit) {
  switch (mode) {
    case 'throw':
      throw new Error(`boom from rank ${comm.rank}`);
    case 'reject':
      void Promise.reject(new Error(`rejected on rank ${comm.rank}`));
      break;
    case 'exit':
      process.exit(3);
      break;
    case 'signal':
      process.kill(process.pid, 'SIGKILL');
      break;
    case 'abort':
      await comm.abort(5);
      break;
    case 'hang':
      // A job that never ends but is no deadlock: besides its receive, it waits on a timer of its own.
      setInterval(() => {}, 1000);
      break;
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}
// Nobody sends tag 99: without the launcher stopping the job, this waits for ever.
await comm.recv(MPI.ANY_SOURCE, 99);
