// The pieces of `mpi4ts run`'s mpiexec flags that need no job: two-word
// options (-genv NAME VALUE), -genvall's filter, output file patterns, time
// stamps and each rank's place on its host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOptions, type OptionSpec } from '../../src/cli/args.js';
import { forwardableEnvironment } from '../../src/cli/run.js';
import { expandPattern, patternError, timestampPrefix } from '../../src/launcher/output.js';
import { localPlaces } from '../../src/launcher/placement.js';

const SPECS: OptionSpec[] = [
  { names: ['-genv', '--env'], key: 'env', value: 'pair', help: '' },
  { names: ['-n'], key: 'np', value: 'one', help: '' },
];

test('a pair option takes NAME VALUE (two words) or NAME=VALUE (one), and collects NAME=VALUE', () => {
  const { options, rest } = parseOptions(['-genv', 'A', 'x=y', '-genv', 'B=2', '--env=C=3', '-n', '2', 'prog.ts', '-genv'], SPECS, 'run');
  assert.deepEqual(options.get('env'), ['A=x=y', 'B=2', 'C=3']);
  assert.deepEqual(rest, ['prog.ts', '-genv']);
  assert.throws(() => parseOptions(['-genv', 'A'], SPECS, 'run'), /option -genv needs a name and a value \(NAME VALUE\), got only "A"/);
  assert.throws(() => parseOptions(['-genv'], SPECS, 'run'), /option -genv needs a value/);
});

test('an optional-value option (--profile) is true alone and takes a value only after "="; the next word stays the program', () => {
  const specs: OptionSpec[] = [...SPECS, { names: ['--profile'], key: 'profile', value: 'optional', help: '' }];
  const alone = parseOptions(['--profile', 'prog.ts', 'x'], specs, 'run');
  assert.equal(alone.options.get('profile'), true);
  assert.deepEqual(alone.rest, ['prog.ts', 'x']);
  assert.equal(parseOptions(['--profile=m.svg', 'prog.ts'], specs, 'run').options.get('profile'), 'm.svg');
  assert.equal(parseOptions(['--profile=', 'prog.ts'], specs, 'run').options.get('profile'), '');
});

test('-genvall forwards the environment less what belongs to this host or to another launcher', () => {
  const env = forwardableEnvironment({
    PATH: '/bin', OMP_NUM_THREADS: '2', HOME: '/root', PWD: '/x', SSH_AUTH_SOCK: 's', PMI_RANK: '0', SLURM_PROCID: '1',
    OMPI_COMM_WORLD_RANK: '0', MPI4TS_JOB_KEY: 'k', 'BAD-NAME': 'v', TERM: 'xterm',
  });
  assert.deepEqual(env, { PATH: '/bin', OMP_NUM_THREADS: '2' });
});

test('Hydra\'s file patterns: %r %h %g %p %%; another letter is refused, naming the allowed ones', () => {
  assert.equal(expandPattern('out/%h.%r.%p.%g.%%', 3, 'node2', 1), 'out/node2.3.1.0.%');
  assert.equal(patternError('out.%r'), null);
  assert.equal(patternError('100%%.%r'), null);
  assert.match(patternError('out.%x') ?? '', /"%x" is not one of %r \(rank\), %h \(host\), %g \(group\), %p \(host index\), %% \(a percent sign\)/);
  assert.match(patternError('out.%') ?? '', /"%" is not one of/);
});

test('--timestamp-output\'s stamp is local time to the millisecond', () => {
  assert.equal(timestampPrefix(new Date(2026, 11, 2, 9, 5, 7, 42)), '[2026-12-02 09:05:07.042] ');
});

test('each rank\'s place among its host\'s ranks, in rank order, and the order hosts first appear in', () => {
  const places = localPlaces([{ rank: 0, host: 'a' }, { rank: 1, host: 'b' }, { rank: 2, host: 'a' }, { rank: 3, host: 'a' }]);
  assert.deepEqual([...places], [
    [0, { index: 0, count: 3, hostIndex: 0 }], [1, { index: 0, count: 1, hostIndex: 1 }],
    [2, { index: 1, count: 3, hostIndex: 0 }], [3, { index: 2, count: 3, hostIndex: 0 }]]);
});
