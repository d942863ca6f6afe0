import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import {
  checkServerHello, clientHello, CLIENT_HELLO_BYTES, HelloChecker, SocketTransport, newHeader, FrameKind,
  type FrameHeader, type FrameSink, type PeerAddress,
} from '../../src/transport/index.js';

function sink(received: string[], lost: string[]): FrameSink {
  return {
    onFrame: (from: number, h: FrameHeader, payload: Uint8Array | null) => received.push(`${from}:${h.tag}:${Buffer.from(payload ?? []).toString()}`),
    dataTarget: () => { throw new Error('no rendezvous here'); },
    onSendFailed: (rank: number, err: Error) => lost.push(`${rank}: ${err.message}`),
    onPeerEnded: (rank: number, why: string) => lost.push(`${rank} ended: ${why}`),
    onProtocolError: (err: Error) => lost.push(`protocol: ${err.message}`),
  };
}

function transport(rank: number, key: Buffer, received: string[], lost: string[]): SocketTransport {
  return new SocketTransport({
    rank, size: 2, key, sink: sink(received, lost), limits: { maxEagerBytes: 1 << 20, maxMessageBytes: 1 << 30 },
    forceTcp: true, bindHost: '127.0.0.1', portRange: null, unixPath: '', directRead: true, socketLib: null, onPumpActive: () => {}, hostId: 'x',
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
  void intruder.start({ table, spinning: false });
  let intruderFailed: Error | null | undefined;
  intruder.send(0, eager(66), Buffer.from('evil!'), (err) => { intruderFailed = err; });
  // The real rank 1.
  void b.start({ table, spinning: false });
  b.send(0, eager(7), Buffer.from('hello'));
  // The intruder is refused every time it tries (ten prompt refusals end its channel, a few seconds).
  for (let i = 0; i < 1000 && (received.length === 0 || intruderFailed === undefined); i++) await wait(20);
  assert.deepEqual(received, ['1:7:hello']);
  assert.match(String(intruderFailed), /cannot connect to rank 0 .*10 attempts/);
  await Promise.all([a.close(), b.close(), intruder.close()]);
  raw.destroy();
});

test('a hello proves the key in one message; a replay, a wrong key or a hello meant for another rank is refused', () => {
  const key = randomBytes(32);
  const checker = new HelloChecker(key, 0, 4);
  const { hello, nonce } = clientHello(key, 2, 0);
  assert.equal(hello.length, CLIENT_HELLO_BYTES);
  const { peerRank, reply } = checker.check(hello);
  assert.equal(peerRank, 2);
  checkServerHello(reply, key, nonce, 2, 0);
  assert.throws(() => checkServerHello(reply, randomBytes(32), nonce, 2, 0), /rank 0 failed the job key proof/);
  assert.throws(() => checkServerHello(reply, key, nonce, 2, 1), /connected to rank 0, expected rank 1/);
  assert.throws(() => checker.check(hello), /replayed an earlier handshake/);
  assert.throws(() => checker.check(clientHello(randomBytes(32), 2, 0).hello), /claiming rank 2 failed the job key proof/);
  assert.throws(() => checker.check(clientHello(key, 2, 3).hello), /meant to reach rank 3, not this rank 0/);
  assert.throws(() => checker.check(clientHello(key, 9, 0).hello), /claims rank 9 of a job of 4/);
  const garbage = Buffer.alloc(CLIENT_HELLO_BYTES, 0x41);
  assert.throws(() => checker.check(garbage), /bad handshake magic/);
});
