// The floor under any Node transport: two plain Node processes over a Unix
// socket, no MPI at all, measured the OSU way (8 B half round trip; window of
// 64 writes then a 4-byte acknowledgement for bandwidth). The event loop is
// kept busy (setImmediate chain) as mpi4ts's progress engine keeps it, so
// wake-ups cost no sleep. Prints one JSON line. Used by bench/compare.
//   node --import tsx bench/raw-socket.ts [-i ITER] [-x WARMUP] [-I BW_ITER] [-X BW_WARMUP] [-W WINDOW]
import { spawn } from 'node:child_process';
import { createServer, connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
function option(name: string, fallback: number): number {
  const at = args.indexOf(name);
  return at < 0 ? fallback : Number(args[at + 1]);
}
const ITERATIONS = option('-i', 10_000);
const WARMUP = option('-x', 100);
const WINDOW = option('-W', 64);
const BW_ITERATIONS = option('-I', 20);
const BW_WARMUP = option('-X', 2);
const ADDRESS = `\0mpi4ts-bench-raw-${process.argv.includes('--child') ? args[args.indexOf('--child') + 1] : process.pid}`;

let spinning = true;
function spin(): void {
  if (spinning) setImmediate(spin);
}

/** Resolves once `count` more bytes have arrived on the socket. */
class Counter {
  private have = 0;
  private want = 0;
  private done: (() => void) | null = null;
  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.have += chunk.length;
      this.check();
    });
  }
  next(count: number): Promise<void> {
    this.want += count;
    return new Promise((resolve) => {
      this.done = resolve;
      this.check();
    });
  }
  private check(): void {
    if (this.done !== null && this.have >= this.want) {
      const done = this.done;
      this.done = null;
      done();
    }
  }
}

async function leader(socket: Socket): Promise<void> {
  const counter = new Counter(socket);
  const ping = Buffer.alloc(8);
  let start = 0;
  for (let i = 0; i < ITERATIONS + WARMUP; i++) {
    if (i === WARMUP) start = performance.now();
    socket.write(ping);
    await counter.next(8);
  }
  const latency = ((performance.now() - start) * 1000) / (2 * ITERATIONS);
  const bandwidth: Record<string, number> = {};
  for (const size of [65536, 1048576, 4194304]) {
    const block = Buffer.alloc(size);
    for (let i = 0; i < BW_ITERATIONS + BW_WARMUP; i++) {
      if (i === BW_WARMUP) start = performance.now();
      for (let w = 0; w < WINDOW; w++) socket.write(block);
      await counter.next(4);
    }
    bandwidth[size] = (size * WINDOW * BW_ITERATIONS) / 1e6 / ((performance.now() - start) / 1000);
  }
  process.stdout.write(`${JSON.stringify({ implementation: 'raw Node Unix socket', latency8: latency, bandwidth })}\n`);
  socket.end();
}

async function follower(socket: Socket): Promise<void> {
  const counter = new Counter(socket);
  const pong = Buffer.alloc(8);
  for (let i = 0; i < ITERATIONS + WARMUP; i++) {
    await counter.next(8);
    socket.write(pong);
  }
  for (const size of [65536, 1048576, 4194304]) {
    for (let i = 0; i < BW_ITERATIONS + BW_WARMUP; i++) {
      await counter.next(size * WINDOW);
      socket.write(Buffer.alloc(4));
    }
  }
}

spin();
if (process.argv.includes('--child')) {
  const socket = connect(ADDRESS);
  socket.setNoDelay(true);
  socket.on('connect', () => void follower(socket).finally(() => { spinning = false; }));
  socket.on('close', () => { spinning = false; });
} else {
  const server = createServer((socket) => {
    server.close();
    void leader(socket).finally(() => { spinning = false; });
  });
  server.listen(ADDRESS, () => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...args, '--child', String(process.pid)], { stdio: 'inherit' });
    child.on('exit', (code) => { if (code !== 0) process.exitCode = code ?? 1; });
  });
}
