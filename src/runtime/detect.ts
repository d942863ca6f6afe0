/**
 * Chooses the bootstrap from the environment the process was started in
 * (README "Running under mpiexec, srun and mpirun"). Explicit and safe: each
 * launcher is recognised by the variables it always sets; a set that is
 * half there is an error naming what is missing, except PMI_RANK/PMI_SIZE
 * without PMI_FD, which MPICH itself ignores (a leftover in a user's shell),
 * so they are ignored here too, with a debug note (NODE_DEBUG=mpi4ts).
 */
import { JobError, optionsOf, debug } from '../base/index.js';
import type { Bootstrap } from './bootstrap.js';
import { LauncherBootstrap, launcherEnvironment } from './launcher-bootstrap.js';
import { SingletonBootstrap } from './singleton.js';
import { PmixBootstrap, underPmix } from './pmix.js';
import { openPmi1 } from './pmi1.js';
import { openPmi2 } from './pmi2.js';
import { RendezvousBootstrap, rendezvousEnvironment } from './rendezvous.js';
import { slurmEnvironment, underSlurmStep } from './slurm.js';

export type BootstrapKind = 'mpi4ts' | 'pmix' | 'pmi1' | 'pmi2' | 'rendezvous' | 'slurm' | 'singleton';

/** Which bootstrap this environment calls for; throws when a launcher's variables are half there. */
export function chooseBootstrap(env: NodeJS.ProcessEnv): BootstrapKind {
  if (set(env, 'MPI4TS_CONTROL')) return 'mpi4ts';
  if (underPmix(env)) return 'pmix';
  if (set(env, 'PMI_FD')) return chooseWirePmi(env);
  if (set(env, 'PMI_PORT')) {
    throw new JobError(`PMI_PORT="${env.PMI_PORT}" is set without PMI_FD: mpi4ts speaks PMI over the socket Hydra passes in PMI_FD; ` +
      'start the job without -pmi-port (plain mpiexec.hydra -n N ...)');
  }
  if (set(env, 'PMI_RANK') || set(env, 'PMI_SIZE')) {
    debug('ignoring PMI_RANK/PMI_SIZE: without PMI_FD no PMI launcher started this process (a leftover in the environment?)');
  }
  if (set(env, 'MPI4TS_RENDEZVOUS') && !underSlurmStep(env)) return 'rendezvous';
  if (underSlurmStep(env) && Number(env.SLURM_NTASKS) > 1) return 'slurm';
  if (set(env, 'MPI4TS_RANK') || set(env, 'MPI4TS_SIZE')) {
    throw new JobError('MPI4TS_RANK/MPI4TS_SIZE are set but MPI4TS_RENDEZVOUS is not: set MPI4TS_RENDEZVOUS=host:port ' +
      '(where rank 0 listens) and MPI4TS_KEY, or unset MPI4TS_RANK and MPI4TS_SIZE to run as a single process');
  }
  return 'singleton';
}

/** PMI_FD is there: PMI-2 under Slurm, PMI-1 (Hydra) otherwise; PMI-1 needs PMI_RANK and PMI_SIZE too. */
function chooseWirePmi(env: NodeJS.ProcessEnv): BootstrapKind {
  const forced = optionsOf(env).pmi;
  if (forced !== null) return forced === 1 ? 'pmi1' : 'pmi2';
  if (underSlurmStep(env) || set(env, 'PMI_JOBID')) return 'pmi2';
  const missing = ['PMI_RANK', 'PMI_SIZE'].filter((name) => !set(env, name));
  if (missing.length > 0) {
    throw new JobError(`PMI_FD="${env.PMI_FD}" is set (a PMI-1 launcher such as mpiexec.hydra) but ${missing.join(' and ')} ` +
      `${missing.length > 1 ? 'are' : 'is'} not: a PMI-1 launcher sets PMI_FD, PMI_RANK and PMI_SIZE together; ` +
      'unset PMI_FD if no launcher started this process');
  }
  return 'pmi1';
}

export async function detectBootstrap(env: NodeJS.ProcessEnv = process.env): Promise<Bootstrap> {
  const kind = chooseBootstrap(env);
  debug('bootstrap: %s', kind);
  switch (kind) {
    case 'mpi4ts': {
      return LauncherBootstrap.open(launcherEnvironment(env)!);
    }
    case 'pmix':
      return PmixBootstrap.open(env);
    case 'pmi1':
      return openPmi1(env);
    case 'pmi2':
      return openPmi2(env);
    case 'rendezvous':
      return RendezvousBootstrap.open(rendezvousEnvironment(env)!);
    case 'slurm':
      return RendezvousBootstrap.open(slurmEnvironment(env));
    case 'singleton':
      return new SingletonBootstrap();
  }
}

function set(env: NodeJS.ProcessEnv, name: string): boolean {
  const value = env[name];
  return value !== undefined && value !== '';
}
