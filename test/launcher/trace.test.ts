// mpi4ts run --trace FILE (issue 18 item 6): real jobs, their timeline checked
// against the Chrome trace-event format's rules that Perfetto applies: a
// track's slices nest, every flow starts and ends inside a slice of its
// track, every rank is a named process; and against what the program did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mpirun, mpi4ts, program } from '../helpers.js';
import { placeOnThreads } from '../../src/launcher/trace.js';
import { profileReport } from '../../src/launcher/profile.js';
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

test('--profile=FILE.svg: time in MPI per rank, calls by time, message sizes, the matrix printed and drawn', async () => {
  const svg = join(dir, 'matrix.svg');
  const r = await mpirun(4, program('trace.ts'), { launcher: [`--profile=${svg}`], args: ['ring', '5'] });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^mpi4ts profile \(--profile\): 4 of 4 rank\(s\)$/m);
  const section = (title: string): string[] => {
    const lines = r.stderr.split('\n');
    const start = lines.findIndex((l) => l.startsWith(title));
    assert.ok(start >= 0, `no "${title}" in\n${r.stderr}`);
    const end = lines.findIndex((l, i) => i > start && (l === '' || l.startsWith('mpi4ts:')));
    return lines.slice(start + 2, end < 0 ? undefined : end);
  };
  const times = section('Time per rank');
  assert.deepEqual(times.map((l) => l.trim().split(/\s+/)[0]), ['0', '1', '2', '3', 'all']);
  for (const line of times) {
    const [wall, mpi, share] = line.trim().split(/\s+/).slice(-3).map(Number);
    assert.ok(wall! > 0 && mpi! >= 0 && mpi! <= wall! && share! >= 0 && share! <= 100, line);
  }
  const calls = new Map(section('Calls by time').map((l) => {
    const [name, count] = l.trim().split(/\s+/);
    return [name!, Number(count)];
  }));
  // Per rank: 5 ring sends and 6 irecvs (5 ring, 1 under waitall), one bcast, allreduce, isend and waitall.
  assert.equal(calls.get('send'), 20);
  assert.equal(calls.get('irecv'), 24);
  for (const name of ['bcast', 'allreduce', 'isend', 'waitall']) assert.equal(calls.get(name), 4, name);
  assert.ok(section('Messages sent by size').some((l) => /^\s+128 B - 255 B\s+4\s+#+$/.test(l)), r.stderr);
  const matrix = section('Communication matrix').map((l) => l.trim().split(/\s{2,}/));
  assert.equal(matrix.length, 4);
  for (let from = 0; from < 4; from++) {
    assert.equal(matrix[from]![from + 1], '-');
    // Each ring neighbour got at least the 5 numbers and the 128-byte array.
    const toNext = matrix[from]![((from + 1) % 4) + 1]!;
    assert.match(toNext, /^\d+ B$/);
    assert.ok(Number(toNext.split(' ')[0]) >= 5 * 8 + 128, `${from} -> next: ${toNext}`);
  }
  assert.match(r.stderr, new RegExp(`mpi4ts: communication matrix drawn in ${svg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  const drawing = readFileSync(svg, 'utf8');
  assert.match(drawing, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.equal(drawing.match(/<rect [^>]*><title>/g)?.length, 16);
  assert.match(drawing, /<title>rank 1 to rank 2: \d+ bytes in \d+ message\(s\)<\/title>/);
  assert.match(drawing, /<title>rank 1 to rank 1: 0 bytes in 0 message\(s\)<\/title><\/rect>/);
});

test('--profile alone prints the report; a heat map name that is not .svg or cannot be written is refused', async () => {
  const r = await mpirun(2, program('trace.ts'), { launcher: ['--profile'], args: ['ring', '1'] });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /mpi4ts profile \(--profile\): 2 of 2 rank\(s\)/);
  assert.doesNotMatch(r.stderr, /drawn in/);
  const txt = await mpi4ts(['run', '-n', '2', '--profile=out.txt', program('trace.ts')]);
  assert.equal(txt.code, 2);
  assert.match(txt.stderr, /--profile=out\.txt: the heat map is an SVG file, give a name ending in \.svg \(or --profile alone for the report only\)/);
  const bad = await mpi4ts(['run', '-n', '2', '--profile=/nonexistent-dir/m.svg', program('trace.ts')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--profile=\/nonexistent-dir\/m\.svg: cannot write the heat map there: ENOENT/);
});

test('--profile: a rank that computes spends little of its time in MPI; the ranks waiting for it, much', async () => {
  const r = await mpirun(3, program('trace.ts'), { launcher: ['--profile'], args: ['compute'] });
  assert.equal(r.code, 0, r.stderr);
  const rows = new Map(r.stderr.split('\n').filter((l) => /^\s+[0-2]\s/.test(l) && l.trim().split(/\s+/).length === 5)
    .map((l) => {
      const [rank, , wall, mpi] = l.trim().split(/\s+/);
      return [Number(rank), { wall: Number(wall), mpi: Number(mpi) }];
    }));
  assert.equal(rows.size, 3, r.stderr);
  assert.ok(rows.get(1)!.wall >= 0.4 && rows.get(1)!.mpi < 0.2, JSON.stringify([...rows]));
  for (const rank of [0, 2]) assert.ok(rows.get(rank)!.mpi >= 0.2, `rank ${rank}: ${JSON.stringify(rows.get(rank))}`);
});

test('profileReport: a job of more than 16 ranks lists its busiest pairs instead of the matrix', () => {
  const size = 20;
  const ranks = Array.from({ length: size }, (_, rank) => ({
    rank, host: 'h',
    profile: {
      wallMicros: 1e6, mpiMicros: 2.5e5, calls: { send: [1, 10] as [number, number] }, sizes: [0, 0, 0, 0, 1],
      bytesTo: Array.from({ length: size }, (_, to) => (to === (rank + 1) % size ? 1000 * (rank + 1) : 0)),
      messagesTo: Array.from({ length: size }, (_, to) => (to === (rank + 1) % size ? 1 : 0)),
    },
  }));
  const text = profileReport(ranks, size, []);
  assert.match(text, /20 ranks: the 20 busiest pairs \(--profile=FILE\.svg draws the whole matrix\)/);
  assert.match(text, /\n\s+19\s+0\s+20 KiB\n/);
  assert.match(text, /\n\s+all\s+\s+20\.000\s+5\.000\s+25\.0\n/);
  assert.match(text, /\n\s+8 B - 15 B\s+20\s+#{40}\n/);
});

test('--trace keeps at most MPI4TS_TRACE_MAX_EVENTS events a rank, counts the rest as dropped and says so', async () => {
  const file = join(dir, 'bounded.json');
  // 400 ring rounds: per rank 1200 calls and 800 messages, against a bound of 1000 events.
  const r = await mpirun(2, program('trace.ts'), { launcher: ['--trace', file], args: ['ring', '400'], env: { MPI4TS_TRACE_MAX_EVENTS: '1000' } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /timeline of 2 rank\(s\), \d+ message\(s\), written to .*; \d+ event\(s\) dropped \(MPI4TS_TRACE_MAX_EVENTS\)/);
  const doc = read(file);
  checkWellFormed(doc);
  const dropped = (doc.otherData as unknown as { droppedEvents: Record<string, number> }).droppedEvents;
  for (const rank of [0, 1]) {
    // Its calls are among the events it kept (with its sends and receives), so at most the bound.
    const calls = doc.traceEvents.filter((e) => e.pid === rank && e.ph === 'X').length;
    assert.ok(calls > 0 && calls <= 1000, `rank ${rank} kept ${calls} calls`);
    assert.ok((dropped[`rank ${rank}`] ?? 0) >= 1000, `rank ${rank} dropped ${dropped[`rank ${rank}`]}`);
  }
});
