import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { encodeHeader, FrameKind, HEADER_BYTES, loadSocketLib, newHeader, SocketPump, type FrameHeader, type PolledConnection } from '../../src/transport/index.js';

const lib = loadSocketLib();
const skip = lib instanceof Error ? `recv/send through koffi unavailable here: ${lib.message}` : false;

/** A connected pair of loopback TCP sockets: [the accepted end, the client end]. */
async function socketPair(): Promise<[Socket, Socket]> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = connect(port, '127.0.0.1');
  await once(client, 'connect');
  const [served] = await accepted;
  server.close();
  // As the transport's polled connections: libuv keeps reading, into a buffer of its own.
  return [served, client];
}

/** Collects what the pump reads from `socket`. */
function collector(socket: Socket): PolledConnection & { received: number[] } {
  const buffer = new Uint8Array(64);
  const received: number[] = [];
  return {
    socket, received,
    target: () => buffer,
    delivered: (target, count) => received.push(...target.subarray(0, count)),
  };
}

async function pollUntil(pump: SocketPump, done: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !done(); i++) {
    pump.poll();
    await new Promise((r) => setTimeout(r, 1));
  }
}

test('the spin reads polled sockets in order, one or several, and drops one Node has destroyed', { skip }, async () => {
  const pump = new SocketPump(lib as Exclude<typeof lib, Error>, { flush: () => {}, onFirstConnection: () => {} });
  const [servedA, clientA] = await socketPair();
  const [servedB, clientB] = await socketPair();
  servedA.pause();
  servedB.pause();
  const a = collector(servedA);
  const b = collector(servedB);
  pump.add(a);
  assert.equal(pump.size, 1);
  clientA.write(Buffer.from([1, 2, 3]));
  await pollUntil(pump, () => a.received.length === 3);
  assert.deepEqual(a.received, [1, 2, 3]);
  pump.add(b);
  clientA.write(Buffer.from([4]));
  clientB.write(Buffer.from([9, 8]));
  await pollUntil(pump, () => a.received.length === 4 && b.received.length === 2);
  assert.deepEqual(a.received, [1, 2, 3, 4]);
  assert.deepEqual(b.received, [9, 8]);
  // Destroyed by Node: its descriptor may be reused by the next file opened, so never read again.
  servedA.destroy();
  clientA.write(Buffer.from([5]));
  assert.equal(pump.poll(), false);
  assert.equal(pump.size, 1);
  assert.deepEqual(a.received, [1, 2, 3, 4]);
  for (const s of [servedB, clientA, clientB]) s.destroy();
});

test('sendDirect sends a small frame (header encoded in place, then payload) in one syscall only while Node has nothing queued', { skip }, async () => {
  const pump = new SocketPump(lib as Exclude<typeof lib, Error>, { flush: () => {}, onFirstConnection: () => {} });
  const [served, client] = await socketPair();
  const got: number[] = [];
  served.on('data', (chunk: Buffer) => got.push(...chunk));
  const header = (tag: number, length: number): FrameHeader => ({ ...newHeader(), kind: FrameKind.EAGER, tag, length });
  const first = header(7, 1);
  const second = header(8, 0);
  assert.equal(pump.sendDirect(client, first, Uint8Array.from([3])), HEADER_BYTES + 1);
  assert.equal(pump.sendDirect(client, second, null), HEADER_BYTES);
  // Too large for one copy: Node's stream writes it.
  assert.equal(pump.sendDirect(client, header(9, 20_000), new Uint8Array(20_000)), 0);
  client.cork();
  client.write(Buffer.from([5]));
  // Node holds a byte: a direct send would overtake it.
  assert.equal(client.writableLength, 1);
  assert.equal(pump.sendDirect(client, second, null), 0);
  client.uncork();
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(got, [...encodeHeader(first), 3, ...encodeHeader(second), 5]);
  client.destroy();
  assert.equal(pump.sendDirect(client, second, null), 0);
  served.destroy();
});
