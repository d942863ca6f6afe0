export { PayloadType, BytesOwner, copyBytes, copyInto, encode, decode, isRawBuffer, bytesOf, rawTypeOf, payloadTypeName, isStructured } from './codec.js';
export type { BytesOwnerCode, EncodedPayload, PayloadTypeCode, RawBuffer } from './codec.js';
