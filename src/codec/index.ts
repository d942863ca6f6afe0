/**
 * Values to bytes and back: raw bytes for typed arrays and buffers, codes of
 * their own for primitives, the plain format for plain objects and arrays,
 * structured clone (v8.serialize) for the rest (DESIGN.md "Codec").
 *
 * # Unfinished features
 * - **5.1** to **5.1.11**: derived datatypes (MPI_Type_vector, MPI_Type_create_struct,
 *   subarrays): a typed array is sent whole, or a subarray view of it.
 * - **5.2**: MPI_Pack and MPI_Unpack; **5.3**: canonical (external32) packing.
 * - Heterogeneous hosts: raw bytes travel in the sender's byte order; every
 *   host of a job must share it (all x86-64 and arm64 Linux hosts do).
 */
export { typedArrayTypeOf } from './payload-type.js';
export { PayloadType, BytesOwner, encode, decode, isRawBuffer, bytesOf, rawTypeOf, payloadTypeName, isStructured,
  payloadProblem, MAX_MESSAGE_BYTES, MessageTooLargeError } from './codec.js';
export type { BytesOwnerCode, EncodedPayload, PayloadTypeCode, RawBuffer } from './codec.js';
