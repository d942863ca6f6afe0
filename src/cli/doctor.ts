/** `mpi4ts doctor`: check the hosts of a job before running it (README "Checking a cluster"). */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { options as processOptions, UsageError, VERSION } from '../base/index.js';
import { isLocalHost } from '../launcher/index.js';
import { formatHuman, formatJson, runDoctor, SystemRunner } from '../doctor/index.js';
import { HOST_OPTIONS, helpText, hostEntries, parseOptions, portRangeOf, sshCommandOf, sshTimeoutOf, textOption, type OptionSpec } from './args.js';
import { controlAddress } from '../launcher/index.js';

export const DOCTOR_OPTIONS: OptionSpec[] = [
  ...HOST_OPTIONS,
  { names: ['--json'], key: 'json', value: 'none', help: 'print one JSON document {"ok", "checks": [...]} instead of the table' },
  { names: ['-h', '--help'], key: 'help', value: 'none', help: 'show this help' },
];

const USAGE = 'Usage: mpi4ts doctor [--machinefile FILE | --host LIST] [options] [program.ts]\n\n' +
  'Checks every host (this one alone without a host list): exit 0 when no check failed, 1 when one did, 2 for a usage error.';

/** package.json of this mpi4ts: the one ranks load, at the same path on every host. */
const PACKAGE_JSON = fileURLToPath(new URL('../../package.json', import.meta.url));

export async function doctorCommand(argv: string[]): Promise<number> {
  const { options, rest } = parseOptions(argv, DOCTOR_OPTIONS, 'doctor');
  if (options.has('help')) {
    process.stdout.write(helpText(USAGE, DOCTOR_OPTIONS));
    return 0;
  }
  if (rest.length > 1) throw new UsageError(`doctor takes at most one program, got ${rest.length} arguments: ${rest.join(' ')}`);
  const program = rest[0] === undefined ? null : resolve(process.cwd(), rest[0]);
  const hosts = (hostEntries(options) ?? []).map((h) => h.name);
  const portRange = portRangeOf(options);
  // A bad --iface or --net is a usage error here as in run (the address itself is the launcher's business).
  controlAddress({ iface: textOption(options, 'iface'), net: textOption(options, 'net') }, true);
  const ssh = sshCommandOf(options);
  const sshTimeoutSeconds = sshTimeoutOf(options);
  const own = processOptions();
  const report = await runDoctor({
    hosts,
    isLocal: isLocalHost,
    runner: new SystemRunner({ ssh, connectTimeoutSeconds: sshTimeoutSeconds }),
    remoteNode: textOption(options, 'node') ?? process.execPath,
    localNode: process.execPath,
    launcherNodeVersion: process.version,
    version: VERSION,
    mpi4tsPackage: PACKAGE_JSON,
    tsx: tsxLoader(),
    program,
    portRange,
    sshTimeoutSeconds,
    ssh,
    throttledFile: own.doctorThrottledFile,
    vcgencmd: own.doctorVcgencmd,
    statMode: (path) => {
      try {
        return statSync(path).mode & 0o777;
      } catch {
        return null;
      }
    },
    now: Date.now,
  });
  process.stdout.write(options.has('json') ? formatJson(report) : formatHuman(report, process.stdout.isTTY === true));
  return report.ok ? 0 : 1;
}

/** The file of the tsx loader a .ts program starts with (launcher/script.ts), or null when it is not installed. */
function tsxLoader(): string | null {
  try {
    return fileURLToPath(import.meta.resolve('tsx'));
  } catch {
    return null;
  }
}
