/**
 * Two-level collectives for a communicator that spans hosts, as MPICH's
 * SMP-aware collectives and Open MPI's han do (DESIGN.md "Collectives"):
 * one leader per host meets the other leaders over the network, and each
 * host's ranks meet among themselves over shared memory (a bcast goes
 * across first, then at home). A flat tree puts most of its messages on the
 * network when ranks are placed round robin; here one message per host
 * crosses it, and the rest stays in memory.
 *
 * The levels are sub-channels of the call's channel (SubChannel): the same
 * tag and context, ranks renumbered. Messages between one pair keep their
 * order, and each level's pattern is complete before the next starts on a
 * rank, so the levels cannot take each other's messages. Failures travel as
 * in the flat algorithms: a failure at home goes up to the leader, across in
 * place of the leader's data, and down to every rank.
 *
 * Only the broadcasts take two levels so far: measured on the namespace
 * cluster (bench/two-level.ts: 12 ranks, 3 on each of 4 hosts, links shaped
 * to 1 Gbit/s), bcast of a small object took 0.49x the flat time and
 * bcastInto of 1 MiB 0.85x, but an allreduce in two levels (a binomial
 * reduce to each leader, the leaders' allreduce, a bcast at home) took
 * 2.08x (8 B) and 1.86x (1 MiB) and a barrier 1.12x, so those stay flat.
 * That cluster runs 12 ranks on 2 cores: each extra round of a level costs
 * a wake-up there.
 *
 * # Unfinished features
 * - Allreduce, reduce and barrier in two levels, once measured on hosts of
 *   their own (see above).
 * - More than two levels (sockets within a host, racks or switches above
 *   hosts).
 * - An error that names a peer inside a level (bcastInto's "rank 2 sent 800
 *   bytes where this rank's buffer takes 400") gives its rank in the level,
 *   not in the communicator.
 */
import type { Failure, Channel } from './channel.js';
import { bcastBinomial } from './bcast.js';

/** A channel over some ranks of another (`members`, ranks of the parent in order), sharing its failure. */
export class SubChannel implements Channel {
  readonly rank: number;
  readonly size: number;
  /** The levels are built once per call: a level has no levels of its own. */
  readonly hosts = null;
  readonly origin: number;

  constructor(private readonly parent: Channel, private readonly members: readonly number[]) {
    this.rank = members.indexOf(parent.rank);
    this.size = members.length;
    this.origin = parent.origin ?? parent.rank;
  }

  get failure(): Failure | null {
    return this.parent.failure;
  }

  set failure(failure: Failure | null) {
    this.parent.failure = failure;
  }

  send(dest: number, value: unknown): Promise<void> {
    return this.parent.send(this.members[dest]!, value);
  }

  recv<T = unknown>(source: number): Promise<T | Failure> {
    return this.parent.recv<T>(this.members[source]!);
  }

  recvInto(source: number, target: Parameters<Channel['recvInto']>[1]): Promise<number | Failure> {
    return this.parent.recvInto(this.members[source]!, target);
  }

  progress(): void {
    this.parent.progress?.();
  }

  recvIntoOrValue(source: number, target: Parameters<Channel['recvInto']>[1]): ReturnType<Channel['recvIntoOrValue']> {
    return this.parent.recvIntoOrValue(this.members[source]!, target);
  }
}

/** A call's two levels on this rank: its host's ranks, and the leaders (null off a leader). */
export interface Levels {
  /** This host's ranks, in rank order. */
  readonly local: Channel;
  /** Where this host's leader is in `local`. */
  readonly localLeader: number;
  /** One rank per host, in the order of the hosts' lowest ranks; null on a rank that leads no host. */
  readonly leaders: Channel | null;
  /** Where the leader of `root`'s host (root itself) is among the leaders. */
  readonly rootLeader: number;
}

/**
 * Whether a call on `ch` gains from two levels: its ranks are on two hosts
 * or more and some host has two of them or more (with one rank per host the
 * leaders are all the ranks, and the flat algorithm is the same thing).
 */
export function spansHosts(ch: Channel): boolean {
  const hosts = ch.hosts;
  if (hosts === null || hosts === undefined || hosts.length !== ch.size || ch.size < 3) return false;
  const distinct = new Set(hosts).size;
  return distinct >= 2 && distinct < ch.size;
}

/**
 * The levels of `ch`, each host led by its lowest rank, except `root`'s
 * host, led by the root (a bcast's data starts there; a reduce's result
 * ends there).
 */
export function levelsOf(ch: Channel, root = 0): Levels {
  const hosts = ch.hosts!;
  const byHost = new Map<number, number[]>();
  for (let r = 0; r < ch.size; r++) {
    const ranks = byHost.get(hosts[r]!);
    if (ranks === undefined) byHost.set(hosts[r]!, [r]);
    else ranks.push(r);
  }
  const mine = byHost.get(hosts[ch.rank]!)!;
  const leaderOf = (ranks: readonly number[]): number => (ranks.includes(root) ? root : ranks[0]!);
  // Map keeps insertion order: hosts in the order of their lowest ranks, the same on every rank.
  const leaderRanks = [...byHost.values()].map(leaderOf);
  const leader = leaderOf(mine);
  return {
    local: new SubChannel(ch, mine),
    localLeader: mine.indexOf(leader),
    leaders: leader === ch.rank ? new SubChannel(ch, leaderRanks) : null,
    rootLeader: leaderRanks.indexOf(root),
  };
}

/** Bcast: a binomial tree among the leaders from the root, then one on each host from its leader. */
export async function bcastTwoLevel<T>(ch: Channel, value: T | Failure, root: number): Promise<T | Failure> {
  const { local, localLeader, leaders, rootLeader } = levelsOf(ch, root);
  const across = leaders === null ? value : await bcastBinomial(leaders, value, rootLeader);
  return bcastBinomial(local, across, localLeader);
}
