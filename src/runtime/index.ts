export { detectBootstrap } from './detect.js';
export type { Bootstrap } from './bootstrap.js';
export { hostIdentity, processorName } from './host.js';
export { readOptions, parsePortRange, defaultEagerCredit, DEFAULT_EAGER_LIMIT, DEFAULT_POLL_MICROS } from './options.js';
export type { RuntimeOptions } from './options.js';
