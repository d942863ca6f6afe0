/**
 * Mutual proof of the job key on every connection (DESIGN.md "Start-up"):
 * each side sends a fresh nonce and proves it knows the key with an HMAC over
 * both nonces and both ranks, so a stranger who connects can neither join the
 * job nor replay an earlier proof. The key itself never crosses the wire.
 *
 *   client -> server  magic(8) rank(u32) nonceC(16)
 *   server -> client  magic(8) rank(u32) nonceS(16) HMAC(key, "S" nonceC nonceS rankS rankC)
 *   client -> server  HMAC(key, "C" nonceC nonceS rankC rankS)
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import { ProtocolError } from '../errors.js';

const MAGIC = Buffer.from('MPI4TSv1', 'latin1');
const NONCE_BYTES = 16;
const MAC_BYTES = 32;
const CLIENT_HELLO_BYTES = MAGIC.length + 4 + NONCE_BYTES;
const SERVER_HELLO_BYTES = CLIENT_HELLO_BYTES + MAC_BYTES;
export const HANDSHAKE_TIMEOUT_MS = 10_000;

export function proofOf(key: Buffer, label: string, ...parts: (Buffer | number | string)[]): Buffer {
  const hmac = createHmac('sha256', key).update(label);
  for (const part of parts) {
    if (typeof part === 'number') {
      const b = Buffer.allocUnsafe(4);
      b.writeUInt32LE(part >>> 0);
      hmac.update(b);
    } else {
      hmac.update(part);
    }
  }
  return hmac.digest();
}

export function proofMatches(expected: Buffer, got: Buffer): boolean {
  return got.length === expected.length && timingSafeEqual(expected, got);
}

/** Reads exact byte counts from a socket that is not yet in frame mode. */
class ExactReader {
  private buffered: Buffer = Buffer.alloc(0);
  private want = 0;
  private resolve: ((b: Buffer) => void) | null = null;
  private reject: ((e: Error) => void) | null = null;
  private readonly onData = (chunk: Buffer): void => {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    this.deliver();
  };
  private readonly onEnd = (): void => this.fail(new ProtocolError('connection closed during the key handshake'));
  private readonly onError = (err: Error): void => this.fail(err);

  constructor(private readonly socket: Socket) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
  }

  read(bytes: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.want = bytes;
      this.resolve = resolve;
      this.reject = reject;
      this.deliver();
    });
  }

  fail(err: Error): void {
    const reject = this.reject;
    this.resolve = this.reject = null;
    reject?.(err);
  }

  /** Stops reading and returns bytes that arrived past the handshake. */
  detach(): Buffer {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('error', this.onError);
    return this.buffered;
  }

  private deliver(): void {
    if (this.resolve === null || this.buffered.length < this.want) return;
    const out = this.buffered.subarray(0, this.want);
    this.buffered = this.buffered.subarray(this.want);
    const resolve = this.resolve;
    this.resolve = this.reject = null;
    resolve(out);
  }
}

export interface HandshakeResult {
  peerRank: number;
  /** Bytes that followed the handshake (the start of the frame stream). */
  leftover: Buffer;
}

async function withTimeout<T>(reader: ExactReader, work: Promise<T>, what: string): Promise<T> {
  const timer = setTimeout(() => reader.fail(new ProtocolError(`${what} timed out after ${HANDSHAKE_TIMEOUT_MS} ms`)), HANDSHAKE_TIMEOUT_MS);
  try {
    return await work;
  } finally {
    clearTimeout(timer);
  }
}

/** The connecting side. Resolves once both sides have proved the key. */
export async function clientHandshake(socket: Socket, key: Buffer, myRank: number, expectedPeer: number): Promise<HandshakeResult> {
  const reader = new ExactReader(socket);
  const nonceC = randomBytes(NONCE_BYTES);
  const hello = Buffer.allocUnsafe(CLIENT_HELLO_BYTES);
  MAGIC.copy(hello, 0);
  hello.writeUInt32LE(myRank, MAGIC.length);
  nonceC.copy(hello, MAGIC.length + 4);
  socket.write(hello);
  try {
    const reply = await withTimeout(reader, reader.read(SERVER_HELLO_BYTES), 'key handshake');
    if (!reply.subarray(0, MAGIC.length).equals(MAGIC)) throw new ProtocolError('the peer is not an mpi4ts rank (bad handshake magic)');
    const peerRank = reply.readUInt32LE(MAGIC.length);
    if (peerRank !== expectedPeer) throw new ProtocolError(`connected to rank ${peerRank}, expected rank ${expectedPeer}`);
    const nonceS = reply.subarray(MAGIC.length + 4, MAGIC.length + 4 + NONCE_BYTES);
    const mac = reply.subarray(MAGIC.length + 4 + NONCE_BYTES);
    if (!proofMatches(proofOf(key, 'S', nonceC, nonceS, peerRank, myRank), mac)) {
      throw new ProtocolError(`rank ${peerRank} failed the job key proof (a process of another job?)`);
    }
    socket.write(proofOf(key, 'C', nonceC, nonceS, myRank, peerRank));
    return { peerRank, leftover: reader.detach() };
  } catch (err) {
    reader.detach();
    throw err;
  }
}

/** The accepting side. Resolves with the proven rank of the client. */
export async function serverHandshake(socket: Socket, key: Buffer, myRank: number, worldSize: number): Promise<HandshakeResult> {
  const reader = new ExactReader(socket);
  try {
    return await withTimeout(reader, serverSteps(socket, reader, key, myRank, worldSize), 'key handshake');
  } catch (err) {
    reader.detach();
    throw err;
  }
}

async function serverSteps(socket: Socket, reader: ExactReader, key: Buffer, myRank: number, worldSize: number): Promise<HandshakeResult> {
  const hello = await reader.read(CLIENT_HELLO_BYTES);
  if (!hello.subarray(0, MAGIC.length).equals(MAGIC)) throw new ProtocolError('bad handshake magic from a connecting client');
  const peerRank = hello.readUInt32LE(MAGIC.length);
  if (peerRank >= worldSize) throw new ProtocolError(`connecting client claims rank ${peerRank} of a job of ${worldSize}`);
  const nonceC = hello.subarray(MAGIC.length + 4);
  const nonceS = randomBytes(NONCE_BYTES);
  const reply = Buffer.allocUnsafe(SERVER_HELLO_BYTES);
  MAGIC.copy(reply, 0);
  reply.writeUInt32LE(myRank, MAGIC.length);
  nonceS.copy(reply, MAGIC.length + 4);
  proofOf(key, 'S', nonceC, nonceS, myRank, peerRank).copy(reply, MAGIC.length + 4 + NONCE_BYTES);
  socket.write(reply);
  const mac = await reader.read(MAC_BYTES);
  if (!proofMatches(proofOf(key, 'C', nonceC, nonceS, peerRank, myRank), mac)) {
    throw new ProtocolError(`a client claiming rank ${peerRank} failed the job key proof`);
  }
  return { peerRank, leftover: reader.detach() };
}
