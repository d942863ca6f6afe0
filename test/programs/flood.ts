// Rank 0 streams argv[2] MiB in 4 MiB messages as fast as it can; rank 1 receives
// them slowly (sleeping between receives). Both print their peak RSS in MiB: with
// rendezvous the sender waits for each receive, so neither side's memory grows.
import * as MPI from 'mpi4ts';

const comm = MPI.COMM_WORLD;
const totalMiB = Number(process.argv[2] ?? '2048');
const chunk = 4 * 1024 * 1024;
const count = totalMiB / 4;
let peak = 0;
const sample = (): void => {
  peak = Math.max(peak, process.memoryUsage().rss);
};

if (comm.rank === 0) {
  const data = new Uint8Array(chunk);
  for (let i = 0; i < count; i++) {
    data[0] = i & 0xff;
    await comm.send(data, 1, 1);
    sample();
  }
} else if (comm.rank === 1) {
  const buf = new Uint8Array(chunk);
  for (let i = 0; i < count; i++) {
    await comm.recvInto(buf, 0, 1);
    if (buf[0] !== (i & 0xff)) throw new Error(`message ${i} out of order`);
    sample();
    if (i % 8 === 0) await new Promise((r) => setTimeout(r, 5));
  }
}
console.log(`rank ${comm.rank} peak rss ${Math.round(peak / 1048576)} MiB`);
