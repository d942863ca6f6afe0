// A rank blocked in recv while its peer sleeps: how much CPU does the wait
// cost once the progress engine has backed off? Rank 1 waits `ms` (argv)
// for rank 0's message and prints its CPU time over that wait as JSON.
import * as MPI from 'mpi4ts';
import { setTimeout as sleep } from 'node:timers/promises';

const comm = MPI.COMM_WORLD;
const waitMs = Number(process.argv[2] ?? 3000);
await comm.barrier();
if (comm.rank === 0) {
  await sleep(waitMs);
  await comm.send('wake up', 1, 7);
} else if (comm.rank === 1) {
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const got = await comm.recv(0, 7);
  const cpu = process.cpuUsage(cpuBefore);
  console.log(JSON.stringify({ got, cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - start }));
}
