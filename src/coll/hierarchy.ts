/**
 * Two-level collectives for a communicator that spans hosts, as MPICH's
 * SMP-aware collectives and Open MPI's han do (DESIGN.md "Collectives"):
 * each host's ranks first meet among themselves, over shared memory, then
 * one leader per host meets the other leaders over the network, then each
 * leader passes the result on at home. A flat tree or doubling puts most of
 * its rounds on the network; here a call crosses it ceil(log2 hosts) times
 * with one message per leader per round, and the rest stays in memory.
 *
 * The levels are sub-channels of the call's channel (SubChannel): the same
 * tag and context, ranks renumbered. Messages between one pair keep their
 * order, and each level's pattern is complete before the next starts on a
 * rank, so the levels cannot take each other's messages. Failures travel as
 * in the flat algorithms: a failure at home goes up to the leader, across in
 * place of the leader's data, and down to every rank.
 *
 * # Unfinished features
 * - More than two levels (sockets within a host, racks or switches above
 *   hosts).
 * - allreduceInto, reduceInto and the other buffer forms stay flat across
 *   hosts (their ring passes already keep most links inside a host when
 *   ranks are placed by host).
 */
import { Failure, type Channel } from './channel.js';
import { Op } from './op.js';
import { barrierDissemination } from './barrier.js';
import { bcastBinomial } from './bcast.js';
import { reduceBinomial } from './reduce.js';

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

/**
 * Allreduce under a commutative op (every predefined one): a binomial reduce
 * to each host's leader, the leaders' allreduce (`across`: recursive
 * doubling or the ring, chosen by length as for a flat call), then a
 * binomial bcast on each host.
 */
export async function allreduceTwoLevel<T>(ch: Channel, value: T | Failure, op: Op,
  across: (leaders: Channel, value: T | Failure) => Promise<T | Failure>): Promise<T | Failure> {
  const { local, localLeader, leaders } = levelsOf(ch);
  const atHome = await reduceBinomial(local, value, op, localLeader);
  const reduced = leaders === null ? null : await across(leaders, atHome as T | Failure);
  return bcastBinomial(local, reduced as T | Failure, localLeader);
}

/**
 * Barrier: every rank of a host checks in with its leader (a binomial reduce
 * of nothing), the leaders run the dissemination barrier, and each leader
 * releases its host (a binomial bcast).
 */
export async function barrierTwoLevel(ch: Channel): Promise<void> {
  const { local, localLeader, leaders } = levelsOf(ch);
  await reduceBinomial(local, null, CHECK_IN, localLeader);
  if (leaders !== null) await barrierDissemination(leaders);
  await bcastBinomial(local, null, localLeader);
}

/** Combines nothing: the barrier's check-in carries no data, only arrival. */
const CHECK_IN = Op.create<null>(() => null);
