/** `mpi4ts run`: start a job (DESIGN.md "Start-up"). */
import { UsageError } from '../base/index.js';
import { controlAddress, isLocalHost, Job, LocalStarter, placeRanks, scriptCommand, SshStarter,
  type HostEntry, type MapBy, type Placement, type Starter } from '../launcher/index.js';
import { HOST_OPTIONS, helpText, hostEntries, intArg, parseOptions, portRangeOf, secondsArg, sshCommandOf, sshTimeoutOf,
  textOption as text, type OptionSpec, type ParsedOptions } from './args.js';
// multihost: host lists, placement, ssh start, network choice

export const RUN_OPTIONS: OptionSpec[] = [
  { names: ['-n', '-np', '--np', '-c'], key: 'np', value: 'one', meta: 'N', help: 'number of ranks to start' },
  { names: ['--tag-output', '-l', '--prepend-rank'], key: 'tagOutput', value: 'none', help: 'prefix every output line with [rank]' },
  { names: ['--timeout'], key: 'timeout', value: 'one', meta: 'S', help: 'stop the job after S seconds (exit code 124)' },
  { names: ['-x'], key: 'forward', value: 'many', meta: 'VAR[=VAL]', help: 'pass environment variable VAR to every rank (repeatable)' },
  { names: ['--env', '-genv'], key: 'env', value: 'many', meta: 'VAR=VAL', help: 'set VAR=VAL in every rank (repeatable)' },
  // multihost options (the host, ssh and network ones are shared with `mpi4ts doctor`)
  ...HOST_OPTIONS,
  { names: ['--map-by'], key: 'mapBy', value: 'one', meta: 'slot|node', help: 'fill each host\'s slots in turn (slot, default) or go round robin over hosts (node)' },
  { names: ['--ppn', '-ppn', '--npernode'], key: 'ppn', value: 'one', meta: 'N', help: 'N ranks per host, whatever the slots say' },
  { names: ['--oversubscribe'], key: 'oversubscribe', value: 'none', help: 'allow more ranks than slots (never more than max_slots)' },
  { names: ['-h', '--help'], key: 'help', value: 'none', help: 'show this help' },
];

const USAGE = 'Usage: mpi4ts run -n N [options] script.{ts,js,mjs} [args...]';

export async function runCommand(argv: string[]): Promise<number> {
  const { options, rest } = parseOptions(argv, RUN_OPTIONS, 'run');
  if (options.has('help')) {
    process.stdout.write(helpText(USAGE, RUN_OPTIONS));
    return 0;
  }
  const [script, ...scriptArgs] = rest;
  if (script === undefined) throw new UsageError(`no script to run\n${USAGE}`);
  const npText = options.get('np') as string | undefined;
  const np = npText === undefined ? null : intArg(npText, '-n', 1, 100_000);
  const cwd = process.cwd();
  const placements = planPlacements(options, np);
  const everyRankLocal = placements.every((p) => isLocalHost(p.host));
  const address = controlAddress({ iface: text(options, 'iface'), net: text(options, 'net') }, everyRankLocal);
  const portRange = portRangeOf(options);
  const portRangeText = portRange === null ? null : `${portRange[0]}-${portRange[1]}`;
  const env = environmentArgs(options.get('forward') as string[] | undefined, options.get('env') as string[] | undefined);
  if (portRangeText !== null) env.MPI4TS_PORT_RANGE = portRangeText;
  const command = scriptCommand(script, scriptArgs, cwd);
  const ssh = everyRankLocal ? null : sshStarter(options);
  const remoteCommand = [text(options, 'node') ?? command[0]!, ...command.slice(1)];
  const job = new Job({
    placements,
    command,
    cwd,
    env,
    tagOutput: options.has('tagOutput'),
    timeoutSeconds: options.has('timeout') ? secondsArg(options.get('timeout') as string, '--timeout') : null,
    starterFor: (host) => (isLocalHost(host) || ssh === null ? localStarter : ssh),
    commandFor: (host) => (isLocalHost(host) ? command : remoteCommand),
    controlBind: address,
    controlAdvertise: address,
    controlPortRange: portRange,
  });
  return job.run();
}

/** Ranks on hosts from --hostfile / --host (placed as placement.ts says), else all on this host. */
function planPlacements(options: ParsedOptions, np: number | null): Placement[] {
  const mapBy = text(options, 'mapBy') ?? 'slot';
  if (mapBy !== 'slot' && mapBy !== 'node') throw new UsageError(`--map-by must be "slot" or "node", got "${mapBy}"`);
  const ppnText = text(options, 'ppn');
  const ppn = ppnText === null ? null : intArg(ppnText, '--ppn', 1, 100_000);
  let hosts: HostEntry[] | null = hostEntries(options);
  if (hosts === null && ppn === null) return localPlacements(np ?? 1);
  hosts ??= [{ name: 'localhost', slots: 1, maxSlots: null }];
  const order = placeRanks({ hosts, np, mapBy: mapBy as MapBy, ppn, oversubscribe: options.has('oversubscribe') });
  if (order.length > 100_000) throw new UsageError(`the host list gives ${order.length} ranks; at most 100000 are allowed`);
  return order.map((host, rank) => ({ rank, host }));
}

function sshStarter(options: ParsedOptions): Starter {
  return new SshStarter({ ssh: sshCommandOf(options), connectTimeoutSeconds: sshTimeoutOf(options) });
}

const localStarter = new LocalStarter();

function localPlacements(np: number): Placement[] {
  return Array.from({ length: np }, (_, rank) => ({ rank, host: 'localhost' }));
}

/** -x VAR forwards this shell's VAR; -x VAR=VAL and --env VAR=VAL set it. */
export function environmentArgs(forward: string[] = [], set: string[] = []): Record<string, string> {
  const env: Record<string, string> = {};
  for (const item of forward) {
    const eq = item.indexOf('=');
    const name = eq < 0 ? item : item.slice(0, eq);
    checkVarName(name, '-x');
    if (eq >= 0) env[name] = item.slice(eq + 1);
    else if (process.env[name] !== undefined) env[name] = process.env[name]!;
  }
  for (const item of set) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--env needs VAR=VAL, got "${item}"`);
    const name = item.slice(0, eq);
    checkVarName(name, '--env');
    env[name] = item.slice(eq + 1);
  }
  return env;
}

function checkVarName(name: string, option: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new UsageError(`${option}: "${name}" is not a valid environment variable name`);
}
