// Rank 0 starts argv[2] isends of argv[3] KiB each (one typed array, never
// changed) to rank 1, which sleeps argv[4] s before receiving them: a flood
// of eager-sized messages at a receiver that is not receiving. Rank 1 checks
// every message (order and bytes) and prints how far its resident memory grew
// above what it was before the flood: eager credit bounds it
// (test/reliability/flood.probe.ts).
import * as MPI from 'mpi4ts';
import assert from 'node:assert/strict';

const comm = MPI.COMM_WORLD;
const count = Number(process.argv[2] ?? '20000');
const bytes = Number(process.argv[3] ?? '60') * 1024;
const sleepSeconds = Number(process.argv[4] ?? '10');

const message = new Uint8Array(bytes);
for (let i = 0; i < bytes; i++) message[i] = (i * 31 + 7) & 0xff;

if (comm.rank === 0) {
  await comm.barrier();
  const requests = [];
  for (let i = 0; i < count; i++) requests.push(comm.isend(message, 1, i));
  await MPI.Request.waitall(requests);
  console.log(`rank 0 sent ${count}`);
} else if (comm.rank === 1) {
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sample = (): void => {
    peak = Math.max(peak, process.memoryUsage().rss);
  };
  const sampler = setInterval(sample, 50);
  await comm.barrier();
  await new Promise((r) => setTimeout(r, sleepSeconds * 1000));
  const into = new Uint8Array(bytes);
  const status = new MPI.Status();
  for (let i = 0; i < count; i++) {
    await comm.recvInto(into, 0, MPI.ANY_TAG, status);
    assert.equal(status.tag, i, 'messages arrive in the order they were sent');
    if (i % 997 === 0 || i === count - 1) assert.deepEqual(into, message, `message ${i} intact`);
    if (i % 256 === 0) sample();
  }
  clearInterval(sampler);
  sample();
  console.log(`rank 1 received ${count}, rss grew ${Math.round((peak - baseline) / 1048576)} MiB`);
}
