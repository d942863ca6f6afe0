/**
 * The bottom layer: vocabulary every other layer shares (errors, MPI's special
 * values, the version, byte copies, options, diagnostics). It imports nothing of
 * mpi4ts.
 */
export * from './errors.js';
export * from './constants.js';
export { VERSION } from './version.js';
export { copyBytes, copyInto } from './bytes.js';
export { loadKoffi, loadOnce, openLibc, type Koffi, type Libc } from './native.js';
export { options, optionsOf, readOptions, defaultEagerCredit, parsePortRange, textVar, intVar, requiredIntVar, switchVar, choiceVar, secondsVar,
  DEFAULT_EAGER_LIMIT, DEFAULT_POLL_MICROS, DEFAULT_RING_MIN_BYTES, DEFAULT_RENDEZVOUS_TIMEOUT_MS } from './options.js';
export type { Options, AllreduceAlgorithm, BcastAlgorithm, AlltoallAlgorithm } from './options.js';
export { clockMicros, debug, debugEnabled, publish } from './diagnostics.js';
export type { DiagnosticsChannel, DiagnosticsMessages, PendingOperation, PendingWait, UnmatchedMessage } from './diagnostics.js';
