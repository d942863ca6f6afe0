export { detectBootstrap } from './detect.js';
export type { Bootstrap } from './bootstrap.js';
export { Progress } from './progress.js';
export type { ProgressOptions, Poller } from './progress.js';
export { hostIdentity, processorName } from './host.js';
export { ControlKind, LineDecoder, encodeControl, MAX_CONTROL_LINE } from './control-protocol.js';
export type { ControlMessage } from './control-protocol.js';
export { readOptions, parsePortRange, defaultEagerCredit, DEFAULT_EAGER_LIMIT, DEFAULT_POLL_MICROS } from './options.js';
export type { RuntimeOptions } from './options.js';
