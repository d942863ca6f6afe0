/**
 * The one diagnostics module, as undici's lib/core/diagnostics.js: a debug
 * log (`NODE_DEBUG=mpi4ts`, util.debuglog) for people, and named
 * node:diagnostics_channel channels for tools, which subscribe without
 * changing a line of mpi4ts:
 *
 *     import diagnostics_channel from 'node:diagnostics_channel';
 *     diagnostics_channel.subscribe('mpi4ts:transport:connect', (m) => console.log(m));
 *
 * A message is published only when someone subscribes (`hasSubscribers`), so
 * an unwatched channel costs one property read. Channels are for events that
 * happen a few times per peer or per job, never per message.
 */
import { channel } from 'node:diagnostics_channel';
import { debuglog } from 'node:util';

/** The debug log: silent unless NODE_DEBUG names mpi4ts. */
export const debug = debuglog('mpi4ts');

/**
 * This process's clock in microseconds since the epoch, the one the timeline
 * of --trace keeps on both ends (comm/trace.ts in the ranks, the control
 * server's clock rounds in wire/): performance's monotonic clock from its
 * origin, which the rounds map onto the launcher's.
 */
export function clockMicros(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}

/** Whether NODE_DEBUG turned the debug log on (checked without formatting anything). */
export function debugEnabled(): boolean {
  return debug.enabled;
}

/** What each channel publishes. */
export interface DiagnosticsMessages {
  /** This rank's world is up: the bootstrap that started it and how it reaches each peer. */
  'mpi4ts:world:start': { rank: number; size: number; bootstrap: string; host: string; ranksOnHost: number; pollMicros: number };
  /** This rank finished finalize (every rank reached it). */
  'mpi4ts:world:finalize': { rank: number };
  /** A connection to `peer` is proven both ways and carries frames from now on. */
  'mpi4ts:transport:connect': { rank: number; peer: number; kind: string };
  /** No more messages come from `peer` (`why`: finalized, exited, closed). */
  'mpi4ts:p2p:peer-ended': { rank: number; peer: number; why: string };
  /**
   * The small collectives of `comm` meet in shared memory (`board` true),
   * or some rank of it said no at start (false, so all go by messages):
   * decided at its first collective call (p2p/host-board.ts).
   */
  'mpi4ts:coll:host-board': { rank: number; comm: string; size: number; board: boolean };
  /** This rank asks for the job to end (comm.abort, or an error only ending the job can answer). */
  'mpi4ts:job:abort': { rank: number; code: number; message: string };
  /** The launcher saw a rank's process end. */
  'mpi4ts:launcher:rank-exit': { rank: number; host: string; code: number | null; signal: string | null };
}

export type DiagnosticsChannel = keyof DiagnosticsMessages;

const channels = new Map<DiagnosticsChannel, ReturnType<typeof channel>>();

function channelOf(name: DiagnosticsChannel): ReturnType<typeof channel> {
  let found = channels.get(name);
  if (found === undefined) {
    found = channel(name);
    channels.set(name, found);
  }
  return found;
}

/** Publishes `message` on `name` if anyone listens; `message` is built only then. */
export function publish<N extends DiagnosticsChannel>(name: N, message: () => DiagnosticsMessages[N]): void {
  const target = channelOf(name);
  if (target.hasSubscribers) target.publish(message());
}

// ---- Hang reports (DESIGN.md "Hang reports and deadlocks"): the shape of what a rank waits for, made in
// p2p/registry.ts and carried to the launcher by wire/pending-report.ts, so both layers share it. ----

/**
 * What an operation waits for: a message (recv, a collective's receive), a
 * probe's message, a receiver (ssend, rendezvous), or a member's entry on
 * the host's board (a collective in shared memory, p2p/host-board.ts).
 */
export type PendingWait = 'message' | 'probe' | 'receiver' | 'board';

/** One pending operation of this rank. */
export interface PendingOperation {
  /** The user's call ("recv", "irecv", "ssend", "bcast", "probe"). */
  call: string;
  wait: PendingWait;
  /** The communicator, in words ("COMM_WORLD", "communicator 3"). */
  comm: string;
  /** The engine's matching context: the same number on every member. */
  context: number;
  /** World rank of the peer it waits for; -1 for any source. */
  peer: number;
  /** The peer's rank in the communicator (source or dest as the user gave it); -1 for any source. */
  peerInComm: number;
  /** The user's tag (-1: any tag); for a collective, its call number on the communicator. */
  tag: number;
  /** The collective call this belongs to, or null for point-to-point. */
  collective: string | null;
  /**
   * Milliseconds since it started, at least and at most: the same unless it
   * was posted while the program held the event loop computing (it started
   * somewhere in that stretch: Progress.stampRange).
   */
  waitedMs: number;
  waitedUpToMs: number;
  /** Where the user called it (file:line), when known (MPI4TS_DEBUG_CALLS=1). */
  site: string | null;
}

/** A message that arrived and that no receive has matched. */
export interface UnmatchedMessage {
  comm: string;
  context: number;
  /** Its source's rank in the communicator, and world rank. */
  source: number;
  sourceWorld: number;
  tag: number;
  bytes: number;
  collective: string | null;
}
