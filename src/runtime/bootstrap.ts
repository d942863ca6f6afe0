/**
 * The bootstrap: who am I, how many are we, and how to reach every peer
 * (DESIGN.md "Start-up"). One implementation per launcher; everything above
 * it is the same whichever started the job.
 */
import type { BindRequest, ParentInfo, PeerAddress, PeerEnd, RankReport, SpawnReply, SpawnRequest, TracePart } from '../wire/index.js';

export interface Bootstrap {
  /** Which launcher started this process, for `mpi4ts info`. */
  readonly name: string;
  readonly rank: number;
  readonly size: number;
  /**
   * MPI_APPNUM (MPI 4.1 section 11.10.3): the index of the MPMD block
   * (`a.ts : b.ts`) this process was started from, 0 in a one-program job or
   * where the launcher does not tell.
   */
  readonly appnum: number;
  /** The CPUs to pin this process to (`mpi4ts run --bind-to`); absent or null where the launcher binds, or nobody. */
  readonly binding?: BindRequest | null;
  /** The job key every peer connection proves. */
  readonly key: Buffer;
  /** An address of this host that peers can reach, for the TCP listener. */
  readonly advertiseHost: string;
  /** Publishes this rank's address and resolves with every rank's, in rank order. */
  exchange(me: PeerAddress): Promise<PeerAddress[]>;
  /** Waits until every rank is done (the collective part of MPI_Finalize). */
  finalize(): Promise<void>;
  /** Asks the launcher to end the whole job with `code`. */
  abort(code: number, message: string): Promise<void>;
  /** Drops whatever the bootstrap still holds open. */
  close(): void;
  /**
   * Where the launcher tells of other ranks whose program is done
   * ('finalized', or 'exited' before finalize); absent where it cannot.
   */
  watchPeers?(onDone: (rank: number, how: PeerEnd) => void): void;
  /**
   * Where the launcher tells of pool workers that died (`mpi4ts run --pool`'s
   * ranks, and a PoolExecutor's spawned workers: the job goes on without
   * them); absent where no launcher does.
   */
  watchDeaths?(onDeath: (rank: number, words: string) => void): void;
  /** Sends part of this rank's timeline to the launcher (mpi4ts run --trace); absent where no launcher collects one. */
  sendTrace?(host: string, part: TracePart): Promise<void>;
  /** sendTrace at once, for a process that dies of an uncaught error; false if it could not. */
  sendTraceNow?(host: string, part: TracePart): boolean;
  /**
   * Tells the launcher that this rank's connections to `peer` closed before
   * `peer` said goodbye; absent where no launcher judges which rank failed
   * first. The launcher hears it before this rank's own failure.
   */
  peerLost?(peer: number): void;
  /**
   * Answers the launcher's requests for this rank's hang report with
   * `report` (mpi4ts run); absent where no launcher asks (the rank then
   * prints its own on SIGUSR1: runtime/hang-report.ts).
   */
  serveReports?(report: () => RankReport): void;
  /**
   * Dynamic processes (DESIGN.md "Dynamic processes"), under mpi4ts run only.
   * `rank` and `size` are then the process's universe index and the extent
   * of the universe it knows; its COMM_WORLD is `worldGroup` (absent:
   * 0..size-1, the job's own ranks).
   */
  readonly worldGroup?: readonly number[];
  /** MPI_UNIVERSE_SIZE: the slots the launcher has (absent: unknown). */
  readonly universeSize?: number;
  /** After exchange: a spawned process's parents (MPI_Comm_get_parent), null in the job's own ranks. */
  parent?(): ParentInfo | null;
  /**
   * Asks the launcher for new processes; absent where the launcher cannot
   * start them. `parents`: what the parents know, for a launcher that keeps
   * no table of the universe (Hydra: runtime/pmi1-spawn.ts).
   */
  spawn?(request: SpawnRequest, parents: SpawnParents): Promise<SpawnReply>;
  /** The parents of spawn `id` know its children: they may be welcomed. */
  spawnGo?(id: number): void;
}

/** What comm.spawn's parents know, for the bootstrap's spawn. */
export interface SpawnParents {
  /** The parent group's addresses, in its order. */
  addresses: PeerAddress[];
  /** One past the highest universe index any parent knows: the children's base where no launcher hands bases out. */
  extent: number;
}
