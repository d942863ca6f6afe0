/**
 * Point-to-point (MPI 4.1 chapter 3): the matching engine with its eager and
 * rendezvous protocols, the progress engine that keeps it moving, Request and
 * Status. Comm (comm/comm.ts) is the face users call; this layer knows ranks,
 * contexts and tags, and a Transport below it that moves frames.
 *
 * Besides: persistent requests (persistent.ts, 3.9), matched probe's Message
 * (message.ts, 3.8.2-3.8.3), the attached buffer of buffered sends
 * (buffered.ts, 3.6), and the pending-operation registry's types and call
 * sites (registry.ts) for hang reports.
 *
 * # Unfinished features
 * - **3.6.1**: buffers per communicator or session, MPI_Buffer_flush (buffered.ts).
 * - **3.4**: ready mode is standard mode: an rsend with no receive posted is
 *   delivered, not reported (MPI calls it erroneous, and allows that).
 * - **3.8.4**: cancelling a send (request.ts).
 * - **4**: partitioned communication.
 * - **9.3**: error handlers: every error is fatal to the call (it rejects), as
 *   MPI_ERRORS_RETURN; there is no MPI_ERRORS_ARE_FATAL switch per communicator.
 * - An ANY_SOURCE receive whose every other rank has ended fails one turn of
 *   the event loop later: a send to oneself made after a timer or I/O (not in
 *   the same turn) would have matched it. MPI would wait for ever there.
 */
export { P2PEngine } from './engine.js';
export { HostBoard, BOARD_PAYLOAD_BYTES, BY_MESSAGES } from './host-board.js';
export type { BoardEntries, BoardMismatch, BoardWork, ByMessages } from './host-board.js';
export type { ViewType } from '../transport/index.js';
export { Progress } from './progress.js';
export type { ProgressOptions } from './progress.js';
export type { EngineOptions, EngineCollaborators, EngineStart, IncomingMessage, MessageTracer } from './engine.js';
export { encodeFor } from './engine.js';
export { Request } from './request.js';
export type { TestResult, TestAnyResult } from './request.js';
export { Prequest } from './persistent.js';
export type { RoundStarter } from './persistent.js';
export { Message, MESSAGE_NO_PROC } from './message.js';
export { attachBuffer, detachBuffer, bufferedSend, bufferSpace, volatileBytes, BSEND_OVERHEAD } from './buffered.js';
export type { AttachedMemory } from './buffered.js';
export { Status } from './status.js';
export type { ElementSized } from './status.js';
export { MatchQueues, envelopeMatches } from './matching.js';
export { callSiteOf, captureCall, MAX_UNMATCHED } from './registry.js';
export type { EngineReport, PendingOperation, PendingWait, UnmatchedMessage } from './registry.js';
