import { test } from 'node:test';
import assert from 'node:assert/strict';
import { columnHeader, formatRow, header, jsonReport, type RunDescription } from '../../src/bench/format.js';
import { benchConfig } from '../../src/bench/config.js';
import { testInfo } from '../../src/bench/tests.js';

function describe(test: string, flags: { typed?: boolean; full?: boolean } = {}): RunDescription {
  const config = benchConfig({ test, ...flags }, (p) => p);
  return { info: testInfo(test)!, config, version: '9.8.7', ranks: 2, transport: 'unix' };
}

test('latency: OSU header naming mpi4ts, columns 10 + 20 wide, 2 decimals', () => {
  const run = describe('latency');
  assert.equal(header(run),
    '# OSU MPI Latency Test: mpi4ts 9.8.7 (object path, send/recv of values, 2 ranks, unix)\n' +
    '# Size            Latency (us)\n');
  assert.equal(formatRow(run.info, false, { size: 8, value: 1.234, iterations: 10 }), '8                         1.23');
  assert.equal(formatRow(run.info, false, { size: 4194304, value: 1234.5678, iterations: 10 }), '4194304                1234.57');
});

test('bandwidth: window line and MB/s column; typed path named', () => {
  const run = describe('bw', { typed: true });
  const lines = header(run).split('\n');
  assert.match(lines[0]!, /^# OSU MPI Bandwidth Test: mpi4ts 9.8.7 \(typed path, send \+ recvInto of Uint8Array/);
  assert.equal(lines[1], '# Window size: 64');
  assert.equal(lines[2], '# Size        Bandwidth (MB/s)');
  assert.equal(formatRow(run.info, false, { size: 65536, value: 5432.1, iterations: 20 }).length, 30);
  assert.match(describe('bibw').info.title, /Bi-Directional/);
});

test('collectives: Avg column, and with -f min, max and iterations as OSU', () => {
  const info = testInfo('allreduce')!;
  assert.equal(columnHeader(info, false), '# Size         Avg Latency(us)');
  assert.equal(columnHeader(info, true), '# Size         Avg Latency(us)     Min Latency(us)     Max Latency(us)  Iterations');
  const row = { size: 4, value: 3, min: 2, max: 4.5, iterations: 1000 };
  assert.equal(formatRow(info, false, row), '4                         3.00');
  assert.equal(formatRow(info, true, row), '4                         3.00                2.00                4.50        1000');
});

test('collectives name their values in the header', () => {
  assert.match(header(describe('allreduce', { typed: true })), /\(typed path, Uint8Array values \(Float32Array for reductions\), 2 ranks, unix\)/);
  assert.match(header(describe('bcast')), /\(object path, plain object values, 2 ranks, unix\)/);
});

test('barrier: no size column', () => {
  const info = testInfo('barrier')!;
  assert.equal(columnHeader(info, false), '# Avg Latency(us)');
  assert.equal(formatRow(info, false, { size: 0, value: 12.5, iterations: 5 }), '            12.50');
});

test('--json: one document with the run and every row', () => {
  const run = describe('bw');
  const doc = JSON.parse(jsonReport(run, [{ size: 1, value: 2, iterations: 3 }])) as Record<string, unknown>;
  assert.equal(doc.implementation, 'mpi4ts');
  assert.equal(doc.test, 'bw');
  assert.equal(doc.path, 'object');
  assert.equal(doc.unit, 'MB/s');
  assert.equal(doc.window, 64);
  assert.deepEqual(doc.results, [{ size: 1, value: 2, iterations: 3 }]);
});
