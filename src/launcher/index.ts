export { Job } from './job.js';
export type { JobOptions, Placement } from './job.js';
export { LocalStarter } from './local-starter.js';
export type { Starter, RankSpec, RankProcess, RankExit } from './starter.js';
export { ControlServer } from './control-server.js';
export { forwardLines } from './output.js';
export { scriptCommand } from './script.js';
