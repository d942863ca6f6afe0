/**
 * How to run a user's script with this machine's Node: .js/.mjs/.cjs as they
 * are, .ts on Node alone where it can strip the types (typescript.ts), else
 * through tsx.
 */
import { existsSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { debug, UsageError } from '../base/index.js';
import { checkModuleKind } from './module-kind.js';
import { chooseTypeScript, type StripSupport } from './typescript.js';

const RUNNABLE = ['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs'];

/** The tsx loader that lets Node run TypeScript without a build step. */
function tsxLoader(): string {
  return import.meta.resolve('tsx');
}

/** .ts, .mts, .cts, .tsx: what Node runs only through tsx or its own stripping. */
function isTypeScript(path: string): boolean {
  return /\.[mc]?tsx?$/.test(path);
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
  checkModuleKind(script, path);
  const loader = isTypeScript(path) ? ['--import', tsxLoader()] : [];
  return [node, ...loader, path, ...args];
}

/** A rank's command, and what to run instead on a host whose Node cannot strip types. */
export interface ProgramCommand {
  command: string[];
  /** The tsx form, when `command` runs a .ts program on Node alone; null otherwise. */
  fallback: string[] | null;
}

/**
 * The command of every rank that runs `script`, decided once for the job:
 * Node alone for a .ts program that allows it (`mode`, MPI4TS_TYPESCRIPT),
 * else the tsx form of scriptCommand.
 */
export function programCommand(script: string, args: string[], cwd: string, mode: 'auto' | 'node' | 'tsx',
  node = process.execPath, support?: StripSupport): ProgramCommand {
  const viaTsx = scriptCommand(script, args, cwd, node);
  const path = resolve(cwd, script);
  if (!isTypeScript(path)) return { command: viaTsx, fallback: null };
  const choice = chooseTypeScript(path, mode, support);
  debug('%s runs %s: %s', script, choice.native ? 'on Node alone' : 'through tsx', choice.why);
  return choice.native ? { command: [node, path, ...args], fallback: viaTsx } : { command: viaTsx, fallback: null };
}
