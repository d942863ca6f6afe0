export { PayloadType, copyBytes, encode, decode, isRawBuffer, bytesOf, rawTypeOf, payloadTypeName, isStructured } from './codec.js';
export type { EncodedPayload, PayloadTypeCode, RawBuffer } from './codec.js';
