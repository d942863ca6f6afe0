// mpi4ts run --trace FILE (issue 18 item 6): real jobs, their timeline checked
// against the Chrome trace-event format's rules that Perfetto applies: a
// track's slices nest, every flow starts and ends inside a slice of its
// track, every rank is a named process; and against what the program did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mpirun, mpi4ts, program } from '../helpers.js';
import { placeOnThreads } from '../../src/launcher/trace.js';
import { checkWellFormed, readTimeline as read } from './timeline-check.js';

const dir = mkdtempSync(join(tmpdir(), 'mpi4ts-trace-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));


test('--trace: a 4-rank ring gives 4 named tracks, a slice per call and a flow per message', async () => {
  const file = join(dir, 'ring.json');
  const r = await mpirun(4, program('trace.ts'), { launcher: ['--trace', file], args: ['ring', '3'] });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /ok ring/);
  assert.match(r.stderr, new RegExp(`timeline of 4 rank\\(s\\), \\d+ message\\(s\\), written to ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(open it in ui\\.perfetto\\.dev\\)`));
  const doc = read(file);
  checkWellFormed(doc);
  const names = doc.traceEvents.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => [e.pid, e.args?.name]);
  assert.deepEqual(names.map(([pid]) => pid).sort(), [0, 1, 2, 3]);
  for (const [pid, name] of names) assert.match(String(name), new RegExp(`^rank ${String(pid)} \\(.+\\)$`));
  for (let rank = 0; rank < 4; rank++) {
    const calls = doc.traceEvents.filter((e) => e.ph === 'X' && e.pid === rank).map((e) => e.name);
    assert.equal(calls.filter((c) => c === 'send').length, 3, `rank ${rank}: ${calls.join(' ')}`);
    assert.equal(calls.filter((c) => c === 'irecv').length, 4);
    for (const c of ['bcast', 'allreduce', 'isend', 'waitall']) assert.ok(calls.includes(c), `rank ${rank} has no ${c}: ${calls.join(' ')}`);
  }
  // The ring's point-to-point messages, each a flow from rank r to r+1 with its bytes; the collectives' come on top.
  const flows = doc.traceEvents.filter((e) => e.ph === 's');
  const ringFlows = flows.filter((e) => e.args?.tag === 0 || e.args?.tag === 1 || e.args?.tag === 2);
  assert.ok(ringFlows.length >= 12, `${ringFlows.length} ring flows`);
  assert.equal(flows.filter((e) => e.args?.tag === 99 && e.args?.bytes === 128).length, 4);
  assert.equal(doc.otherData.messages, flows.length);
  assert.equal(doc.otherData.receivesWithoutSend, 0);
  // Each send slice says where to and how much; each collective its number on the communicator.
  const send = doc.traceEvents.find((e) => e.ph === 'X' && e.pid === 2 && e.name === 'send')!;
  assert.deepEqual({ dest: send.args?.dest, comm: send.args?.comm, bytes: send.args?.bytes }, { dest: 3, comm: 'MPI_COMM_WORLD', bytes: 8 });
  const bcast = doc.traceEvents.find((e) => e.ph === 'X' && e.pid === 1 && e.name === 'bcast')!;
  assert.deepEqual({ root: bcast.args?.root, collective: bcast.args?.collective }, { root: 0, collective: 1 });
  assert.equal(bcast.cat, 'mpi,collective');
  // Every rank's clock was estimated against the launcher's, with a stated bound.
  assert.deepEqual(Object.keys(doc.otherData.clock).sort(), ['rank 0', 'rank 1', 'rank 2', 'rank 3']);
  for (const c of Object.values(doc.otherData.clock)) assert.ok(c.errorMicros >= 0 && Number.isFinite(c.offsetMicros));
});

test('--trace: a failed job still writes its timeline, the failing rank\'s calls included', async () => {
  const file = join(dir, 'fail.json');
  const r = await mpirun(3, program('trace.ts'), { launcher: ['--trace', file], args: ['fail'] });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /rank 1 fails on purpose/);
  assert.match(r.stderr, /timeline of 3 rank\(s\)/);
  const doc = read(file);
  checkWellFormed(doc);
  assert.deepEqual(doc.otherData.missingRanks, []);
  const rank1 = doc.traceEvents.filter((e) => e.ph === 'X' && e.pid === 1).map((e) => e.name);
  assert.deepEqual(rank1, ['irecv', 'send', 'wait']);
  // The others were stopped in their recv from rank 1: it is there, marked unfinished, or failed by rank 1's end.
  for (const rank of [0, 2]) assert.ok(doc.traceEvents.some((e) => e.ph === 'X' && e.pid === rank && e.name === 'recv'), `rank ${rank}`);
});

test('--trace: no file name, or one that cannot be written, is refused before the job starts', async () => {
  const empty = await mpi4ts(['run', '-n', '2', '--trace', '', program('trace.ts')]);
  assert.equal(empty.code, 2, empty.stderr);
  assert.match(empty.stderr, /--trace needs a file name \(the timeline is written there as JSON\), got ""/);
  const bad = await mpi4ts(['run', '-n', '2', '--trace', '/nonexistent-dir/t.json', program('trace.ts')]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /--trace \/nonexistent-dir\/t\.json: cannot write the timeline there: ENOENT/);
  assert.doesNotMatch(bad.stdout, /ok/);
});

test('placeOnThreads: overlapping calls that do not nest go to a second track; nested ones stay', () => {
  // [id, name, start, duration, args]
  const { threadOf, count } = placeOnThreads([
    [1, 'outer', 0, 100, {}], [2, 'inner', 10, 20, {}], [3, 'crossing', 50, 100, {}], [4, 'later', 200, 5, {}], [5, 'in-crossing', 120, 10, {}],
  ]);
  assert.equal(count, 2);
  assert.deepEqual([1, 2, 3, 4, 5].map((id) => threadOf.get(id)), [0, 0, 1, 0, 0]);
});
