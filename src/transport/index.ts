/**
 * The transports: they move frames between ranks and know nothing of tags
 * or matching (DESIGN.md "Transports"). Shared memory between ranks of one
 * host (shm-*.ts), Unix sockets where that is not available, TCP between
 * hosts (socket-transport.ts), the socket pump that reads and writes
 * sockets from the progress engine's spin (socket-pump.ts), and the frame
 * format both carry (frame.ts).
 *
 * Not implemented in this layer:
 * - No RDMA networks: no InfiniBand verbs, RoCE, UCX or libfabric; between
 *   hosts everything is TCP.
 * - No single-copy shared memory for large messages (CMA's
 *   process_vm_readv, XPMEM, KNEM): see shm-ring.ts.
 * - No TLS: connections prove the job key both ways (auth.ts), so a
 *   stranger can neither join nor be answered, but frames cross the network
 *   unencrypted, readable by anyone who can watch it.
 * - No scope handling for IPv6 link-local addresses (fe80::): the runtime
 *   and the launcher never pick one, and a peer address has no scope id of
 *   its own (one set by hand, fe80::1%eth0, names the advertiser's
 *   interface, not the dialler's).
 * - No reconnection: a proven connection that closes ends its peer for this
 *   job (MPI's errors are fatal); only a connection dropped before its key
 *   proof was answered is dialled again. No striping over several networks
 *   or connections either: the frames to a peer take one connection.
 */
export { SocketTransport, WRITE_HIGH_WATER } from './socket-transport.js';
export type { SocketTransportOptions } from './socket-transport.js';
export { CtsFlag, FrameKind, ReadDoneFlag, HEADER_BYTES, newHeader, encodeHeader, encodeHeaderInto, decodeHeader } from './frame.js';
export type { FrameHeader, FrameKindCode, FrameReaderLimits } from './frame.js';
export { FrameReader } from './frame-reader.js';
export type { FrameHandler } from './frame-reader.js';
export { clientHello, checkServerHello, HelloChecker, CLIENT_HELLO_BYTES, SERVER_HELLO_BYTES } from './auth.js';
export type { Transport, TransportAddress, TransportStart, FrameSink, PeerAddress, ConnectionKind, Poller } from './transport.js';
export { ShmTransport } from './shm-transport.js';
export type { ShmTransportOptions } from './shm-transport.js';
export { loadShmLib, OwnInbox } from './shm-segment.js';
export { BoardSlot, BOARD_ENTRIES, BOARD_PAYLOAD_BYTES } from './shm-board.js';
export type { ViewType } from './shm-board.js';
export { allowPeerWrites, loadPeerMemory, ptraceScope } from './cma.js';
export type { PeerMemory } from './cma.js';
export type { ShmLib } from './shm-segment.js';
export { SocketPump, loadSocketLib } from './socket-pump.js';
export type { SocketLib, PolledConnection } from './socket-pump.js';
