export { detectBootstrap } from './detect.js';
export type { Bootstrap } from './bootstrap.js';
export { hostIdentity, processorName } from './host.js';
