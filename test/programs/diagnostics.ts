// Subscribes to mpi4ts's diagnostics channels before importing mpi4ts (the
// world starts during the import) and prints what each published, one JSON
// line per message.
//   diagnostics.ts            a ring exchange, then finalize; rank 0 waits until
//                             it has heard every other rank end (their goodbyes
//                             come before they wait for it in finalize)
//   diagnostics.ts abort      rank 1 calls comm.abort(3)
import diagnostics_channel from 'node:diagnostics_channel';
import { writeSync } from 'node:fs';

const mode = process.argv[2] === 'abort' ? 'abort' : 'ring';
const names = ['mpi4ts:world:start', 'mpi4ts:world:finalize', 'mpi4ts:transport:connect', 'mpi4ts:p2p:peer-ended', 'mpi4ts:job:abort'];
const seen: string[] = [];
let rank = -1;
for (const name of names) {
  diagnostics_channel.subscribe(name, (message) => {
    const line = `${name} ${JSON.stringify(message)}`;
    seen.push(line);
    // The abort ends the process before any later print: say it now.
    if (name === 'mpi4ts:job:abort') writeSync(1, `rank ${rank}: ${line}\n`);
  });
}

const MPI = await import('mpi4ts');
const comm = MPI.COMM_WORLD;
rank = comm.rank;
const next = (comm.rank + 1) % comm.size;
const prev = (comm.rank + comm.size - 1) % comm.size;
await Promise.all([comm.send(comm.rank, next, 1), comm.recv(prev, 1)]);
if (mode === 'abort') {
  await comm.barrier();
  if (comm.rank === 1) await comm.abort(3);
  await new Promise((resolve) => setTimeout(resolve, 30_000));
}
if (comm.rank === 0) {
  const deadline = Date.now() + 20_000;
  while (seen.filter((l) => l.startsWith('mpi4ts:p2p:peer-ended ')).length < comm.size - 1 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
await MPI.finalize();
for (const line of seen) console.log(`rank ${comm.rank}: ${line}`);
