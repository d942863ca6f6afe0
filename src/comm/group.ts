/**
 * MPI.Group: an ordered set of processes (MPI 4.1 section 7.3), the local
 * half of making communicators from a chosen set of ranks. Every operation
 * here is local: no message is sent, as MPI specifies.
 *
 * A group holds its members' ranks in COMM_WORLD, indexed by rank in the
 * group, so that groups taken from different communicators compare and
 * combine directly. It also knows this process's world rank, for `rank`.
 *
 * As in mpi4py 4, the set operations and comparisons are methods of a group
 * (`a.union(b)`); mpi4py 3's class-method spellings (`Group.Union(a, b)`)
 * map onto them one to one (README, "Coming from mpi4py").
 *
 * # Unfinished features
 * - **7.3.2**: MPI_Group_from_session_pset (sessions, 11.3).
 * - MPI_Group_free: groups are values here, collected by the garbage collector.
 */
import { CONGRUENT, IDENT, MPIError, PROC_NULL, SIMILAR, UNDEFINED, UNEQUAL } from '../base/index.js';
import { show } from './validate.js';

/** A range of ranks for rangeIncl and rangeExcl: first, last (included) and stride, as MPI's triplets. */
export type RankRange = readonly [first: number, last: number, stride: number];

export class Group {
  /** @internal World ranks of the members, by rank in the group. */
  readonly members: readonly number[];
  /** Number of processes in the group (MPI_Group_size). */
  readonly size: number;
  /** This process's rank in the group, or UNDEFINED when it is not a member (MPI_Group_rank). */
  readonly rank: number;

  /**
   * @internal Groups come from `comm.getGroup()` and from the operations below.
   * `members`: world ranks by rank in the group; `self`: this process's world
   * rank (-1 for GROUP_EMPTY, which is built before the world is known).
   */
  constructor(members: readonly number[], private readonly self: number) {
    this.members = members;
    this.size = members.length;
    const at = members.indexOf(self);
    this.rank = at < 0 ? UNDEFINED : at;
  }

  /** The group of the members at `ranks`, in that order (MPI_Group_incl). */
  incl(ranks: readonly number[]): Group {
    return this.included('incl', ranks);
  }

  /** The group without the members at `ranks`, the others in their order (MPI_Group_excl). */
  excl(ranks: readonly number[]): Group {
    return this.excluded('excl', ranks);
  }

  /** incl of the ranks the triplets `[first, last, stride]` run through (MPI_Group_range_incl). */
  rangeIncl(ranges: readonly RankRange[]): Group {
    return this.included('rangeIncl', this.expandRanges('rangeIncl', ranges));
  }

  /** excl of the ranks the triplets `[first, last, stride]` run through (MPI_Group_range_excl). */
  rangeExcl(ranges: readonly RankRange[]): Group {
    return this.excluded('rangeExcl', this.expandRanges('rangeExcl', ranges));
  }

  /** This group's members, then those of `other` not in it (MPI_Group_union). */
  union(other: Group): Group {
    checkGroup('union', other);
    const mine = new Set(this.members);
    return this.make([...this.members, ...other.members.filter((w) => !mine.has(w))], other);
  }

  /** This group's members that are also in `other`, in this group's order (MPI_Group_intersection). */
  intersection(other: Group): Group {
    checkGroup('intersection', other);
    const theirs = new Set(other.members);
    return this.make(this.members.filter((w) => theirs.has(w)), other);
  }

  /** This group's members that are not in `other`, in this group's order (MPI_Group_difference). */
  difference(other: Group): Group {
    checkGroup('difference', other);
    const theirs = new Set(other.members);
    return this.make(this.members.filter((w) => !theirs.has(w)), other);
  }

  /**
   * The rank in `other` of each member at `ranks` here: UNDEFINED for one that
   * is not in `other`, PROC_NULL for PROC_NULL (MPI_Group_translate_ranks).
   */
  translateRanks(ranks: readonly number[], other: Group): number[] {
    checkGroup('translateRanks', other);
    const at = new Map(other.members.map((w, rank) => [w, rank]));
    return this.checkRanks('translateRanks', ranks, true).map((rank) =>
      rank === PROC_NULL ? PROC_NULL : at.get(this.members[rank]!) ?? UNDEFINED);
  }

  /** IDENT (same members, same order), SIMILAR (same members) or UNEQUAL (MPI_Group_compare). */
  compare(other: Group): number {
    checkGroup('compare', other);
    return compareMembers(this.members, other.members);
  }

  private included(call: string, ranks: readonly number[]): Group {
    return this.make(this.checkRanks(call, ranks).map((rank) => this.members[rank]!));
  }

  private excluded(call: string, ranks: readonly number[]): Group {
    const gone = new Set(this.checkRanks(call, ranks));
    return this.make(this.members.filter((_, rank) => !gone.has(rank)));
  }

  private make(members: readonly number[], other?: Group): Group {
    return new Group(members, this.self >= 0 ? this.self : other?.self ?? -1);
  }

  /**
   * `ranks` checked for `call`: each an integer rank of this group, none
   * twice (MPI requires distinct ranks in incl and excl); PROC_NULL too where
   * `procNull` (translateRanks), which may repeat.
   */
  private checkRanks(call: string, ranks: readonly number[], procNull = false): readonly number[] {
    if (!Array.isArray(ranks)) throw new MPIError('ERR_ARG', `${call}: ranks must be an array of ranks, got ${show(ranks)}`);
    const seen = new Set<number>();
    for (const rank of ranks) {
      if (procNull && rank === PROC_NULL) continue;
      if (!Number.isInteger(rank) || rank < 0 || rank >= this.size) {
        throw new MPIError('ERR_RANK', `${call}: rank ${show(rank)} is out of range for a group of size ${this.size}` +
          (this.size === 0 ? ' (it has no ranks' : ` (0..${this.size - 1}`) + (procNull ? ', or PROC_NULL)' : ')'));
      }
      if (!procNull && seen.has(rank)) throw new MPIError('ERR_RANK', `${call}: rank ${rank} appears twice in ranks; each may appear once`);
      seen.add(rank);
    }
    return ranks;
  }

  private expandRanges(call: string, ranges: readonly RankRange[]): number[] {
    if (!Array.isArray(ranges)) throw new MPIError('ERR_ARG', `${call}: ranges must be an array of [first, last, stride] triplets, got ${show(ranges)}`);
    const ranks: number[] = [];
    for (const range of ranges) {
      if (!Array.isArray(range) || range.length !== 3 || !range.every((n) => Number.isInteger(n))) {
        throw new MPIError('ERR_ARG', `${call}: each range must be a [first, last, stride] triplet of integers, got ${show(range)}`);
      }
      const [first, last, stride] = range;
      if (stride === 0 || (last - first) * stride < 0) {
        throw new MPIError('ERR_ARG', `${call}: the range [${first}, ${last}, ${stride}] never reaches ${last} from ${first} ` +
          '(the stride must be non-zero and point from first to last)');
      }
      // A rank beyond the group is caught by checkRanks, naming it; stop there rather than run on for a huge `last`.
      for (let rank = first; stride > 0 ? rank <= last : rank >= last; rank += stride) {
        ranks.push(rank);
        if (rank < 0 || rank >= this.size) break;
      }
    }
    return ranks;
  }
}

/** The group with no members (MPI_GROUP_EMPTY). */
export const GROUP_EMPTY = new Group([], -1);

/** IDENT, SIMILAR or UNEQUAL for two member lists of world ranks. */
export function compareMembers(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) return UNEQUAL;
  if (a.every((w, i) => w === b[i])) return IDENT;
  const inB = new Set(b);
  return a.every((w) => inB.has(w)) ? SIMILAR : UNEQUAL;
}

/** Comparison of communicators (MPI_Comm_compare): CONGRUENT where groups would be IDENT but the contexts differ. */
export function compareComms(sameContext: boolean, a: readonly number[], b: readonly number[]): number {
  const groups = compareMembers(a, b);
  if (groups === IDENT && !sameContext) return CONGRUENT;
  return groups;
}

export function checkGroup(call: string, group: unknown): asserts group is Group {
  if (!(group instanceof Group)) throw new MPIError('ERR_GROUP', `${call}: group must be an MPI.Group (from comm.getGroup() or a group operation), got ${show(group)}`);
}
