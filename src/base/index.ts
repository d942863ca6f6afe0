/**
 * The bottom layer: vocabulary every other layer shares (errors, MPI's special
 * values, the version, byte copies, options, diagnostics). It imports nothing of
 * mpi4ts.
 */
export * from './errors.js';
export * from './constants.js';
export { VERSION } from './version.js';
export { copyBytes, copyInto } from './bytes.js';
