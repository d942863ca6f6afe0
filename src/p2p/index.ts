export { P2PEngine } from './engine.js';
export { Progress } from './progress.js';
export type { ProgressOptions } from './progress.js';
export type { EngineOptions, EngineCollaborators, EngineStart } from './engine.js';
export { Request } from './request.js';
export type { TestResult } from './request.js';
export { Status } from './status.js';
export type { ElementSized } from './status.js';
export { MatchQueues, envelopeMatches } from './matching.js';
