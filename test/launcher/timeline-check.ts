// What a timeline of mpi4ts run --trace must be for a viewer (the Chrome
// trace-event format's rules that Perfetto applies), shared by the one-host
// and the multi-host tests.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

export interface TraceEvent {
  ph: string;
  name: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  id?: number;
  bp?: string;
  cat?: string;
  args?: Record<string, unknown>;
}

export interface TraceDoc {
  traceEvents: TraceEvent[];
  otherData: { clock: Record<string, { offsetMicros: number; errorMicros: number }>; messages: number; receivesWithoutSend: number; missingRanks: number[] };
}

export function readTimeline(path: string): TraceDoc {
  return JSON.parse(readFileSync(path, 'utf8')) as TraceDoc;
}

/** The rules a viewer needs: slices nest per track, flows sit inside a slice of their track and pair up. */
export function checkWellFormed(doc: TraceDoc): void {
  const slices = doc.traceEvents.filter((e) => e.ph === 'X');
  for (const e of doc.traceEvents) {
    assert.ok(Number.isInteger(e.pid) && Number.isInteger(e.tid), `pid and tid of ${JSON.stringify(e)}`);
    if (e.ph !== 'M') assert.ok(Number.isFinite(e.ts) && e.ts >= 0, `ts of ${JSON.stringify(e)}`);
  }
  const tracks = new Map<string, TraceEvent[]>();
  for (const s of slices) {
    assert.ok(typeof s.dur === 'number' && s.dur >= 0, `dur of ${JSON.stringify(s)}`);
    const key = `${s.pid}/${s.tid}`;
    tracks.set(key, [...(tracks.get(key) ?? []), s]);
  }
  for (const [key, track] of tracks) {
    const stack: number[] = [];
    for (const s of [...track].sort((a, b) => a.ts - b.ts || b.dur! - a.dur!)) {
      while (stack.length > 0 && stack.at(-1)! <= s.ts) stack.pop();
      assert.ok(stack.length === 0 || stack.at(-1)! >= s.ts + s.dur!, `slice ${s.name} at ${s.ts} on track ${key} overlaps another without nesting`);
      stack.push(s.ts + s.dur!);
    }
  }
  const inSlice = (e: TraceEvent): boolean =>
    (tracks.get(`${e.pid}/${e.tid}`) ?? []).some((s) => s.ts <= e.ts && e.ts <= s.ts + s.dur!);
  const starts = doc.traceEvents.filter((e) => e.ph === 's');
  const ends = doc.traceEvents.filter((e) => e.ph === 'f');
  assert.equal(starts.length, ends.length);
  assert.deepEqual(new Set(starts.map((e) => e.id)), new Set(ends.map((e) => e.id)));
  for (const e of [...starts, ...ends]) assert.ok(inSlice(e), `flow ${e.ph} ${e.id} at ${e.ts} is in no slice of rank ${e.pid}'s track ${e.tid}`);
  for (const e of ends) assert.equal(e.bp, 'e');
}

