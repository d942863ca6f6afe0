export { SocketTransport, WRITE_HIGH_WATER } from './socket-transport.js';
export type { SocketTransportOptions } from './socket-transport.js';
export { FrameKind, HEADER_BYTES, newHeader, encodeHeader, decodeHeader } from './frame.js';
export type { FrameHeader, FrameKindCode } from './frame.js';
export { FrameReader } from './frame-reader.js';
export type { FrameHandler, FrameReaderLimits } from './frame-reader.js';
export { proofOf, proofMatches, clientHandshake, serverHandshake } from './auth.js';
export type { Transport, FrameSink, PeerAddress, ChannelKind } from './transport.js';
