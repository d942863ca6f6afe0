/**
 * `srun --mpi=none` (or a Slurm without the pmi2 plugin): Slurm gives each
 * task its rank and the task count, and nothing to exchange addresses with,
 * so the tasks meet at a rendezvous (rendezvous.ts) that rank 0 serves on the
 * first node of the step, at a port derived from the job and step ids. Both
 * can be overridden with MPI4TS_RENDEZVOUS=host:port. The job key must come
 * from MPI4TS_KEY (srun passes the caller's environment on), because nothing
 * in Slurm's environment is secret.
 *
 * Only a job step counts (SLURM_STEP_ID, set by srun): a program started
 * directly in a batch script sees SLURM_PROCID and SLURM_NTASKS too, and is a
 * singleton there, as an MPI program would be.
 */
import { JobError, optionsOf, requiredIntVar } from '../base/index.js';
import { parseHostPort, userKey, type RendezvousEnvironment } from './rendezvous.js';

/** Ports derived from job and step ids fall in [BASE, BASE + SPAN). */
const PORT_BASE = 29_000;
const PORT_SPAN = 20_000;

export function underSlurmStep(env: NodeJS.ProcessEnv): boolean {
  return env.SLURM_STEP_ID !== undefined && env.SLURM_PROCID !== undefined && env.SLURM_NTASKS !== undefined;
}

export function slurmEnvironment(env: NodeJS.ProcessEnv): RendezvousEnvironment {
  const size = requiredIntVar(env, 'SLURM_NTASKS', 1);
  const rank = requiredIntVar(env, 'SLURM_PROCID', 0);
  if (rank >= size) throw new JobError(`SLURM_PROCID=${rank} is out of range for SLURM_NTASKS=${size}`);
  const key = userKey(env, 'srun without PMI (srun --mpi=none)');
  const override = env.MPI4TS_RENDEZVOUS;
  const where = override !== undefined && override !== '' ? parseHostPort(override, 'MPI4TS_RENDEZVOUS') : derivedRendezvous(env);
  return { name: 'slurm', rank, size, ...where, key, timeoutMs: optionsOf(env).rendezvousTimeoutMs };
}

function derivedRendezvous(env: NodeJS.ProcessEnv): { host: string; port: number } {
  const nodes = env.SLURM_STEP_NODELIST ?? env.SLURM_JOB_NODELIST ?? '';
  if (nodes === '') throw new JobError('srun without PMI: SLURM_STEP_NODELIST is not set, so the first node is unknown; set MPI4TS_RENDEZVOUS=host:port');
  const job = requiredIntVar(env, 'SLURM_JOB_ID', 0);
  const step = Number.parseInt(env.SLURM_STEP_ID ?? '0', 10) || 0;
  return { host: firstHost(nodes), port: PORT_BASE + ((job * 64 + step) % PORT_SPAN) };
}

/** The first host of a Slurm host list: "n[01-04,7],m" -> "n01". */
export function firstHost(list: string): string {
  const match = /^([^,[]*)(?:\[([^\]]*)\]([^,]*))?/.exec(list.trim());
  const prefix = match?.[1] ?? '';
  if (match?.[2] === undefined) return prefix;
  const first = match[2].split(',')[0]!.split('-')[0]!;
  return `${prefix}${first}${match[3] ?? ''}`;
}
