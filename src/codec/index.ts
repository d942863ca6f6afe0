export { typedArrayTypeOf } from './payload-type.js';
export { PayloadType, BytesOwner, encode, decode, isRawBuffer, bytesOf, rawTypeOf, payloadTypeName, isStructured,
  payloadProblem, MAX_MESSAGE_BYTES, MessageTooLargeError } from './codec.js';
export type { BytesOwnerCode, EncodedPayload, PayloadTypeCode, RawBuffer } from './codec.js';
