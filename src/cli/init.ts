/**
 * `mpi4ts init [dir]`: a starter project that runs as it is written. Its
 * package.json says `"type": "module"` because mpi4ts is an ES module (npm
 * 11's `npm init -y` writes `"type": "commonjs"`, where an mpi4ts `.ts`
 * program cannot run: launcher/module-kind.ts); tsconfig.json is Node's
 * ESM resolution (nodenext), strict; hello.ts checks its own result.
 *
 * Nothing is overwritten: an existing tsconfig.json or hello.ts stops init
 * before it writes anything; an existing package.json is left as it is, and
 * init says what to add to it.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { UsageError, VERSION } from '../base/index.js';
import { shellQuote } from '../launcher/index.js';

const HELP = `Usage: mpi4ts init [dir]

Writes a starter project into dir (default: the current directory):
  package.json   "type": "module", a dependency on mpi4ts ${VERSION}, npm start
  tsconfig.json  Node ES modules (nodenext), strict
  hello.ts       a hello world that checks its own result
Existing files are not overwritten; an existing package.json is left as it is.
`;

const HELLO = `// Hello world that checks itself: every rank says who it is, then all ranks
// gather each other's rank and check that every one answered.
// Run it with: npm start (that is, npx mpi4ts run -n 4 hello.ts)
import * as MPI from 'mpi4ts';

const comm = MPI.COMM_WORLD;
console.log(\`Hello, World! I am process \${comm.rank} of \${comm.size} on \${MPI.getProcessorName()}.\`);

const ranks = await comm.allgather(comm.rank);
const expected = Array.from({ length: comm.size }, (_, i) => i);
if (ranks.join() !== expected.join()) throw new Error(\`allgather gave [\${ranks.join()}], expected [\${expected.join()}]\`);
if (comm.rank === 0) console.log(\`All \${comm.size} ranks answered.\`);
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    strict: true,
    noEmit: true,
    skipLibCheck: true,
  },
};

/** An npm package name from a directory name: lower case, URL-safe, not starting with . or _. */
export function packageNameOf(dir: string): string {
  const name = basename(dir).toLowerCase().replace(/[^a-z0-9._~-]+/g, '-').replace(/^[._-]+/, '').slice(0, 214);
  return name === '' ? 'mpi-app' : name;
}

function packageJsonFor(dir: string): string {
  return `${JSON.stringify({
    name: packageNameOf(dir),
    version: '0.1.0',
    private: true,
    type: 'module',
    scripts: { start: 'mpi4ts run -n 4 hello.ts' },
    dependencies: { mpi4ts: `^${VERSION}` },
  }, null, 2)}\n`;
}

/** What an existing package.json lacks for the starter, as advice (empty when it lacks nothing). */
function adviceFor(path: string): string[] {
  let pkg: { type?: unknown; dependencies?: Record<string, unknown> };
  try {
    pkg = JSON.parse(readFileSync(path, 'utf8')) as typeof pkg;
  } catch (err) {
    throw new UsageError(`init: ${path} exists but is not valid JSON (${(err as Error).message}); fix or remove it`);
  }
  const advice: string[] = [];
  if (pkg.type !== 'module') advice.push(`add "type": "module" (mpi4ts is an ES module; with "type": ${JSON.stringify(pkg.type ?? 'commonjs')} hello.ts cannot run)`);
  if (pkg.dependencies?.mpi4ts === undefined) advice.push(`add mpi4ts to "dependencies" (npm install mpi4ts@^${VERSION})`);
  return advice;
}

export function initCommand(argv: string[], cwd = process.cwd()): number {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(HELP);
    return 0;
  }
  const option = argv.find((a) => a.startsWith('-'));
  if (option !== undefined) throw new UsageError(`init: unknown option "${option}" (see mpi4ts init --help)`);
  if (argv.length > 1) throw new UsageError(`init takes one directory, got ${argv.length}: ${argv.join(' ')}`);
  const dir = resolve(cwd, argv[0] ?? '.');
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`init: ${dir} exists and is not a directory`);

  const starters: [string, string][] = [['tsconfig.json', `${JSON.stringify(TSCONFIG, null, 2)}\n`], ['hello.ts', HELLO]];
  const taken = starters.map(([name]) => join(dir, name)).filter((path) => existsSync(path));
  if (taken.length > 0) {
    throw new UsageError(`init: ${taken.join(' and ')} already exist${taken.length === 1 ? 's' : ''}; ` +
      'init does not overwrite files (move them away, or init another directory)');
  }
  const packageJson = join(dir, 'package.json');
  const advice = existsSync(packageJson) ? adviceFor(packageJson) : null;

  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  if (advice === null) {
    writeFileSync(packageJson, packageJsonFor(dir), { flag: 'wx' });
    written.push('package.json');
  }
  for (const [name, text] of starters) {
    writeFileSync(join(dir, name), text, { flag: 'wx' });
    written.push(name);
  }
  const shown = relative(cwd, dir) === '' ? '.' : relative(cwd, dir);
  const lines = [`mpi4ts init: wrote ${written.join(', ')} in ${shown}`];
  const cd = shown === '.' ? '' : `cd ${shellQuote(shown)} && `;
  if (advice === null) {
    lines.push(`next: ${cd}npm install && npm start`);
  } else {
    if (advice.length > 0) lines.push(`${packageJson} exists and is left as it is; in it:`, ...advice.map((a) => `  ${a}`));
    lines.push(`${advice.length > 0 ? 'then' : 'next'}: ${cd}npx mpi4ts run -n 4 hello.ts`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
