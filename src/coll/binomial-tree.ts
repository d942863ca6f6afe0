/**
 * The binomial tree that bcast, scatter, gather and reduce walk (as MPICH's
 * binomial algorithms), in one place.
 *
 * # Unfinished features
 * None of its own: it serves the algorithms, whose modules list theirs.
 */

/**
 * The tree over `size` ranks rooted at `root`, as seen from `rank`. With
 * ranks renumbered relative to the root, rank r's parent is r minus its
 * lowest set bit, and its children are r + 2^i for each 2^i below that bit
 * (every 2^i below size, at the root) while r + 2^i < size: ceil(log2 size)
 * rounds from the root to the farthest leaf. The subtree under child i is
 * the relative ranks [r + 2^i, r + 2^(i+1)), cut at size: contiguous, so
 * scatter and gather pass each child one slice of items in relative order.
 */
export class BinomialTree {
  /** Absolute rank of the parent; -1 at the root. */
  readonly parent: number;
  /** Absolute ranks of the children, nearest first: child i is 2^i away and heads 2^i relative ranks. */
  readonly children: number[] = [];

  constructor(rank: number, size: number, root: number) {
    const relative = (rank - root + size) % size;
    let lowestBit = 1;
    while (lowestBit < size && (relative & lowestBit) === 0) lowestBit *= 2;
    this.parent = lowestBit < size ? (rank - lowestBit + size) % size : -1;
    for (let distance = 1; distance < lowestBit && relative + distance < size; distance *= 2) {
      this.children.push((rank + distance) % size);
    }
  }
}
