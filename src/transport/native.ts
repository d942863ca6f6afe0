/**
 * Native calls through koffi (an optional dependency): each binding is made
 * once, and where it cannot be (no koffi, not Linux) the reason is kept and
 * returned instead, so callers fall back and can say why.
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

/** koffi and the C library, shared by every binding of this layer. */
export interface Libc {
  koffi: Koffi;
  libc: ReturnType<Koffi['load']>;
  /** sched_yield: lets another runnable process (the peer, on a loaded host) have this core. */
  yieldCpu(): void;
}

const loadLibc = loadOnce((): Libc => {
  let koffi: Koffi;
  try {
    koffi = createRequire(import.meta.url)('koffi') as Koffi;
  } catch (err) {
    throw new Error(`the optional package koffi is not installed (npm install koffi): ${(err as Error).message}`, { cause: err });
  }
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
