/**
 * osu_bw and osu_bibw. bw: rank 0 posts a window of non-blocking sends,
 * waits for all, then waits for a 4-byte acknowledgement from rank 1, which
 * posts a window of receives and acknowledges once they complete. bibw:
 * both ranks post a window of receives and a window of sends each
 * iteration, no acknowledgement. The clock runs on rank 0 after `warmup`
 * windows; bandwidth = bytes moved / time, in MB/s of 10^6 bytes. The
 * progress line's ticks (rank 0's, on a terminal) run between windows and
 * are taken out of the time.
 */
import type { Comm } from '../comm/index.js';
// Through the package's face, as the worker: in a rank that is the bundle, and a second copy of p2p/ would be another Request class.
import { Request } from '../index.js';
import type { BenchConfig } from './config.js';
import { message, now, p2pBarrier, type RowSink } from './common.js';
import type { ProgressLine } from './progress.js';
import { loopCounts, type LoopCounts } from './tests.js';

const DATA_TAG = 100;
const BACK_TAG = 10;
const ACK_TAG = 101;
const ACK_BYTES = 4;

interface Endpoint {
  comm: Comm;
  peer: number;
  typed: boolean;
  window: number;
  progress: ProgressLine;
}

function postSends(ep: Endpoint, outgoing: unknown, tag: number): Request<void>[] {
  return Array.from({ length: ep.window }, () => ep.comm.isend(outgoing, ep.peer, tag));
}

function postReceives(ep: Endpoint, incoming: Uint8Array, tag: number): Request<unknown>[] {
  return Array.from({ length: ep.window }, (): Request<unknown> =>
    ep.typed ? ep.comm.irecvInto(incoming, ep.peer, tag) : ep.comm.irecv(ep.peer, tag));
}

/** Seconds rank 0 spends on `iterations` windows one way (bw). */
async function oneWay(ep: Endpoint, size: number, loops: LoopCounts): Promise<number> {
  const outgoing = message(size, ep.typed);
  const incoming = new Uint8Array(size);
  const ack = new Uint8Array(ACK_BYTES);
  let start = now();
  for (let i = 0; i < loops.iterations + loops.warmup; i++) {
    if (i === loops.warmup) start = now();
    if (ep.comm.rank === 0) {
      await Request.waitall(postSends(ep, outgoing, DATA_TAG));
      await (ep.typed ? ep.comm.recvInto(ack, ep.peer, ACK_TAG) : ep.comm.recv(ep.peer, ACK_TAG));
    } else {
      await Request.waitall(postReceives(ep, incoming, DATA_TAG));
      await ep.comm.send(ep.typed ? ack : { bytes: ack }, ep.peer, ACK_TAG);
    }
    if (i === ep.progress.due) start += ep.progress.tick(i);
  }
  return now() - start;
}

/** Seconds for `iterations` windows in both directions at once (bibw). */
async function bothWays(ep: Endpoint, size: number, loops: LoopCounts): Promise<number> {
  const outgoing = message(size, ep.typed);
  const incoming = new Uint8Array(size);
  const [recvTag, sendTag] = ep.comm.rank === 0 ? [BACK_TAG, DATA_TAG] : [DATA_TAG, BACK_TAG];
  let start = now();
  for (let i = 0; i < loops.iterations + loops.warmup; i++) {
    if (i === loops.warmup) start = now();
    const receives = postReceives(ep, incoming, recvTag);
    const sends = postSends(ep, outgoing, sendTag);
    await Request.waitall(sends);
    await Request.waitall(receives);
    if (i === ep.progress.due) start += ep.progress.tick(i);
  }
  return now() - start;
}

export async function runBandwidth(comm: Comm, config: BenchConfig, emit: RowSink, progress: ProgressLine): Promise<void> {
  const ep: Endpoint = { comm, peer: 1 - comm.rank, typed: config.typed, window: config.window, progress };
  const directions = config.test === 'bibw' ? 2 : 1;
  for (const size of config.sizes) {
    const loops = loopCounts('bandwidth', size, config.iterations, config.warmup);
    await p2pBarrier(comm);
    progress.begin(size, loops.warmup, loops.iterations);
    const seconds = directions === 2 ? await bothWays(ep, size, loops) : await oneWay(ep, size, loops);
    const bytes = size * loops.iterations * config.window * directions;
    emit({ size, value: bytes / 1e6 / seconds, iterations: loops.iterations });
  }
}
