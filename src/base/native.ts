/**
 * koffi, the optional package through which mpi4ts calls C without a
 * compiler: libc for shared memory and the socket pump (transport/) and for
 * CPU binding (runtime/binding.ts), libpmix under Open MPI's mpirun
 * (runtime/pmix.ts). koffi and libc are loaded here and nowhere else, once;
 * where they cannot be, the reason is kept, so each user falls back or fails
 * in its own words.
 *
 * # Unfinished features
 * - libc is opened by glibc's name, libc.so.6: where there is no such file
 *   (musl without gcompat, e.g. Alpine) the bindings fail the same way.
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

/** koffi and the C library, shared by every binding made of it. */
export interface Libc {
  koffi: Koffi;
  libc: ReturnType<Koffi['load']>;
  /** sched_yield: lets another runnable process (the peer, on a loaded host) have this core. */
  yieldCpu(): void;
}

const loadLibc = loadOnce((): Libc => {
  const koffi = loadKoffi();
  if (koffi instanceof Error) throw koffi;
  const libc = koffi.load('libc.so.6');
  const schedYield = libc.func('int sched_yield()');
  return {
    koffi, libc,
    yieldCpu: () => {
      schedYield();
    },
  };
});

/** The C library for `feature` (named in the errors), or a throw saying why it cannot be had here. */
export function openLibc(feature: string): Libc {
  if (process.platform !== 'linux') throw new Error(`${feature} needs Linux; this is ${process.platform}`);
  const loaded = loadLibc();
  if (loaded instanceof Error) throw loaded;
  return loaded;
}
