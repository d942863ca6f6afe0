/**
 * MPI matching for one context (MPI 4.1 section 3.5): a message matches a
 * receive when source and tag agree, ANY_SOURCE and ANY_TAG being wildcards.
 * Both queues are kept in arrival/posting order and searched from the front,
 * so receives match in the order they were posted and messages from one
 * sender in the order they were sent (the non-overtaking rule).
 *
 * A matched probe (MPI_Mprobe, section 3.8.2) takes a message out of the
 * unexpected queue (`take`, `remove`): from then on no receive can match it,
 * and it is received later without matching (P2PEngine.mrecv).
 */
import { ANY_SOURCE, ANY_TAG } from '../base/index.js';

export interface Envelope {
  source: number;
  tag: number;
}

export function envelopeMatches(wantSource: number, wantTag: number, source: number, tag: number): boolean {
  return (wantSource === ANY_SOURCE || wantSource === source) && (wantTag === ANY_TAG || wantTag === tag);
}

export class MatchQueues<Posted extends Envelope, Message extends Envelope> {
  readonly postedReceives: Posted[] = [];
  readonly unexpectedMessages: Message[] = [];

  /** A message arrived: take the first posted receive it matches, or queue it as unexpected. */
  arrive(message: Message): Posted | undefined {
    const i = findMatch(this.postedReceives, message.source, message.tag, true);
    if (i < 0) {
      this.unexpectedMessages.push(message);
      return undefined;
    }
    return takeAt(this.postedReceives, i);
  }

  /** A receive was posted: take the first unexpected message it matches, or queue it. */
  post(receive: Posted): Message | undefined {
    const i = this.findUnexpected(receive.source, receive.tag);
    if (i < 0) {
      this.postedReceives.push(receive);
      return undefined;
    }
    return takeAt(this.unexpectedMessages, i);
  }

  /** The first unexpected message a probe for (source, tag) would see, left in place. */
  peek(source: number, tag: number): Message | undefined {
    const i = this.findUnexpected(source, tag);
    return i < 0 ? undefined : this.unexpectedMessages[i];
  }

  /** Takes the first unexpected message a receive for (source, tag) would match, as a matched probe does. */
  take(source: number, tag: number): Message | undefined {
    const i = this.findUnexpected(source, tag);
    return i < 0 ? undefined : takeAt(this.unexpectedMessages, i);
  }

  /** Takes this message out of the unexpected queue (a matched probe that waited for it); false if it is not there. */
  remove(message: Message): boolean {
    const i = this.unexpectedMessages.lastIndexOf(message);
    if (i < 0) return false;
    takeAt(this.unexpectedMessages, i);
    return true;
  }

  /** Takes back a posted receive; false if it already matched. */
  withdraw(receive: Posted): boolean {
    const i = this.postedReceives.indexOf(receive);
    if (i < 0) return false;
    this.postedReceives.splice(i, 1);
    return true;
  }

  get isEmpty(): boolean {
    return this.postedReceives.length === 0 && this.unexpectedMessages.length === 0;
  }

  private findUnexpected(source: number, tag: number): number {
    return findMatch(this.unexpectedMessages, source, tag, false);
  }
}

/**
 * Index of the first entry that matches: entries are receives (`entriesWant`,
 * their envelope may hold wildcards) or messages. A loop, not findIndex: a
 * closure per call is an allocation on the path of every message.
 */
function findMatch(entries: readonly Envelope[], source: number, tag: number, entriesWant: boolean): number {
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (entriesWant ? envelopeMatches(e.source, e.tag, source, tag) : envelopeMatches(source, tag, e.source, e.tag)) return i;
  }
  return -1;
}

/** Removes and returns entry i; the front (the usual match) without splice's array. */
function takeAt<T>(entries: T[], i: number): T | undefined {
  return i === 0 ? entries.shift() : entries.splice(i, 1)[0];
}
