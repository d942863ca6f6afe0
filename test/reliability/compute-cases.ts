/**
 * Jobs that compute for longer than any handshake or proof time-out between
 * their exchanges (test/programs/compute.ts), on every transport: they must
 * finish, with every check passed. Shared by compute.test.ts (the default
 * suite: 12 s phases) and test/long/compute.long.ts (30 and 60 s).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mpirun, program, strays } from '../helpers.js';

export const TRANSPORTS: Record<string, Record<string, string>> = {
  'shared memory': {},
  'unix sockets': { MPI4TS_TRANSPORT: 'unix' },
  tcp: { MPI4TS_TRANSPORT: 'tcp' },
};

export interface ComputeCase {
  seconds: number;
  /** 'wait': the thread blocked (no core taken, so many jobs can run at once); 'busy': a CPU loop. */
  how: 'wait' | 'busy';
  np: number;
  transport: keyof typeof TRANSPORTS;
}

/** Every combination of the given sizes and transports. */
export function matrix(seconds: number, how: 'wait' | 'busy', sizes: number[], transports = Object.keys(TRANSPORTS)): ComputeCase[] {
  return sizes.flatMap((np) => transports.map((transport) => ({ seconds, how, np, transport })));
}

export function computeTests(title: string, cases: ComputeCase[]): void {
  test(title, { concurrency: true }, async (t) => {
    await Promise.all(cases.map((c) => t.test(`${c.np} ranks over ${c.transport}, ${c.seconds} s phases (${c.how})`, async () => {
      const r = await mpirun(c.np, program('compute.ts'), {
        args: [String(c.seconds), c.how], env: TRANSPORTS[c.transport], killAfterMs: (c.seconds * 3 + 120) * 1000,
      });
      assert.equal(r.signal, null, `the job hung: ${r.stderr}`);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.split('\n').filter((l) => l.startsWith('ok ')).sort(),
        Array.from({ length: c.np }, (_, rank) => `ok ${rank}`).sort());
      assert.deepEqual(await strays(r.marker), []);
    })));
  });
}
