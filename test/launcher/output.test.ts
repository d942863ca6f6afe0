/** The launcher's forwarding of a rank's output: whole lines, and pieces drawn in place with a carriage return. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { forwardLines } from '../../src/launcher/output.js';

/** A forwarder between a stream the test writes and the list of writes it made. */
function forwarder(prefix: string): { rank: PassThrough; writes: string[]; done: Promise<void> } {
  const rank = new PassThrough();
  const writes: string[] = [];
  const to = new Writable({ write(chunk: Buffer, _encoding, callback) { writes.push(chunk.toString()); callback(); } });
  return { rank, writes, done: forwardLines(rank, to, prefix) };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('a piece ending in a carriage return goes on at once, unchanged; a piece with no line end waits', async () => {
  const { rank, writes, done } = forwarder('');
  rank.write('osu_bw: 65536 bytes, 40/100 iterations\r');
  await tick();
  assert.deepEqual(writes, ['osu_bw: 65536 bytes, 40/100 iterations\r'], 'the progress line is not held back for a newline');
  rank.write('                                      \r65536   ');
  await tick();
  assert.deepEqual(writes.slice(1), ['                                      \r'], 'the row\'s start waits for its newline');
  rank.write('  123.45\nhalf');
  rank.end();
  await done;
  assert.equal(writes.join(''), 'osu_bw: 65536 bytes, 40/100 iterations\r                                      \r65536     123.45\nhalf\n');
});

test('with --tag-output a carriage return stays inside its line, which gets one prefix', async () => {
  const { rank, writes, done } = forwarder('[0] ');
  rank.write('drawn\r');
  await tick();
  assert.deepEqual(writes, [], 'held for its newline: a prefix per carriage return would draw "[0] " over "[0] "');
  rank.write('row\nnext\n');
  rank.end();
  await done;
  assert.equal(writes.join(''), '[0] drawn\rrow\n[0] next\n');
});
