/**
 * Mutual proof of the job key on every peer connection (DESIGN.md "Start-up").
 *
 *   client -> server  magic(8) rankC(u32) rankS(u32) nonce(16) HMAC(key, "C" nonce rankC rankS)
 *   server -> client  magic(8) rankS(u32) HMAC(key, "S" nonce rankS rankC)
 *
 * The client proves the key in the first bytes it writes, as soon as the
 * connection is up, so the server knows who is calling without waiting for
 * the client's event loop again: a client that starts a send and then
 * computes for minutes is not timed out half-way through a handshake. A
 * replayed hello is refused because the server remembers every nonce it
 * accepted. The server answers only a valid proof, with its own over the
 * client's nonce, and the client writes no frame before it has checked that
 * answer: a stranger at the address the client dials learns nothing. The key
 * itself never crosses the wire.
 */
import { randomBytes } from 'node:crypto';
import { ProtocolError } from '../base/index.js';
import { proofMatches, proofOf } from '../wire/index.js';

/** "v2": the one-message client proof (v1 waited for a server nonce first). */
const MAGIC = Buffer.from('MPI4TSv2', 'latin1');
const NONCE_BYTES = 16;
const MAC_BYTES = 32;
export const CLIENT_HELLO_BYTES = MAGIC.length + 4 + 4 + NONCE_BYTES + MAC_BYTES;
export const SERVER_HELLO_BYTES = MAGIC.length + 4 + MAC_BYTES;
/**
 * Nonces a server remembers. Each peer connects to it a handful of times at
 * most (a retry after a dropped handshake), so this is never reached by a
 * job; past it the server refuses connections rather than forget a nonce.
 */
const MAX_REMEMBERED_NONCES = 1 << 20;

/** The client's first bytes to `serverRank`, and the nonce its answer must prove. */
export function clientHello(key: Buffer, myRank: number, serverRank: number): { hello: Buffer; nonce: Buffer } {
  const nonce = randomBytes(NONCE_BYTES);
  const hello = Buffer.allocUnsafe(CLIENT_HELLO_BYTES);
  MAGIC.copy(hello, 0);
  hello.writeUInt32LE(myRank, MAGIC.length);
  hello.writeUInt32LE(serverRank, MAGIC.length + 4);
  nonce.copy(hello, MAGIC.length + 8);
  proofOf(key, 'C', nonce, myRank, serverRank).copy(hello, MAGIC.length + 8 + NONCE_BYTES);
  return { hello, nonce };
}

/** Throws unless `reply` is `serverRank`'s proof over `nonce`. */
export function checkServerHello(reply: Buffer, key: Buffer, nonce: Buffer, myRank: number, serverRank: number): void {
  if (!reply.subarray(0, MAGIC.length).equals(MAGIC)) throw new ProtocolError('the peer is not an mpi4ts rank of this version (bad handshake magic)');
  const peerRank = reply.readUInt32LE(MAGIC.length);
  if (peerRank !== serverRank) throw new ProtocolError(`connected to rank ${peerRank}, expected rank ${serverRank}`);
  if (!proofMatches(proofOf(key, 'S', nonce, serverRank, myRank), reply.subarray(MAGIC.length + 4))) {
    throw new ProtocolError(`rank ${serverRank} failed the job key proof (a process of another job at its address?)`);
  }
}

/** The accepting side's checks: one per listener, as it remembers the nonces it accepted. */
export class HelloChecker {
  private readonly seen = new Set<string>();

  constructor(private readonly key: Buffer, private readonly myRank: number, private worldSize: number) {}

  /** Processes up to `size` (a spawn's children, whose addresses this rank now knows) may connect too. */
  grow(size: number): void {
    this.worldSize = Math.max(this.worldSize, size);
  }

  /** The proven rank of the client and the answer to send it; throws ProtocolError for anything else. */
  check(hello: Buffer): { peerRank: number; reply: Buffer } {
    if (hello.length !== CLIENT_HELLO_BYTES || !hello.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw new ProtocolError('bad handshake magic from a connecting client');
    }
    const peerRank = hello.readUInt32LE(MAGIC.length);
    const serverRank = hello.readUInt32LE(MAGIC.length + 4);
    if (peerRank >= this.worldSize) throw new ProtocolError(`connecting client claims rank ${peerRank} of a job of ${this.worldSize}`);
    if (serverRank !== this.myRank) throw new ProtocolError(`a client claiming rank ${peerRank} meant to reach rank ${serverRank}, not this rank ${this.myRank}`);
    const nonce = hello.subarray(MAGIC.length + 8, MAGIC.length + 8 + NONCE_BYTES);
    if (!proofMatches(proofOf(this.key, 'C', nonce, peerRank, serverRank), hello.subarray(MAGIC.length + 8 + NONCE_BYTES))) {
      throw new ProtocolError(`a client claiming rank ${peerRank} failed the job key proof`);
    }
    const id = nonce.toString('hex');
    if (this.seen.has(id)) throw new ProtocolError(`a client claiming rank ${peerRank} replayed an earlier handshake`);
    if (this.seen.size >= MAX_REMEMBERED_NONCES) throw new ProtocolError('too many handshakes on this listener');
    this.seen.add(id);
    const reply = Buffer.allocUnsafe(SERVER_HELLO_BYTES);
    MAGIC.copy(reply, 0);
    reply.writeUInt32LE(this.myRank, MAGIC.length);
    proofOf(this.key, 'S', nonce, this.myRank, peerRank).copy(reply, MAGIC.length + 4);
    return { peerRank, reply };
  }
}
