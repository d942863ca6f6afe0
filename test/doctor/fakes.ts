/** What the doctor's unit tests share: the options of a run on made-up hosts, with a runner of the test's. */
import type { DoctorOptions, Runner } from '../../src/doctor/index.js';

/** Options of a doctor run over `hosts` with `runner`; `over` replaces any of them. */
export function doctorOptions(hosts: string[], runner: Runner, over: Partial<DoctorOptions> = {}): DoctorOptions {
  return {
    hosts, isLocal: (h) => h === 'localhost', runner, remoteNode: '/usr/bin/node', localNode: '/usr/bin/node',
    launcherNodeVersion: 'v20.5.0', version: '0.1.0', mpi4tsPackage: '/opt/mpi4ts/package.json', tsx: null, program: null,
    portRange: [40000, 40100], sshTimeoutSeconds: 10, ssh: ['ssh'], throttledFile: null, vcgencmd: null,
    statMode: (p) => (p.endsWith('.ssh') ? 0o700 : 0o600), now: () => 1000, home: '/home/me', ...over,
  };
}
