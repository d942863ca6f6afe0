// The deadlock judgement over one round of reports (src/launcher/deadlock.ts),
// as pure functions: what makes a round "stuck", and the words of the cycle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deadlockLines, judgeRound } from '../../src/launcher/deadlock.js';
import type { RankReport, ReportedOperation } from '../../src/wire/index.js';

function recv(peer: number, tag = 2, extra: Partial<ReportedOperation> = {}): ReportedOperation {
  return { call: 'recv', wait: 'message', comm: 'COMM_WORLD', context: 0, peer, peerInComm: peer, tag, collective: null, waitedMs: 1000, waitedUpToMs: 1000, site: null, ...extra };
}

function report(rank: number, pending: ReportedOperation[], extra: Partial<RankReport> = {}): RankReport {
  return {
    rank, host: 'h', pid: 100 + rank, pending, pendingCount: pending.length, unexpected: [], unexpectedCount: 0,
    otherPending: 0, frames: [], finalizing: false, userActivity: [], ...extra,
  };
}

const round = (...reports: RankReport[]) => ({ answers: new Map(reports.map((r) => [r.rank, r] as const)), silent: [] as number[] });

test('two ranks receiving from each other, no frame in flight: stuck', () => {
  const j = judgeRound(round(report(0, [recv(1)], { frames: [[1, 3, 2]] }), report(1, [recv(0)], { frames: [[0, 2, 3]] })));
  assert.equal(j.allBlocked, true);
  assert.equal(j.inFlight, false);
});

test('a frame sent and not yet received: in flight, either way round', () => {
  assert.equal(judgeRound(round(report(0, [recv(1)], { frames: [[1, 4, 2]] }), report(1, [recv(0)], { frames: [[0, 2, 3]] }))).inFlight, true);
  // The receiver counts nothing from the sender yet.
  assert.equal(judgeRound(round(report(0, [recv(1)], { frames: [[1, 1, 0]] }), report(1, [recv(0)]))).inFlight, true);
});

test('a rank with work of its own, data in flight, silent, or still starting is not blocked', () => {
  const other = report(1, [recv(0)]);
  assert.equal(judgeRound(round(report(0, [recv(1)], { userActivity: ['Timeout'] }), other)).allBlocked, false);
  assert.equal(judgeRound(round(report(0, [recv(1)], { otherPending: 1 }), other)).allBlocked, false);
  assert.equal(judgeRound({ answers: new Map([[1, other]]), silent: [0] }).allBlocked, false);
  assert.equal(judgeRound({ answers: new Map<number, RankReport | null>([[0, null], [1, other]]), silent: [] }).allBlocked, false);
  assert.equal(judgeRound(round(report(0, []), other)).allBlocked, false, 'nothing pending: not in an MPI call');
});

test('every rank in finalize is a job ending, not a deadlock; some in finalize and the rest blocked is one', () => {
  assert.equal(judgeRound(round(report(0, [], { finalizing: true }), report(1, [], { finalizing: true }))).allBlocked, false);
  const r = round(report(0, [], { finalizing: true }), report(1, [recv(2)]), report(2, [recv(1)]));
  assert.equal(judgeRound(r).allBlocked, true);
  const lines = deadlockLines(new Map([...r.answers].map(([k, v]) => [k, v])));
  assert.deepEqual(lines, ['rank 1 waits in recv(source=2, tag=2)', 'rank 2 waits in recv(source=1, tag=2)', 'cycle: rank 1 -> rank 2 -> rank 1',
    'rank 0 waits in finalize for the others']);
});

test('the signature changes when frames move', () => {
  const a = judgeRound(round(report(0, [recv(1)], { frames: [[1, 1, 1]] }), report(1, [recv(0)], { frames: [[0, 1, 1]] })));
  const b = judgeRound(round(report(0, [recv(1)], { frames: [[1, 2, 2]] }), report(1, [recv(0)], { frames: [[0, 2, 2]] })));
  assert.notEqual(a.signature, b.signature);
});

test('ANY_SOURCE waits for anyone; a collective names the rank that has not entered it', () => {
  const barrier = (peer: number): ReportedOperation => recv(peer, 0, { call: 'barrier', collective: 'barrier', context: 1 });
  const lines = deadlockLines(new Map([
    [0, report(0, [barrier(2)])],
    [1, report(1, [barrier(0)])],
    [2, report(2, [recv(-1, 7, { peerInComm: -1 })])],
  ]));
  assert.equal(lines[0], 'rank 0 waits in barrier (call 0 on COMM_WORLD), waiting for a message from rank 2 (rank 2 has not entered this barrier)');
  assert.equal(lines[1], 'rank 2 waits in recv(source=ANY_SOURCE, tag=7)');
  assert.match(lines[2]!, /^cycle: rank 0 -> rank 2 -> rank 0$/);
});

test('a rank whose frame counts were left out (too many peers): in flight is unknown, so no deadlock', () => {
  const j = judgeRound(round(report(0, [recv(1)], { framesOmitted: true }), report(1, [recv(0)])));
  assert.equal(j.inFlight, true);
});
