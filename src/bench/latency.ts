/**
 * osu_latency and osu_multi_lat: ping-pong, half the round trip. As OSU:
 * a barrier before each size, `warmup` untimed round trips, then the clock
 * runs over `iterations` round trips; latency = time / (2 * iterations).
 * multi-lat runs size/2 pairs (rank r with r + size/2) at once and reports
 * the average over all ranks. The progress line's ticks (rank 0's, on a
 * terminal) are taken out of rank 0's time: they run between round trips.
 * Its peer's (multi-lat) keeps the wait for a draw, one write in 0.1 s.
 */
import type { Comm } from '../comm/index.js';
import type { BenchConfig } from './config.js';
import { message, now, p2pBarrier, spreadAtRoot, type RowSink } from './common.js';
import type { ProgressLine } from './progress.js';
import { loopCounts, type LoopCounts } from './tests.js';

const PING_TAG = 1;

/** Half round-trip time in microseconds between this rank and `peer`. */
async function pingpong(comm: Comm, peer: number, initiator: boolean, size: number, typed: boolean, loops: LoopCounts, progress: ProgressLine): Promise<number> {
  const outgoing = message(size, typed);
  const incoming = new Uint8Array(size);
  const receive = typed ? () => comm.recvInto(incoming, peer, PING_TAG) : () => comm.recv(peer, PING_TAG);
  let start = now();
  for (let i = 0; i < loops.iterations + loops.warmup; i++) {
    if (i === loops.warmup) start = now();
    if (initiator) {
      await comm.send(outgoing, peer, PING_TAG);
      await receive();
    } else {
      await receive();
      await comm.send(outgoing, peer, PING_TAG);
    }
    if (i === progress.due) start += progress.tick(i);
  }
  return ((now() - start) * 1e6) / (2 * loops.iterations);
}

export async function runLatency(comm: Comm, config: BenchConfig, emit: RowSink, progress: ProgressLine): Promise<void> {
  const pairs = Math.floor(comm.size / 2);
  const initiator = comm.rank < pairs;
  const peer = initiator ? comm.rank + pairs : comm.rank - pairs;
  for (const size of config.sizes) {
    const loops = loopCounts('latency', size, config.iterations, config.warmup);
    await p2pBarrier(comm);
    progress.begin(size, loops.warmup, loops.iterations);
    const mine = await pingpong(comm, peer, initiator, size, config.typed, loops, progress);
    // osu_latency reports rank 0's figure; osu_multi_lat the average over every rank.
    const value = config.test === 'latency' ? mine : (await spreadAtRoot(comm, mine)).avg;
    emit({ size, value, iterations: loops.iterations });
  }
}
