import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseHostfile, parseHostList, readHostfile } from '../../src/launcher/hostfile.js';

test('MPICH machinefile: host, host:slots, comments and blank lines', () => {
  const text = '# the Pis\nnode1\n\n  node2:4   # the big one\n10.0.0.7:2\r\nnode1\n';
  assert.deepEqual(parseHostfile(text, 'machines'), [
    { name: 'node1', slots: 2, maxSlots: null },
    { name: 'node2', slots: 4, maxSlots: null },
    { name: '10.0.0.7', slots: 2, maxSlots: null },
  ]);
});

test('Open MPI hostfile: slots= and max_slots=', () => {
  assert.deepEqual(parseHostfile('a slots=4 max_slots=8\nb slots=2\nc max_slots=3\n', 'hf'), [
    { name: 'a', slots: 4, maxSlots: 8 },
    { name: 'b', slots: 2, maxSlots: null },
    { name: 'c', slots: 1, maxSlots: 3 },
  ]);
});

test('IPv6 literals: bare, bracketed, bracketed with slots', () => {
  assert.deepEqual(parseHostfile('fe80::1\n[fd00::2]:3\n[::1] slots=2\n', 'hf'), [
    { name: 'fe80::1', slots: 1, maxSlots: null },
    { name: 'fd00::2', slots: 3, maxSlots: null },
    { name: '::1', slots: 2, maxSlots: null },
  ]);
});

test('--host list', () => {
  assert.deepEqual(parseHostList('a:2,b:2,c'), [
    { name: 'a', slots: 2, maxSlots: null },
    { name: 'b', slots: 2, maxSlots: null },
    { name: 'c', slots: 1, maxSlots: null },
  ]);
  assert.throws(() => parseHostList('a,,b'), /--host "a,,b": expected a comma-separated list of host or host:slots, found an empty item/);
  assert.throws(() => parseHostList('a:0'), /--host "a:0": expected slots to be a whole number from 1 to 1000000, got "0"/);
});

const badLines: [string, RegExp][] = [
  ['node1\nnode2:x\n', /^machines:2: expected slots to be a whole number from 1 to 1000000, got "x"$/],
  ['node1 slot=4\n', /^machines:1: expected "slots=N" or "max_slots=N" after the host name, got "slot=4"$/],
  ['\n\nnode1 slots=-2\n', /^machines:3: expected slots to be a whole number from 1 to 1000000, got "-2"$/],
  ['node1:2 slots=3\n', /^machines:1: slots given twice for host "node1"$/],
  ['node1 slots=4 max_slots=2\n', /^machines:1: max_slots=2 is less than slots=4 for host "node1"$/],
  ['no/de\n', /^machines:1: expected a host name or address \(optionally :slots\), got "no\/de"$/],
  ['[fd00::1]:two\n', /^machines:1: expected slots to be a whole number from 1 to 1000000, got "two"$/],
];

for (const [text, message] of badLines) {
  test(`bad hostfile line ${JSON.stringify(text)} names file, line and what was expected`, () => {
    assert.throws(() => parseHostfile(text, 'machines'), (err: Error) => {
      assert.equal(err.name, 'UsageError');
      assert.match(err.message, message);
      return true;
    });
  });
}

test('readHostfile: missing file, empty file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'm4h-hostfile-'));
  try {
    assert.throws(() => readHostfile(join(dir, 'nope')), /cannot read hostfile ".*nope": ENOENT/);
    writeFileSync(join(dir, 'empty'), '# nothing\n\n');
    assert.throws(() => readHostfile(join(dir, 'empty')), /hostfile ".*empty" names no hosts/);
    writeFileSync(join(dir, 'ok'), 'a:2\n');
    assert.deepEqual(readHostfile(join(dir, 'ok')), [{ name: 'a', slots: 2, maxSlots: null }]);
  } finally {
    rmSync(dir, { recursive: true });
  }
});
