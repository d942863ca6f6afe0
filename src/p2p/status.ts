import { ANY_SOURCE, ANY_TAG } from '../base/index.js';

/** A typed-array constructor, or anything with BYTES_PER_ELEMENT. */
export interface ElementSized { readonly BYTES_PER_ELEMENT: number }

/** What a receive or probe learned about a message (MPI 4.1 section 3.2.5). */
export class Status {
  /** Rank of the sender in the communicator, or PROC_NULL. */
  source: number = ANY_SOURCE;
  tag: number = ANY_TAG;
  /** Bytes of the payload as sent (serialised size for values). */
  count = 0;
  /** 0, or the MPI error class of a failed operation. */
  error = 0;
  /** True when the receive was cancelled (MPI_Test_cancelled). */
  cancelled = false;

  /** Bytes received, or elements when given a typed-array type (MPI_Get_count). */
  getCount(type?: ElementSized): number {
    return type === undefined ? this.count : Math.floor(this.count / type.BYTES_PER_ELEMENT);
  }

  /** Copies another status's fields into this one. */
  assign(other: Status): this {
    this.source = other.source;
    this.tag = other.tag;
    this.count = other.count;
    this.error = other.error;
    this.cancelled = other.cancelled;
    return this;
  }
}
