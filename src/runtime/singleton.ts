import { randomBytes } from 'node:crypto';
import type { PeerAddress } from '../wire/index.js';
import type { Bootstrap } from './bootstrap.js';

/** A program started without a launcher: a world of one (MPI 4.0 section 11.10, singleton init). */
export class SingletonBootstrap implements Bootstrap {
  readonly name = 'singleton';
  readonly rank = 0;
  readonly size = 1;
  readonly appnum = 0;
  readonly key = randomBytes(32);
  readonly advertiseHost = '127.0.0.1';

  async exchange(me: PeerAddress): Promise<PeerAddress[]> {
    return [me];
  }

  async finalize(): Promise<void> {}

  async abort(code: number, message: string): Promise<void> {
    if (message !== '') process.stderr.write(`${message}\n`);
    process.exit(code);
  }

  close(): void {}
}
