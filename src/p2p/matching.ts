/**
 * MPI matching for one context (MPI 4.0 section 3.5): a message matches a
 * receive when source and tag agree, ANY_SOURCE and ANY_TAG being wildcards.
 * Both queues are kept in arrival/posting order and searched from the front,
 * so receives match in the order they were posted and messages from one
 * sender in the order they were sent (the non-overtaking rule).
 */
import { ANY_SOURCE, ANY_TAG } from '../constants.js';

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
    const i = this.postedReceives.findIndex((r) => envelopeMatches(r.source, r.tag, message.source, message.tag));
    if (i < 0) {
      this.unexpectedMessages.push(message);
      return undefined;
    }
    return this.postedReceives.splice(i, 1)[0];
  }

  /** A receive was posted: take the first unexpected message it matches, or queue it. */
  post(receive: Posted): Message | undefined {
    const i = this.findUnexpected(receive.source, receive.tag);
    if (i < 0) {
      this.postedReceives.push(receive);
      return undefined;
    }
    return this.unexpectedMessages.splice(i, 1)[0];
  }

  /** The first unexpected message a probe for (source, tag) would see, left in place. */
  peek(source: number, tag: number): Message | undefined {
    const i = this.findUnexpected(source, tag);
    return i < 0 ? undefined : this.unexpectedMessages[i];
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
    return this.unexpectedMessages.findIndex((m) => envelopeMatches(source, tag, m.source, m.tag));
  }
}
