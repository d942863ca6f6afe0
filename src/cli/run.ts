/** `mpi4ts run`: start a job (DESIGN.md "Start-up"). */
import { options as processOptions, parsePortRange, UsageError } from '../base/index.js';
import { controlAddress, isLocalHost, Job, LocalStarter, parseHostList, placeRanks, readHostfile, scriptCommand, splitCommand, SshStarter,
  type HostEntry, type MapBy, type Placement, type Starter } from '../launcher/index.js';
import { helpText, intArg, parseOptions, secondsArg, type OptionSpec } from './args.js';
// multihost: host lists, placement, ssh start, network choice

export const RUN_OPTIONS: OptionSpec[] = [
  { names: ['-n', '-np', '--np', '-c'], key: 'np', value: 'one', meta: 'N', help: 'number of ranks to start' },
  { names: ['--tag-output', '-l', '--prepend-rank'], key: 'tagOutput', value: 'none', help: 'prefix every output line with [rank]' },
  { names: ['--timeout'], key: 'timeout', value: 'one', meta: 'S', help: 'stop the job after S seconds (exit code 124)' },
  { names: ['-x'], key: 'forward', value: 'many', meta: 'VAR[=VAL]', help: 'pass environment variable VAR to every rank (repeatable)' },
  { names: ['--env', '-genv'], key: 'env', value: 'many', meta: 'VAR=VAL', help: 'set VAR=VAL in every rank (repeatable)' },
  // multihost options
  { names: ['--hostfile', '--machinefile', '-f', '-machinefile', '-hostfile'], key: 'hostfile', value: 'one', meta: 'FILE', help: 'hosts to run on: lines of "host", "host:slots" or "host slots=N [max_slots=M]"' },
  { names: ['--host', '--hosts', '-H', '-host', '-hosts'], key: 'hosts', value: 'one', meta: 'LIST', help: 'hosts to run on, e.g. node1:2,node2:2 (default slots 1)' },
  { names: ['--map-by'], key: 'mapBy', value: 'one', meta: 'slot|node', help: 'fill each host\'s slots in turn (slot, default) or go round robin over hosts (node)' },
  { names: ['--ppn', '-ppn', '--npernode'], key: 'ppn', value: 'one', meta: 'N', help: 'N ranks per host, whatever the slots say' },
  { names: ['--oversubscribe'], key: 'oversubscribe', value: 'none', help: 'allow more ranks than slots (never more than max_slots)' },
  { names: ['--ssh', '-launcher-exec'], key: 'ssh', value: 'one', meta: 'CMD', help: 'ssh command for remote hosts, e.g. "ssh -F cfg" (default $MPI4TS_SSH or ssh)' },
  { names: ['--ssh-timeout'], key: 'sshTimeout', value: 'one', meta: 'S', help: 'seconds ssh may take to connect to a host (default 10)' },
  { names: ['--node'], key: 'node', value: 'one', meta: 'PATH', help: 'Node executable on remote hosts (default: this one\'s path)' },
  { names: ['--iface', '-iface'], key: 'iface', value: 'one', meta: 'NAME', help: 'network interface the job talks over (its address is dialled by every rank)' },
  { names: ['--net'], key: 'net', value: 'one', meta: 'CIDR', help: 'talk over the network holding this host\'s address in CIDR, e.g. 10.1.0.0/16' },
  { names: ['--port-range'], key: 'portRange', value: 'one', meta: 'LO-HI', help: 'TCP ports the launcher and ranks listen on (for firewalls)' },
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
  const portRangeText = text(options, 'portRange');
  const portRange = portRangeText === null ? null : usage(() => parsePortRange(portRangeText, '--port-range'));
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
function planPlacements(options: Map<string, string | string[] | true>, np: number | null): Placement[] {
  const hostfile = text(options, 'hostfile');
  const hostList = text(options, 'hosts');
  if (hostfile !== null && hostList !== null) throw new UsageError('give either --hostfile or --host, not both');
  const mapBy = text(options, 'mapBy') ?? 'slot';
  if (mapBy !== 'slot' && mapBy !== 'node') throw new UsageError(`--map-by must be "slot" or "node", got "${mapBy}"`);
  const ppnText = text(options, 'ppn');
  const ppn = ppnText === null ? null : intArg(ppnText, '--ppn', 1, 100_000);
  let hosts: HostEntry[];
  if (hostfile !== null) hosts = readHostfile(hostfile);
  else if (hostList !== null) hosts = parseHostList(hostList);
  else if (ppn === null) return localPlacements(np ?? 1);
  else hosts = [{ name: 'localhost', slots: 1, maxSlots: null }];
  const order = placeRanks({ hosts, np, mapBy: mapBy as MapBy, ppn, oversubscribe: options.has('oversubscribe') });
  if (order.length > 100_000) throw new UsageError(`the host list gives ${order.length} ranks; at most 100000 are allowed`);
  return order.map((host, rank) => ({ rank, host }));
}

function sshStarter(options: Map<string, string | string[] | true>): Starter {
  const command = text(options, 'ssh') ?? processOptions().ssh ?? 'ssh';
  const timeoutText = text(options, 'sshTimeout');
  const connectTimeoutSeconds = timeoutText === null ? 10 : Math.ceil(secondsArg(timeoutText, '--ssh-timeout'));
  return new SshStarter({ ssh: splitCommand(command, options.has('ssh') ? '--ssh' : 'MPI4TS_SSH'), connectTimeoutSeconds });
}

function text(options: Map<string, string | string[] | true>, key: string): string | null {
  const value = options.get(key);
  return typeof value === 'string' ? value : null;
}

/** Errors of shared parsers (JobError) become usage errors: exit code 2, no stack. */
function usage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
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
