// Prints one JSON line per rank: where it runs (working directory, MPMD
// block), the variables argv names, and the CPUs each of its threads may use
// (/proc/self/task/*/status), for test/launcher/mpiexec-flags.test.ts.
// "--sleep S" waits S seconds first (for time-outs).
import * as MPI from 'mpi4ts';
import { readdirSync, readFileSync } from 'node:fs';

const args = process.argv.slice(2).filter((a) => !a.startsWith('mpi4ts-test-'));
const sleep = args.indexOf('--sleep');
if (sleep >= 0) {
  await new Promise((resolve) => setTimeout(resolve, Number(args[sleep + 1]) * 1000));
  args.splice(sleep, 2);
}
const allowed = (status: string): string => /^Cpus_allowed_list:\s*(.*)$/m.exec(status)?.[1] ?? '?';
const threads = readdirSync('/proc/self/task').map((tid) => allowed(readFileSync(`/proc/self/task/${tid}/status`, 'utf8')));
const env = Object.fromEntries(args.map((name) => [name, process.env[name] ?? null]));
const comm = MPI.COMM_WORLD;
console.log(JSON.stringify({
  rank: comm.rank, appnum: MPI.APPNUM, cwd: process.cwd(), env,
  cpus: allowed(readFileSync('/proc/self/status', 'utf8')), threadCpus: [...new Set(threads)],
}));
console.error(`stderr of rank ${comm.rank}`);
await comm.barrier();
