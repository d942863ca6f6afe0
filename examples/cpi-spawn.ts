// cpi with spawned workers, as mpi4py's demo/spawning cpi-master and
// cpi-worker: the master (this program started by mpi4ts run, at any number
// of ranks) spawns WORKERS copies of this same file; a copy with a parent
// (MPI.getParent() is not null) is a worker. The master's rank 0 broadcasts
// the number of intervals n across the intercommunicator (bcastInto, mpi4py's
// comm.Bcast([N, MPI.INT], root=MPI.ROOT)); worker r sums the midpoint rule's
// intervals r, r+workers, ...; reduceInto adds their parts up at the master's
// rank 0 (comm.Reduce(None, [PI, MPI.DOUBLE], op=MPI.SUM, root=MPI.ROOT)),
// which checks pi to 1e-6 and prints it.
// Run it with: npx mpi4ts run -n 1 examples/cpi-spawn.ts [workers] [n]   (default 4 workers, n = 1000000)
import * as MPI from 'mpi4ts';
import { fileURLToPath } from 'node:url';

const parent = MPI.getParent();

if (parent === null) {
  // The master.
  const workers = Number(process.argv[2] ?? 4);
  const n = Number(process.argv[3] ?? 1_000_000);
  const comm = MPI.COMM_WORLD;
  const workersComm = await comm.spawn(fileURLToPath(import.meta.url), [], workers, 0);
  // Only the master's rank 0 sends and receives; its other ranks take no part (MPI.PROC_NULL).
  const me = comm.rank === 0 ? MPI.ROOT : MPI.PROC_NULL;
  await workersComm.bcastInto(new Int32Array([n]), me);
  const pi = new Float64Array(1);
  await workersComm.reduceInto(null, pi, MPI.SUM, me);
  if (comm.rank === 0) {
    const error = Math.abs(pi[0]! - Math.PI);
    if (!(error < 1e-6)) throw new Error(`cpi-spawn: pi came out as ${pi[0]}, off by ${error}`);
    console.log(`pi is approximately ${pi[0]!.toFixed(16)}, error ${error.toExponential(2)} (${workers} spawned workers, n = ${n})`);
  }
  await workersComm.disconnect();
} else {
  // A worker: its COMM_WORLD is the workers; the master's rank 0 is rank 0 of the remote group.
  const { rank, size } = MPI.COMM_WORLD;
  const n = new Int32Array(1);
  await parent.bcastInto(n, 0);
  const h = 1 / n[0]!;
  let sum = 0;
  for (let i = rank; i < n[0]!; i += size) {
    const x = h * (i + 0.5);
    sum += 4 / (1 + x * x);
  }
  await parent.reduceInto(new Float64Array([h * sum]), null, MPI.SUM, 0);
  await parent.disconnect();
}
