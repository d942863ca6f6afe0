// The python3 that has mpi4py, for the comparison rows (bench/compare.ts,
// bench/startup.ts).
import { execFileSync } from 'node:child_process';

export function findPython(): { python: string | null; why: string } {
  for (const python of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(python, ['-c', 'import mpi4py'], { stdio: 'ignore' });
      return { python, why: '' };
    } catch {
      // Try the next: a pyenv python3 may shadow Debian's, which has python3-mpi4py.
    }
  }
  return { python: null, why: 'python3-mpi4py is not installed (apt-get install python3-mpi4py)' };
}
