/** `mpi4ts run`: start a job (DESIGN.md "Start-up"). */
import { options as processOptions, UsageError } from '../base/index.js';
import { compileCacheEnv, controlAddress, isLocalHost, Job, LocalStarter, placeRanks, programCommand, SshStarter,
  type HostEntry, type MapBy, type Placement, type Starter } from '../launcher/index.js';
import { HOST_OPTIONS, helpText, hostEntries, intArg, parseOptions, portRangeOf, secondsArg, sshCommandOf, sshTimeoutOf,
  textOption as text, type OptionSpec, type ParsedOptions } from './args.js';
import { blocksOf, readAppFile, splitAtColons, type AppBlock } from './mpmd.js';
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
  { names: ['--app', '-app', '-configfile', '--configfile'], key: 'app', value: 'one', meta: 'FILE', help: 'the programs from FILE, one MPMD block a line ("-n 2 prog.ts args"; # comments)' },
  { names: ['-h', '--help'], key: 'help', value: 'none', help: 'show this help' },
];

const USAGE = `Usage: mpi4ts run -n N [options] script.{ts,js,mjs} [args...]
       mpi4ts run [options] -n N1 prog1.ts [args...] : -n N2 prog2.ts [args...] [: ...]   (MPMD)
       mpi4ts run [options] --app FILE                                             (MPMD, a block a line)`;

const MPMD_HELP = `
MPMD (several programs in one job, as mpiexec's colon form):
  The options before the first program are the job's; after each lone ":" a block
  takes its own -n N (required when there are several blocks), --env VAR=VAL and -x VAR.
  All blocks share one COMM_WORLD, ranks numbered in block order, placed on the hosts
  in that order; MPI.APPNUM is a rank's block index (0, 1, ...).
  --app FILE (Open MPI) and -configfile FILE (Hydra) read the blocks from FILE, one a
  line in the same form ("-n 1 server.ts", "-n 3 client.ts --verbose"), # comments.
`;

export async function runCommand(argv: string[]): Promise<number> {
  const [first, ...more] = splitAtColons(argv);
  const { options, rest } = parseOptions(first!, RUN_OPTIONS, 'run');
  if (options.has('help')) {
    process.stdout.write(helpText(USAGE, RUN_OPTIONS) + MPMD_HELP);
    return 0;
  }
  const blocks = appBlocks(options, rest, more);
  const np = blocks.length === 1 ? blocks[0]!.np : blocks.reduce((sum, b) => sum + b.np!, 0);
  const cwd = process.cwd();
  const placements = withAppnums(planPlacements(options, np), blocks);
  const everyRankLocal = placements.every((p) => isLocalHost(p.host));
  const address = controlAddress({ iface: text(options, 'iface'), net: text(options, 'net') }, everyRankLocal);
  const portRange = portRangeOf(options);
  const portRangeText = portRange === null ? null : `${portRange[0]}-${portRange[1]}`;
  // The user's -x and --env win over the compile cache's folder.
  const env = { ...compileCacheEnv(processOptions()), ...environmentArgs(options.get('forward') as string[] | undefined, options.get('env') as string[] | undefined) };
  if (portRangeText !== null) env.MPI4TS_PORT_RANGE = portRangeText;
  // Node alone or tsx: decided here, once for the job, not in every rank.
  const programs = blocks.map((b) => programCommand(b.script, b.args, cwd, processOptions().typescript));
  const commands = programs.map((p) => p.command);
  const remoteNode = text(options, 'node');
  const onRemoteNode = (c: string[]): string[] => [remoteNode ?? c[0]!, ...c.slice(1)];
  const remoteCommands = commands.map(onRemoteNode);
  const remoteFallbacks = programs.map((p) => (p.fallback === null ? null : onRemoteNode(p.fallback)));
  const blockEnvs = blocks.map((b) => environmentArgs(b.forward, b.env));
  const ssh = everyRankLocal ? null : sshStarter(options);
  const job = new Job({
    placements,
    command: commands[0]!,
    cwd,
    env,
    tagOutput: options.has('tagOutput'),
    timeoutSeconds: options.has('timeout') ? secondsArg(options.get('timeout') as string, '--timeout') : null,
    starterFor: (host) => (isLocalHost(host) || ssh === null ? localStarter : ssh),
    commandFor: (p) => (isLocalHost(p.host) ? commands : remoteCommands)[p.appnum ?? 0]!,
    fallbackFor: (p) => (isLocalHost(p.host) ? null : remoteFallbacks[p.appnum ?? 0]!),
    envFor: (p) => blockEnvs[p.appnum ?? 0]!,
    controlBind: address,
    controlAdvertise: address,
    controlPortRange: portRange,
  });
  return job.run();
}

/** The programs of the job: from --app FILE, else the command line's blocks (one, or several cut by `:`). */
function appBlocks(options: ParsedOptions, rest: string[], more: string[][]): AppBlock[] {
  const appFile = text(options, 'app');
  if (appFile !== null) {
    if (rest.length > 0 || more.length > 0) {
      throw new UsageError(`--app ${appFile} names the programs; give none on the command line (got "${rest[0] ?? ':'}")`);
    }
    if (options.has('np')) throw new UsageError(`--app ${appFile}: give -n on each line of the file, not before --app`);
    return readAppFile(appFile);
  }
  if (rest.length === 0 && more.length === 0) throw new UsageError(`no script to run\n${USAGE}`);
  return blocksOf({ np: text(options, 'np'), rest }, more);
}

/** Block 0's ranks first, then block 1's...: each placement learns its block (MPI_APPNUM). */
function withAppnums(placements: Placement[], blocks: AppBlock[]): Placement[] {
  if (blocks.length === 1) return placements;
  let appnum = 0;
  let end = blocks[0]!.np!;
  return placements.map((p) => {
    while (p.rank >= end) end += blocks[++appnum]!.np!;
    return { ...p, appnum };
  });
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
