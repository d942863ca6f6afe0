/**
 * Eager flow control between two engines over a fake transport that holds
 * frames until the test delivers them: a sender spends its credit, sends by
 * rendezvous without it, and goes eager again once the receiver's program
 * has received enough to hand credit back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { P2PEngine } from '../../src/p2p/index.js';
import { Progress } from '../../src/p2p/index.js';
import { FrameKind, HEADER_BYTES, type ConnectionKind, type FrameHeader, type Transport, type TransportAddress } from '../../src/transport/index.js';

const KIND_NAMES = Object.fromEntries(Object.entries(FrameKind).map(([name, code]) => [code, name]));

/** Frames one engine sent, held until delivered to the other. */
class HeldTransport implements Transport {
  readonly held: { header: FrameHeader; payload: Uint8Array | null }[] = [];
  readonly sentKinds: string[] = [];
  peer: P2PEngine | null = null;

  constructor(private readonly from: number) {}

  listen(): Promise<TransportAddress> {
    return Promise.resolve({ tcpPort: 0, unixPath: '' });
  }
  start(): Promise<void> {
    return Promise.resolve();
  }

  send(_dest: number, header: FrameHeader, payload: Uint8Array | null, onWritten?: (err?: Error | null) => void): void {
    this.held.push({ header: { ...header }, payload: payload === null ? null : Uint8Array.from(payload) });
    this.sentKinds.push(KIND_NAMES[header.kind]!);
    onWritten?.(null);
  }
  trySend(dest: number, header: FrameHeader, payload: Uint8Array): boolean {
    this.send(dest, header, payload);
    return true;
  }
  /** Hands every held frame to the other engine. */
  deliver(): void {
    for (const { header, payload } of this.held.splice(0)) this.peer!.onFrame(this.from, header, payload, true);
  }
  queuedBytes(): number { return 0; }
  writable(): boolean { return true; }
  whenWritable(): Promise<void> { return Promise.resolve(); }
  sendFailure(): Error | null { return null; }
  finish(): Promise<void> { return Promise.resolve(); }
  peerDone(): void {}
  kindTo(): ConnectionKind { return 'shm'; }
  addPeers(): void {}
  close(): Promise<void> { return Promise.resolve(); }
}

function pair(credit: number): { a: P2PEngine; b: P2PEngine; toB: HeldTransport; toA: HeldTransport } {
  const options = (rank: number) => ({
    worldSize: 2, eagerThreshold: 1024, eagerCredit: credit, contextLimit: 4096,
    onFatal: (err: Error) => assert.fail(`rank ${rank}: ${err.message}`),
  });
  const toB = new HeldTransport(0);
  const toA = new HeldTransport(1);
  const a = new P2PEngine(0, { progress: new Progress({ pollMicros: 0 }), openTransport: () => toB }, options(0));
  const b = new P2PEngine(1, { progress: new Progress({ pollMicros: 0 }), openTransport: () => toA }, options(1));
  toB.peer = b;
  toA.peer = a;
  const table = [0, 1].map((rank) => ({ rank, host: 'h', hostId: 'x', tcpHost: '', tcpPort: 0, unixPath: '', pid: 0, eagerCredit: credit }));
  for (const e of [a, b]) {
    void e.start({ table, pollMicros: 0 });
    e.setGroup(0, [0, 1]);
  }
  return { a, b, toB, toA };
}

test('eager credit: spent per message, rendezvous without it, handed back once the receiver has received a quarter', async () => {
  const cost = 100 + HEADER_BYTES;
  const { a, b, toB, toA } = pair(7 * cost);
  const message = new Uint8Array(100);
  // Nobody receives yet: seven messages fit the credit, the next three go by rendezvous.
  const sends = Array.from({ length: 10 }, (_, i) => a.isend(0, 0, 1, i, message, false, 'isend'));
  assert.deepEqual(toB.sentKinds, [...Array<string>(7).fill('EAGER'), 'RTS', 'RTS', 'RTS']);
  toB.deliver();
  // Rank 1's program receives the ten in order: the eager ones from its unexpected queue; then a
  // CREDIT once a quarter of the grant (two messages' worth) is received, and CTS for each RTS.
  const receives = Array.from({ length: 10 }, (_, i) => b.irecv(0, 0, 0, i, null, 'irecv'));
  assert.deepEqual(toA.sentKinds, ['CREDIT', 'CREDIT', 'CREDIT', 'CTS', 'CTS', 'CTS']);
  toA.deliver();
  toB.deliver();
  await Promise.all([...sends.map((r) => r.wait()), ...receives.map((r) => r.wait())]);
  // Six messages' worth came back (the seventh waits in the receiver's batch): eager again.
  toB.sentKinds.length = 0;
  const more = Array.from({ length: 7 }, (_, i) => a.isend(0, 0, 1, 20 + i, message, false, 'isend'));
  assert.deepEqual(toB.sentKinds, [...Array<string>(6).fill('EAGER'), 'RTS']);
  toB.deliver();
  const late = Array.from({ length: 7 }, (_, i) => b.irecv(0, 0, 0, 20 + i, null, 'irecv'));
  toA.deliver();
  toB.deliver();
  await Promise.all([...more.map((r) => r.wait()), ...late.map((r) => r.wait())]);
});

test('eager credit: a peer handing back more than it was given is a protocol error', () => {
  const { a } = pair(1000);
  const credit = { kind: FrameKind.CREDIT, payloadType: 0, flags: 0, context: 0, source: 0, tag: 0, rendezvousId: 0, collective: 0, length: 1 };
  assert.throws(() => a.onFrame(1, credit, null, true), /rank 1 handed back 1 bytes of eager credit, more than it had been given/);
});
