/**
 * Point-to-point (MPI 4.1 chapter 3): the matching engine with its eager and
 * rendezvous protocols, the progress engine that keeps it moving, Request and
 * Status. Comm (comm/comm.ts) is the face users call; this layer knows ranks,
 * contexts and tags, and a Transport below it that moves frames.
 *
 * # Unfinished features
 * - **3.4**, **3.6**: buffered and ready modes (MPI_Bsend, MPI_Rsend, MPI_Buffer_attach).
 * - **3.8.2**, **3.8.3**: matched probe and receive (MPI_Mprobe, MPI_Mrecv, MPI_Message).
 * - **3.9**: persistent requests (MPI_Send_init, MPI_Recv_init, MPI_Start).
 * - **3.7.5**: Request.testany and testsome (waitany, waitsome, waitall, testall exist).
 * - **4**: partitioned communication.
 * - **9.3**: error handlers: every error is fatal to the call (it rejects), as
 *   MPI_ERRORS_RETURN; there is no MPI_ERRORS_ARE_FATAL switch per communicator.
 * - An ANY_SOURCE receive whose every other rank has ended fails one turn of
 *   the event loop later: a send to oneself made after a timer or I/O (not in
 *   the same turn) would have matched it. MPI would wait for ever there.
 */
export { P2PEngine } from './engine.js';
export { Progress } from './progress.js';
export type { ProgressOptions } from './progress.js';
export type { EngineOptions, EngineCollaborators, EngineStart } from './engine.js';
export { Request } from './request.js';
export type { TestResult } from './request.js';
export { Status } from './status.js';
export type { ElementSized } from './status.js';
export { MatchQueues, envelopeMatches } from './matching.js';
