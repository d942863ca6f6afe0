/** MPI's special values (MPI 4.1 section 3.2.4 and appendix A.1). */
export const ANY_SOURCE = -1;
export const ANY_TAG = -1;
export const PROC_NULL = -2;
export const ROOT = -3;
export const UNDEFINED = -32766;
/** Largest valid tag; tags travel as signed 32-bit integers. */
export const TAG_UB = 0x7fffffff;
/**
 * Results of comparing two groups or communicators (MPI 4.1 sections 7.3.1
 * and 7.4.1), with MPICH's values: the same object; the same members in the
 * same order (communicators only: a dup); the same members in another order;
 * anything else.
 */
export const IDENT = 0;
export const CONGRUENT = 1;
export const SIMILAR = 2;
export const UNEQUAL = 3;
/** splitType: the ranks that share a host (and so can share memory). */
export const COMM_TYPE_SHARED = 1;
