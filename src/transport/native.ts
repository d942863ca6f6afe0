/**
 * libc through koffi (an optional dependency, loaded by base/native.ts):
 * each binding is made once, and where it cannot be (no koffi, not Linux)
 * the reason is kept and returned instead, so callers fall back and can say
 * why.
 *
 * # Unfinished features
 * - Linux only: shared memory and the socket pump are off on macOS and
 *   Windows, where ranks use sockets read by libuv.
 * - libc is opened by glibc's name, libc.so.6: where there is no such file
 *   (musl without gcompat, e.g. Alpine) the bindings fail the same way.
 */
import { loadKoffi, loadOnce, type Koffi } from '../base/index.js';

/** koffi and the C library, shared by every binding of this layer. */
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
