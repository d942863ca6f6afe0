/** MPI's special values (MPI 4.1 section 3.2.4 and appendix A.1). */
export const ANY_SOURCE = -1;
export const ANY_TAG = -1;
export const PROC_NULL = -2;
export const ROOT = -3;
export const UNDEFINED = -32766;
/** Largest valid tag; tags travel as signed 32-bit integers. */
export const TAG_UB = 0x7fffffff;
/** splitType: the ranks that share a host (and so can share memory). */
export const COMM_TYPE_SHARED = 1;
