/** What one check found on one host: the row of the table and of `--json`. */

/** The checks, in the order the report lists them. */
export const CHECK_IDS = ['hostname', 'resolve', 'ssh', 'ssh-key', 'node', 'mpi4ts', 'program', 'ports', 'clock', 'power', 'mpi'] as const;
export type CheckId = (typeof CHECK_IDS)[number];

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface Check {
  /** The host as written in the machinefile, or `localhost`. */
  host: string;
  check: CheckId;
  status: CheckStatus;
  /** What was seen. */
  detail: string;
  /** Why it breaks a job and the exact fix; empty when the status is ok. */
  fix: string;
}

export function ok(host: string, check: CheckId, detail: string): Check {
  return { host, check, status: 'ok', detail, fix: '' };
}

export function warn(host: string, check: CheckId, detail: string, fix: string): Check {
  return { host, check, status: 'warn', detail, fix };
}

export function fail(host: string, check: CheckId, detail: string, fix: string): Check {
  return { host, check, status: 'fail', detail, fix };
}

/** A check that could not run because `cause` (e.g. "ssh to pi2") failed first. */
export function skipped(host: string, check: CheckId, cause: string): Check {
  return fail(host, check, `skipped: ${cause} failed`, `fix the ${cause.split(' ')[0]} check of ${host} first`);
}
