/**
 * Node's compile cache for the ranks (NODE_COMPILE_CACHE, Node 22.1+; older
 * Node ignores it). Every rank of a job compiles the same modules, mpi4ts's
 * own 80 and the program's; with the cache on disk, V8 reads their code
 * instead of compiling it, from the second job on (a 4-rank hello world on
 * Node 24, timed with the shell's `time`: 1.3-1.5 s of CPU with the cache,
 * 1.7-1.85 s without, on the 2-core VM). The folder is per user, under
 * the temporary folder: Node skips the cache, silently, where it cannot
 * write, and checks each entry against the source and its own version.
 */
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Options } from '../base/index.js';

/** The variables that give ranks the cache: none when the user set one (it is inherited) or turned it off. */
export function compileCacheEnv(options: Pick<Options, 'compileCache' | 'nodeCompileCache'>): Record<string, string> {
  if (!options.compileCache || options.nodeCompileCache !== null) return {};
  return { NODE_COMPILE_CACHE: join(tmpdir(), `mpi4ts-compile-cache-${userId()}`) };
}

function userId(): string {
  try {
    return String(userInfo().uid);
  } catch {
    return 'user';
  }
}
