/**
 * Cross-memory attach (Linux CMA): a rendezvous payload written straight
 * from the sender's memory into the receiver's buffer with
 * process_vm_writev, one copy where the shared-memory ring takes two (into
 * the ring, out of it), as Open MPI's vader and MPICH's nemesis do for large
 * messages between ranks of one host (DESIGN.md "Messages").
 *
 * The receiver offers it: its clear-to-send carries the address of the
 * buffer the payload lands in (engine.ts). The sender writes there, then
 * says so in a WRITTEN frame; where the write fails it sends the DATA as
 * before, so a kernel that forbids it (ptrace rules, seccomp in a
 * container) costs one failed system call, after which this process stops
 * trying.
 *
 * A large payload between ranks of a host that has cores to spare is split
 * (engine.ts, READ_FROM): the sender writes the head while the receiver
 * reads the tail from the sender's memory with process_vm_readv, two cores
 * copying at once; one core's copy does not use up this machine's memory
 * bandwidth (8 MB copied in 0.58 ms by one process and by two at once alike).
 *
 * process_vm_writev needs the right to ptrace the receiver
 * (PTRACE_MODE_ATTACH_REALCREDS): the same user and, under Yama's
 * ptrace_scope 1, the receiver's leave (prctl PR_SET_PTRACER), which
 * `allowPeerWrites` gives, as Open MPI does; ptrace_scope 2 and 3 forbid it.
 *
 * # Unfinished features
 * - The receiver's reduce does not read straight out of the sender's buffer
 *   (process_vm_readv) yet: collectives get the single copy only through
 *   their point-to-point messages.
 */
import { readFileSync } from 'node:fs';
import { loadOnce, openLibc } from '../base/index.js';

export interface PeerMemory {
  /** The address of the first byte of `bytes` in this process (a safe integer on 64-bit Linux, below 2^47). */
  addressOf(bytes: Uint8Array): number;
  /** Writes `bytes` into process `pid` at `address`; the bytes written, or minus the errno. */
  write(pid: number, address: number, bytes: Uint8Array): number;
  /** Reads `into.length` bytes at `address` of process `pid` into `into`; the bytes read, or minus the errno. */
  read(pid: number, address: number, into: Uint8Array): number;
}

const PR_SET_PTRACER = 0x59616d61;
/** (unsigned long)-1: any process of this user may attach. */
const PR_SET_PTRACER_ANY = 0xffff_ffff_ffff_ffffn;

/** The binding, or an Error saying why there is none here (not Linux, no koffi). */
export const loadPeerMemory = loadOnce((): PeerMemory => {
  const { koffi, libc } = openLibc('cross-memory attach (process_vm_writev)');
  const writev = libc.func('intptr_t process_vm_writev(int pid, void *local, unsigned long liovcnt, void *remote, unsigned long riovcnt, unsigned long flags)');
  const readv = libc.func('intptr_t process_vm_readv(int pid, void *local, unsigned long liovcnt, void *remote, unsigned long riovcnt, unsigned long flags)');
  // memmove(p, p, 0) gives back p: the cheapest way to learn where a typed array's bytes are.
  const memmove = libc.func('void *memmove(void *dst, const void *src, size_t n)');
  // One iovec each way, {base, length}, reused by every call (the engine copies one payload at a time).
  const local = new BigUint64Array(2);
  const remote = new BigUint64Array(2);
  const addressOf = (bytes: Uint8Array): number => Number(koffi.address(memmove(bytes, bytes, 0)));
  const vectors = (bytes: Uint8Array, address: number): void => {
    local[0] = BigInt(addressOf(bytes));
    local[1] = BigInt(bytes.length);
    remote[0] = BigInt(address);
    remote[1] = BigInt(bytes.length);
  };
  return {
    addressOf,
    write: (pid, address, bytes) => {
      vectors(bytes, address);
      const written = Number(writev(pid, local, 1, remote, 1, 0));
      return written < 0 ? -koffi.errno() : written;
    },
    read: (pid, address, into) => {
      vectors(into, address);
      const read = Number(readv(pid, local, 1, remote, 1, 0));
      return read < 0 ? -koffi.errno() : read;
    },
  };
});

/** Yama's ptrace_scope (0-3), or null where Yama is not there. */
export function ptraceScope(path = '/proc/sys/kernel/yama/ptrace_scope'): number | null {
  try {
    return Number(readFileSync(path, 'utf8').trim());
  } catch {
    return null;
  }
}

/**
 * Lets the other ranks of this host write into this process where Yama would
 * forbid it (ptrace_scope 1: only an ancestor may, and ranks are siblings):
 * prctl(PR_SET_PTRACER, ANY), as Open MPI's vader does. Other processes of
 * the same user could then attach too, which they could to any of this
 * user's processes without Yama. Returns why CMA cannot work, or null.
 */
export function allowPeerWrites(scope = ptraceScope()): string | null {
  if (scope === null || scope === 0) return null;
  if (scope >= 2) return `Yama's ptrace_scope is ${scope}: only root may write into another process`;
  try {
    const { libc } = openLibc('cross-memory attach (prctl)');
    const prctl = libc.func('int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)');
    if ((prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0) as number) !== 0) return 'prctl(PR_SET_PTRACER) failed under Yama\'s ptrace_scope 1';
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
