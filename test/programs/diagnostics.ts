// Subscribes to every mpi4ts diagnostics channel before importing mpi4ts (the
// world starts during the import), runs a ring exchange and finalizes; prints
// what each channel published, one JSON line per message.
import diagnostics_channel from 'node:diagnostics_channel';

const names = ['mpi4ts:world:start', 'mpi4ts:world:finalize', 'mpi4ts:transport:connect', 'mpi4ts:transport:peer-ended'];
const seen: string[] = [];
for (const name of names) diagnostics_channel.subscribe(name, (message) => seen.push(`${name} ${JSON.stringify(message)}`));

const MPI = await import('mpi4ts');
const comm = MPI.COMM_WORLD;
const next = (comm.rank + 1) % comm.size;
const prev = (comm.rank + comm.size - 1) % comm.size;
await Promise.all([comm.send(comm.rank, next, 1), comm.recv(prev, 1)]);
await MPI.finalize();
for (const line of seen) console.log(`rank ${comm.rank}: ${line}`);
