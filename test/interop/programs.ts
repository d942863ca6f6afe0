/**
 * The integration programs every launcher must run unchanged (issue 6), with
 * what their output must be, and a process runner for launchers other than
 * `mpi4ts run`. Shared by hydra, slurm and rendezvous tests.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { CORE_COLL_CHECKS, example, p2pPassed, program, ROOT, sortedLines } from '../helpers.js';
import { track } from '../teardown.js';

export interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Case {
  name: string;
  script: string;
  args: string[];
  check(r: Outcome): void;
}

/** All with 4 ranks. */
export const CASES: Case[] = [
  {
    name: 'helloworld', script: example('helloworld.ts'), args: [],
    check: (r) => {
      const lines = sortedLines(r.stdout);
      assert.equal(lines.length, 4, r.stdout);
      lines.forEach((line, i) => assert.match(line, new RegExp(`^Hello, World! I am process ${i} of 4 on \\S+\\.$`)));
    },
  },
  {
    name: 'send-recv', script: example('send-recv.ts'), args: [],
    check: (r) => assert.deepEqual(sortedLines(r.stdout), ['rank 0 sent 5 to rank 1', 'rank 1 received 5 from rank 0']),
  },
  {
    name: 'ring', script: example('ring.ts'), args: [],
    check: (r) => assert.deepEqual(sortedLines(r.stdout), ['rank 0 received 30 from rank 3', 'rank 1 received 0 from rank 0',
      'rank 2 received 10 from rank 1', 'rank 3 received 20 from rank 2']),
  },
  { name: 'tags', script: example('tags.ts'), args: [], check: (r) => assert.equal(r.stdout, '34\n23\n') },
  {
    name: 'p2p', script: program('p2p.ts'), args: [],
    check: (r) => assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('ok ')).length, p2pPassed().length, r.stdout),
  },
  {
    name: 'collectives', script: program('coll.ts'), args: CORE_COLL_CHECKS,
    check: (r) => assert.deepEqual(r.stdout.split('\n').filter((l) => l.startsWith('ok ')).map((l) => l.slice(3)),
      CORE_COLL_CHECKS, r.stdout),
  },
];

/** A rank that throws: the job ends non-zero and its error is shown. */
export const THROWS: Case = {
  name: 'a rank that throws', script: program('fail.ts'), args: ['throw', '1'],
  check: (r) => {
    assert.notEqual(r.code, 0, 'the job must end non-zero');
    assert.match(r.stderr, /Error: boom from rank 1/);
  },
};

/** The server and client of an MPMD job (`-n 1 server s : -n 2 client c`), as test/launcher/mpmd.test.ts runs them. */
export const MPMD_PROGRAMS = { server: program('mpmd-server.ts'), client: program('mpmd-client.ts') };

/**
 * One world of 3: the server rank 0 with APPNUM 0 and argument s, the clients
 * with APPNUM `clientAppnum` (1, or 0 where the launcher does not tell) and c, talking.
 */
export function MPMD_CHECK(r: Outcome, clientAppnum = 1): void {
  assert.match(r.stdout, /^world 3$/m, r.stdout);
  const ranks = r.stdout.split('\n').filter((l) => l.startsWith('rank ')).map((l) => JSON.parse(l.slice(5)) as Record<string, unknown>);
  assert.deepEqual(ranks.map((s) => [s.rank, s.appnum, s.role, (s.args as string[]).join(' ')]),
    [[0, 0, 'server', 's'], [1, clientAppnum, 'client', 'c'], [2, clientAppnum, 'client', 'c']], r.stdout);
  assert.match(r.stdout, /^sum of squares 5$/m, r.stdout);
}

/** How a TypeScript program is started under a foreign launcher (README). */
export function nodeArgs(script: string, args: string[]): string[] {
  return ['--import', 'tsx', script, ...args];
}

/** Runs a command to the end (killed after `killAfterMs`, a safety net) and collects its output. */
export function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env, killAfterMs = 90_000): Promise<Outcome> {
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  return new Promise((resolve) => child.on('close', (code) => {
    clearTimeout(killer);
    resolve({ code, stdout, stderr });
  }));
}

/** MPICH's process manager, as Debian's mpich installs it. */
export const MPIEXEC = 'mpiexec.hydra';

function mpichInstalled(): boolean {
  return spawnSync(MPIEXEC, ['--version'], { encoding: 'utf8' }).error === undefined;
}

/** Installs Debian's mpich when root and missing; the reason to skip otherwise. */
export function ensureMpich(): string | false {
  if (mpichInstalled()) return false;
  if (process.getuid?.() !== 0) return `${MPIEXEC} is not installed and this is not root (Debian: apt-get install mpich)`;
  const apt = spawnSync('sh', ['-c', 'apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=300 mpich >/dev/null'],
    { encoding: 'utf8', timeout: 600_000 });
  return mpichInstalled() ? false : `${MPIEXEC} could not be installed: ${apt.stderr || apt.error?.message}`;
}
