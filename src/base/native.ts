/**
 * koffi, the optional package through which mpi4ts calls C without a
 * compiler: libc for shared memory and the socket pump (transport/native.ts),
 * libpmix under Open MPI's mpirun (runtime/pmix.ts). It is loaded here and
 * nowhere else, once; where it cannot be, the reason is kept, so each user
 * falls back or fails in its own words.
 */
import { createRequire } from 'node:module';

export type Koffi = typeof import('koffi');

/** `bind` run at the first call; later calls return its result, or the error it threw. */
export function loadOnce<T>(bind: () => T): () => T | Error {
  let cached: T | Error | null = null;
  return () => {
    if (cached === null) {
      try {
        cached = bind();
      } catch (err) {
        cached = err instanceof Error ? err : new Error(String(err));
      }
    }
    return cached;
  };
}

/** The koffi module, or an Error saying why it cannot be had here (not installed, no build for this platform). */
export const loadKoffi = loadOnce((): Koffi => {
  try {
    return createRequire(import.meta.url)('koffi') as Koffi;
  } catch (err) {
    throw new Error(`the optional package koffi cannot be loaded (npm install koffi): ${(err as Error).message}`, { cause: err });
  }
});
