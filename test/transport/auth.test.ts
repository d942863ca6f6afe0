import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { SocketTransport, newHeader, FrameKind, type FrameHeader, type FrameSink, type PeerAddress } from '../../src/transport/index.js';

function sink(received: string[], lost: string[]): FrameSink {
  return {
    onFrame: (from: number, h: FrameHeader, payload: Uint8Array | null) => received.push(`${from}:${h.tag}:${Buffer.from(payload ?? []).toString()}`),
    dataTarget: () => { throw new Error('no rendezvous here'); },
    onPeerLost: (rank: number, err: Error) => lost.push(`${rank}: ${err.message}`),
  };
}

function transport(rank: number, key: Buffer, received: string[], lost: string[]): SocketTransport {
  return new SocketTransport({
    rank, size: 2, key, sink: sink(received, lost), limits: { maxEagerBytes: 1 << 20, maxMessageBytes: 1 << 30 },
    forceTcp: true, bindHost: '127.0.0.1', portRange: null, unixPath: '', directRead: true, poller: null,
  });
}

function eager(tag: number): FrameHeader {
  const h = newHeader();
  h.kind = FrameKind.EAGER;
  h.tag = tag;
  h.length = 5;
  return h;
}

const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('strangers (garbage, a wrong key) are dropped and the rank carries on', async () => {
  const key = randomBytes(32);
  const received: string[] = [];
  const lost: string[] = [];
  const a = transport(0, key, received, lost);
  const b = transport(1, key, [], lost);
  const intruder = transport(1, randomBytes(32), [], []);
  const addrA = await a.listen();
  await b.listen();
  await intruder.listen();
  const table: PeerAddress[] = [
    { rank: 0, host: 'h', hostId: 'x', tcpHost: '127.0.0.1', tcpPort: addrA.tcpPort, unixPath: '', pid: 0 },
    { rank: 1, host: 'h', hostId: 'x', tcpHost: '127.0.0.1', tcpPort: 1, unixPath: '', pid: 0 },
  ];
  // Garbage on the port.
  const raw = connect({ host: '127.0.0.1', port: addrA.tcpPort });
  raw.on('error', () => {});
  raw.write('GET / HTTP/1.1\r\n\r\n' + 'x'.repeat(100));
  // A client with the wrong key, claiming to be rank 1.
  intruder.setPeers(table, 'x');
  let intruderFailed: Error | null | undefined;
  intruder.send(0, eager(66), Buffer.from('evil!'), (err) => { intruderFailed = err; });
  // The real rank 1.
  b.setPeers(table, 'x');
  b.send(0, eager(7), Buffer.from('hello'));
  for (let i = 0; i < 50 && (received.length === 0 || intruderFailed === undefined); i++) await wait(20);
  assert.deepEqual(received, ['1:7:hello']);
  assert.match(String(intruderFailed), /failed the job key proof|closed/);
  await Promise.all([a.close(), b.close(), intruder.close()]);
  raw.destroy();
});
