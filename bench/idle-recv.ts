// CPU a rank uses while blocked in recv: rank 1 makes rank 0 wait 5 s. After the
// spin window (MPI4TS_POLL_US) the waiting rank sleeps in epoll; the target
// is under 5% of a core.   mpi4ts run -n 2 bench/idle-recv.ts   (MPI4TS_TRANSPORT=unix for sockets)
import * as MPI from 'mpi4ts';
const comm = MPI.COMM_WORLD;
if (comm.rank === 0) {
  await comm.recv(1, 0);
  const before = process.cpuUsage();
  const t0 = Date.now();
  await comm.recv(1, 1);
  const used = process.cpuUsage(before);
  const ms = Date.now() - t0;
  console.log(`${MPI.runtimeInfo().transports[1]}: blocked ${ms} ms in recv, used ${((used.user + used.system) / 1000 / ms * 100).toFixed(2)}% of a core`);
} else {
  await comm.send(0, 0, 0);
  await new Promise((r) => setTimeout(r, 5000));
  await comm.send(1, 0, 1);
}
