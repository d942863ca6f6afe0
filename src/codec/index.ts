export { PayloadType, copyBytes, encode, decode, isRawBuffer, bytesOf, rawTypeOf, payloadTypeName } from './codec.js';
export type { EncodedPayload, PayloadTypeCode, RawBuffer } from './codec.js';
