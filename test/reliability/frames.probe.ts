/**
 * Malformed frames after a valid handshake, on every transport: rank 1 of the
 * job is test/programs/evil.mjs, which proves the job key as a real rank does
 * and then sends one bad frame (or closes in the middle of one). Rank 0 must
 * close that connection, name it, and end the job with that error: never
 * hang, never deliver the frame, never leave a process behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mpirun, program, strays } from '../helpers.js';

const CASES: [string, RegExp][] = [
  ['version', /protocol version 9, expected 1/],
  ['kind', /unknown kind 99/],
  ['length40', /length 1099511627776 exceeds the limit of 4294967296 bytes/],
  ['eagerTooLarge', /eager payload of 268435456 bytes exceeds the limit of 67108864/],
  ['rtsLength40', /length 1099511627776 exceeds the limit/],
  ['source', /world rank 1 claims to be rank 99 of the communicator of context 0, which has 2 ranks/],
  ['impostor', /world rank 1 claims to be rank 0 of the communicator of context 0, which is world rank 0/],
  ['tag', /tag -5 is negative/],
  ['context', /source 1 or context 99999 out of range/],
  ['float64of7', /a float64 payload of 7 bytes, not a whole number of 8-byte elements/],
  ['payloadType', /unknown payload type code 200/],
  ['numberOf3', /a number payload of 3 bytes \(not 8\)/],
  ['unknownCts', /clear-to-send for unknown rendezvous 4242/],
  ['unknownData', /sent data for rendezvous 4242, which no receive asked for/],
  ['unknownWritten', /wrote the data of rendezvous 4242, which no receive asked for/],
  ['unknownReadFrom', /offered 4096 bytes of rendezvous 4242 to read, which no receive of that size asked for/],
  ['unknownReadDone', /read rendezvous 4242, which this rank did not offer it/],
  ['credit', /handed back 1073741824 bytes of eager credit, more than it had been given/],
  ['afterBye', /a message after the sender said goodbye|a goodbye in the shared-memory ring/],
  ['truncatedHeader', /closed in the middle of a frame/],
  ['midFrame', /closed in the middle of a frame/],
];

const PATHS = [
  { path: 'unix', env: { MPI4TS_TRANSPORT: 'unix' }, label: /unix socket #\d+/ },
  { path: 'tcp', env: { MPI4TS_TRANSPORT: 'tcp' }, label: /tcp from 127\.0\.0\.1:\d+/ },
  { path: 'shm', env: {}, label: /shared-memory ring/ },
];

const shmHere = (await import('../../src/transport/index.js')).loadShmLib();

for (const { path, env, label } of PATHS) {
  test(`malformed frames over ${path}: the bad connection closes, the error names it, the job ends`, { concurrency: 4 }, async (t) => {
    if (path === 'shm' && shmHere instanceof Error) {
      t.skip(`no shared memory here: ${shmHere.message}`);
      return;
    }
    await t.test('a well-formed frame from the same harness is received (the harness works)', async () => {
      const r = await mpirun(2, program('evil.mjs'), { args: ['valid', path], env, killAfterMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /rank 0 got "hello"/);
    });
    await t.test('a second proven connection claiming a rank whose first carries frames', async () => {
      const r = await mpirun(2, program('evil.mjs'), { args: ['duplicate', path], env, killAfterMs: 60_000 });
      assert.equal(r.signal, null, `the job hung (killed by the harness): ${r.stderr}`);
      assert.notEqual(r.code, 0, r.stderr);
      assert.match(r.stderr, /rank 0: a second connection claiming rank 1 \((unix socket #\d+|tcp from 127\.0\.0\.1:\d+)\) while its first \((unix socket #\d+|tcp from 127\.0\.0\.1:\d+)\) carries frames; closed it; stopping the job/);
      assert.deepEqual(await strays(r.marker), []);
    });
    for (const [name, reason] of CASES) {
      await t.test(name, async () => {
        const r = await mpirun(2, program('evil.mjs'), { args: [name, path], env, killAfterMs: 60_000 });
        assert.equal(r.signal, null, `the job hung (killed by the harness): ${r.stderr}`);
        assert.notEqual(r.code, 0, r.stderr);
        assert.doesNotMatch(r.stdout, /rank 0 got/);
        const line = r.stderr.split('\n').find((l) => l.includes('bad frame from rank 1'));
        assert.ok(line !== undefined, r.stderr);
        assert.match(line, new RegExp(`rank 0: bad frame from rank 1 \\(${label.source}\\): .*(${reason.source})`));
        assert.match(line, /stopping the job/);
        assert.deepEqual(await strays(r.marker), []);
      });
    }
  });
}
