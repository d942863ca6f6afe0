// Quick ping-pong between ranks 0 and 1: half round-trip latency of small
// messages and bandwidth of large typed arrays (both ways, one at a time).
// mpi4ts run -n 2 bench/pingpong.ts   (MPI4TS_TRANSPORT=unix or tcp for sockets)
import * as MPI from 'mpi4ts';

const comm = MPI.COMM_WORLD;
const peer = 1 - comm.rank;

async function pingpong(message: unknown, iterations: number): Promise<number> {
  const start = MPI.wtime();
  for (let i = 0; i < iterations; i++) {
    if (comm.rank === 0) {
      await comm.send(message, peer, 1);
      await comm.recv(peer, 1);
    } else {
      const got = await comm.recv(peer, 1);
      await comm.send(got, peer, 1);
    }
  }
  return (MPI.wtime() - start) / iterations / 2;
}

async function pingpongInto(buf: Uint8Array, iterations: number): Promise<number> {
  const start = MPI.wtime();
  for (let i = 0; i < iterations; i++) {
    if (comm.rank === 0) {
      await comm.send(buf, peer, 2);
      await comm.recvInto(buf, peer, 2);
    } else {
      await comm.recvInto(buf, peer, 2);
      await comm.send(buf, peer, 2);
    }
  }
  return (MPI.wtime() - start) / iterations / 2;
}

if (comm.size === 2) {
  await pingpong(new Uint8Array(8), 2000);
  const typed8 = await pingpong(new Uint8Array(8), 20000);
  const object8 = await pingpong(12345678, 20000);
  const big = new Uint8Array(4 * 1024 * 1024);
  // The large-message path takes a few hundred messages to warm up (JIT tiers).
  await pingpongInto(big, 300);
  const bigTime = await pingpongInto(big, 100);
  if (comm.rank === 0) {
    const transport = MPI.runtimeInfo().transports[peer];
    console.log(`${transport}: 8 B latency typed ${(typed8 * 1e6).toFixed(1)} us, number ${(object8 * 1e6).toFixed(1)} us; ` +
      `4 MiB bandwidth ${(big.length / bigTime / 1e9).toFixed(2)} GB/s`);
  }
} else if (comm.rank === 0) {
  console.log('pingpong needs exactly 2 ranks');
}
