/**
 * What two processes of a job say to each other outside the frames: peer
 * addresses, proofs of the job key, the bounds on connections that have not
 * proved it, and the control protocol between a rank and the server that
 * started it (the launcher, or rank 0 at a rendezvous). It sits under both
 * the transports and the runtime, and under the launcher, so no arrow runs
 * back up between them.
 */
export type { PeerAddress } from './peer-address.js';
export { proofOf, proofMatches } from './proof.js';
export { UnprovenConnections, UNPROVEN_LIMIT, UNPROVEN_TIMEOUT_MS } from './unproven.js';
export type { UnprovenLimits } from './unproven.js';
export { ControlKind, LineDecoder, encodeControl, readControlLines, PeerDoneRelay, RankDeathRelay, MAX_CONTROL_LINE, MAX_RANK_LINE, MAX_HELLO_LINE, CONTROL_KEEPALIVE_IDLE_MS } from './control-protocol.js';
export type { ControlMessage, ControlConnectionHandlers, PeerEnd, RankDeathHandler, ProfileSummary, TracePart, SpawnCommand, SpawnRequest, SpawnReply, ParentInfo } from './control-protocol.js';
export { ControlClient } from './control-client.js';
export type { ControlClientOptions } from './control-client.js';
export { ControlRegistry } from './control-registry.js';
export type { ControlRegistryEvents } from './control-registry.js';
export { BIND_LEVELS, bindRequestOf, bindRequestEnv, bindingFor, bindingPicture, formatCpuList, parseCpuList, readTopology, objectsOf } from './binding.js';
export type { BindLevel, BindRequest, Binding, Cpu, TopologySource } from './binding.js';
export { isBlocked, operationWords, reportLines, siteWords } from './pending-report.js';
export type { RankReport, ReportedMessage, ReportedOperation } from './pending-report.js';
