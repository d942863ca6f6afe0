/** How to run a user's script with this machine's Node: .ts through tsx, .js/.mjs/.cjs as they are. */
import { existsSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { UsageError } from '../base/index.js';

const RUNNABLE = ['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs'];

/** The tsx loader that lets Node run TypeScript without a build step. */
function tsxLoader(): string {
  return import.meta.resolve('tsx');
}

/** The command line that runs `script` (resolved against `cwd`) with `args`. */
export function scriptCommand(script: string, args: string[], cwd: string, node = process.execPath): string[] {
  const path = resolve(cwd, script);
  if (!existsSync(path)) throw new UsageError(`script "${script}" not found (looked for ${path})`);
  if (!statSync(path).isFile()) throw new UsageError(`script "${script}" is not a file`);
  const ext = extname(path);
  if (!RUNNABLE.includes(ext)) {
    throw new UsageError(`script "${script}" has extension "${ext}"; mpi4ts runs ${RUNNABLE.join(', ')} files`);
  }
  const loader = ext.startsWith('.t') || ext.startsWith('.mt') || ext.startsWith('.ct') ? ['--import', tsxLoader()] : [];
  return [node, ...loader, path, ...args];
}
