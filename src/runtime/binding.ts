/**
 * CPU binding under `mpi4ts run --bind-to / --map-by` (mpiexec's options; MPI
 * leaves binding to the launcher): each rank pins itself, on its own host,
 * to the CPUs the launcher's policy gives its place among the ranks of that
 * host. The launcher sends only the policy and the place (MPI4TS_BIND); the
 * rank reads its host's topology from /sys and the CPUs it may use from
 * /proc/self/status, so a remote host needs nothing from the launcher's.
 *
 * Why in the rank, not around it (taskset): no program to find on every
 * host, and the same code locally and over ssh. A Node process has threads
 * before any user code runs (V8's platform workers, libuv's pool), so every
 * thread of /proc/self/task is pinned, not only the calling one; threads
 * started later inherit their starter's mask.
 *
 * Which CPUs a place gets (Open MPI's mapping rules) is wire/binding.ts's
 * bindingFor, which the launcher also checks its own host with.
 *
 * # Unfinished features
 * - No cache levels (l1cache...l3cache), boards, or explicit CPU lists
 *   (Open MPI's --cpu-set, Hydra's -bind-to user:0,1); no binding width
 *   (Hydra's core:2).
 * - No memory binding (numactl --membind): pages come from wherever the
 *   kernel's first touch puts them.
 */
import { readdirSync } from 'node:fs';
import { JobError, openLibc } from '../base/index.js';
import { bindingFor, bindingPicture, formatCpuList, readTopology, type Binding, type BindRequest } from '../wire/index.js';

/** sched_setaffinity of every thread to one mask; false for a thread that is gone. */
type SetAffinity = (tid: number) => boolean;

/** A cpu_set_t of `cpus`: a bit mask in unsigned longs, so its bytes round up to 8. */
function cpuSet(cpus: readonly number[]): Uint8Array {
  const mask = new Uint8Array(Math.ceil((Math.max(...cpus) + 1) / 64) * 8);
  for (const cpu of cpus) mask[cpu >> 3]! |= 1 << (cpu & 7);
  return mask;
}

function libcSetAffinity(feature: string, cpus: readonly number[]): SetAffinity {
  let libc;
  try {
    libc = openLibc(feature);
  } catch (err) {
    throw new JobError(`${feature} cannot pin ranks here: ${(err as Error).message}`, { cause: err });
  }
  const set = libc.libc.func('int sched_setaffinity(int pid, size_t cpusetsize, const uint8_t *mask)') as
    (pid: number, size: number, mask: Uint8Array) => number;
  const mask = cpuSet(cpus);
  return (tid) => set(tid, mask.length, mask) === 0;
}

/**
 * Applies the launcher's binding to every thread of this process and, with
 * --report-bindings, says so on stderr. `who` names the rank in messages.
 */
export function bindThisProcess(request: BindRequest, who: { rank: number; host: string }): Binding | null {
  const cpus = readTopology();
  const binding = bindingFor(request, cpus);
  const feature = `--bind-to ${request.bindTo}`;
  if (binding !== null) {
    const set = libcSetAffinity(feature, binding.cpus);
    for (const tid of readdirSync('/proc/self/task').map(Number)) {
      // A thread may end between the listing and the call; only this one's failure is an error.
      if (!set(tid) && tid === process.pid) {
        throw new JobError(`${feature}: sched_setaffinity to CPUs ${formatCpuList(binding.cpus)} failed for rank ${who.rank}`);
      }
    }
  }
  if (request.report) {
    const text = binding === null
      ? `rank ${who.rank} is not bound (--bind-to none)`
      : `rank ${who.rank} bound to ${binding.what}: CPUs ${formatCpuList(binding.cpus)} ${bindingPicture(cpus, binding.cpus)}`;
    process.stderr.write(`[${who.host}:${process.pid}] ${text}\n`);
  }
  return binding;
}
