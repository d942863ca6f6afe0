/** `mpi4ts run`: start a job (DESIGN.md "Start-up"). */
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { options as processOptions, UsageError } from '../base/index.js';
import { BIND_LEVELS, bindingFor, bindRequestEnv, compileCacheEnv, controlAddress, expandPattern, isLocalHost, Job, localPlaces,
  LocalStarter, parseHostList, patternError, placeRanks, programCommand, readTopology, SshStarter,
  type BindLevel, type BindRequest, type HostEntry, type MapBy, type OutputRoute, type Placement, type Starter } from '../launcher/index.js';
import { HOST_OPTIONS, helpText, hostEntries, intArg, parseOptions, portRangeOf, secondsArg, sshCommandOf, sshTimeoutOf,
  listOption as list, textOption as text, usage, type OptionSpec, type ParsedOptions } from './args.js';
import { blocksOf, envListNames, readAppFile, splitAtColons, type AppBlock } from './mpmd.js';
// multihost: host lists, placement, ssh start, network choice

export const RUN_OPTIONS: OptionSpec[] = [
  { names: ['-n', '-np', '--np', '-c'], key: 'np', value: 'one', meta: 'N', help: 'number of ranks to start' },
  { names: ['--timeout', '-timeout'], key: 'timeout', value: 'one', meta: 'S', help: 'stop the job after S seconds (exit code 124; default $MPIEXEC_TIMEOUT), printing what each rank waits for first' },
  { names: ['--profile'], key: 'profile', value: 'optional', meta: 'FILE.svg', help: 'at the end, print time in MPI per rank, the calls by time, message sizes and the communication matrix (=FILE.svg: also draw the matrix there)' },
  { names: ['--pool'], key: 'pool', value: 'none', help: 'rank 0 runs the script; ranks 1..N-1 serve its MPI.PoolExecutor as workers and never run the script\'s body (as python -m mpi4py.futures); a worker that dies does not end the job' },
  { names: ['--trace'], key: 'trace', value: 'one', meta: 'FILE.json', help: 'write a timeline of every rank\'s MPI calls and messages to FILE.json (Chrome trace format: open it in ui.perfetto.dev)' },
  // hangs and deadlocks
  { names: ['--hang-report'], key: 'hangReport', value: 'one', meta: 'S', help: 'print what each rank waits for when no rank has made progress for S seconds (default $MPI4TS_HANG_REPORT)' },
  { names: ['--debug-calls'], key: 'debugCalls', value: 'none', help: 'hang reports say where each pending call was made (costs about a microsecond a call; MPI4TS_DEBUG_CALLS=1)' },
  { names: ['--no-deadlock-check'], key: 'noDeadlockCheck', value: 'none', help: 'do not look for deadlocks (exit code 125 when found; MPI4TS_DEADLOCK_CHECK=0)' },
  // environment
  { names: ['-x'], key: 'forward', value: 'many', meta: 'VAR[=VAL]', help: 'pass environment variable VAR to every rank (repeatable)' },
  { names: ['--env'], key: 'env', value: 'many', meta: 'VAR=VAL', help: 'set VAR=VAL in every rank (repeatable)' },
  { names: ['-genv'], key: 'env', value: 'pair', meta: 'VAR VAL', help: 'set VAR to VAL in every rank (Hydra; also -genv VAR=VAL)' },
  { names: ['-genvlist', '--genvlist'], key: 'envlist', value: 'many', meta: 'A,B,...', help: 'pass these environment variables to every rank' },
  { names: ['-genvall', '-envall'], key: 'envall', value: 'none', help: 'pass the whole environment to remote ranks too (local ranks always inherit it)' },
  { names: ['-env'], key: 'blockEnv', value: 'pair', meta: 'VAR VAL', help: 'set VAR to VAL in the first program\'s ranks (Hydra\'s local -env)' },
  { names: ['-envlist'], key: 'blockEnvlist', value: 'many', meta: 'A,B,...', help: 'pass these variables to the first program\'s ranks' },
  { names: ['--wdir', '-wdir', '-wd', '--wd'], key: 'wdir', value: 'one', meta: 'DIR', help: 'working directory of the ranks (programs are looked for there first)' },
  // output
  { names: ['--tag-output', '-tag-output', '-l', '--prepend-rank', '-prepend-rank'], key: 'tagOutput', value: 'none', help: 'prefix every output line with [rank]' },
  { names: ['--timestamp-output', '-timestamp-output'], key: 'timestamps', value: 'none', help: 'prefix every output line with the time it arrived' },
  { names: ['--output-filename', '-output-filename'], key: 'outputDir', value: 'one', meta: 'DIR[:nocopy]', help: 'also write rank N\'s output to DIR/1/rank.N/stdout and stderr (:nocopy: files only)' },
  { names: ['-outfile-pattern', '--outfile-pattern'], key: 'outPattern', value: 'one', meta: 'PATTERN', help: 'write stdout to files named by PATTERN instead (%r rank, %h host, %p host index)' },
  { names: ['-errfile-pattern', '--errfile-pattern'], key: 'errPattern', value: 'one', meta: 'PATTERN', help: 'write stderr to files named by PATTERN instead' },
  { names: ['-print-all-exitcodes', '--print-all-exitcodes'], key: 'printExitCodes', value: 'none', help: 'at the end, print how every rank ended' },
  // multihost options (the host, ssh and network ones are shared with `mpi4ts doctor`)
  ...HOST_OPTIONS,
  { names: ['--map-by', '-map-by'], key: 'mapBy', value: 'one', meta: 'POLICY', help: 'slot (default): fill each host\'s slots in turn; node: round robin over hosts; core|socket|numa|hwthread: as slot, and bind ranks to a host\'s cores, sockets...' },
  { names: ['--bind-to', '-bind-to'], key: 'bindTo', value: 'one', meta: 'LEVEL', help: 'pin each rank to a core, socket, numa node or hwthread (default none; as --map-by\'s level when that is one); :overload-allowed lets ranks share' },
  { names: ['--report-bindings', '-report-bindings'], key: 'reportBindings', value: 'none', help: 'each rank prints the CPUs it is bound to, on stderr' },
  { names: ['--ppn', '-ppn', '--npernode', '-npernode', '-N'], key: 'ppn', value: 'one', meta: 'N', help: 'N ranks per host, whatever the slots say' },
  { names: ['--oversubscribe', '-oversubscribe'], key: 'oversubscribe', value: 'none', help: 'allow more ranks than slots (never more than max_slots), and ranks sharing a bound core' },
  { names: ['--display-map', '-display-map'], key: 'displayMap', value: 'none', help: 'print which ranks run where before they start, on stderr' },
  { names: ['--app', '-app', '-configfile', '--configfile'], key: 'app', value: 'one', meta: 'FILE', help: 'the programs from FILE, one MPMD block a line ("-n 2 prog.ts args"; # comments)' },
  { names: ['-h', '--help'], key: 'help', value: 'none', help: 'show this help' },
];

const USAGE = `Usage: mpi4ts run -n N [options] script.{ts,js,mjs} [args...]
       mpi4ts run [options] -n N1 prog1.ts [args...] : -n N2 prog2.ts [args...] [: ...]   (MPMD)
       mpi4ts run [options] --app FILE                                             (MPMD, a block a line)`;

const MPMD_HELP = `
MPMD (several programs in one job, as mpiexec's colon form):
  The options before the first program are the job's; after each lone ":" a block
  takes its own -n N (required when there are several blocks), -env VAR VAL (or --env
  VAR=VAL), -envlist A,B, -x VAR, -wdir DIR and --host LIST (its ranks on those
  hosts; blocks without share the job's); before the first program, -env and
  -envlist are the first block's (as Hydra's local options).
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
  if (options.has('pool') && blocks.length > 1) throw new UsageError('--pool runs one program (rank 0 submits, the others serve it); it takes no MPMD blocks');
  const np = blocks.length === 1 ? blocks[0]!.np : blocks.reduce((sum, b) => sum + b.np!, 0);
  const cwd = process.cwd();
  const mapping = mappingOf(options);
  const placements = placeBlocks(options, blocks, np, mapping.hostMapBy);
  const everyRankLocal = placements.every((p) => isLocalHost(p.host));
  const someRankLocal = placements.some((p) => isLocalHost(p.host));
  // Hosts with free slots where no rank runs yet may get spawned children, who must reach the launcher and their parents.
  const slots = universeSlots(options, placements);
  const address = controlAddress({ iface: text(options, 'iface'), net: text(options, 'net') }, everyRankLocal && slots.every((h) => isLocalHost(h.host)));
  const portRange = portRangeOf(options);
  const portRangeText = portRange === null ? null : `${portRange[0]}-${portRange[1]}`;
  const forward = [...list(options, 'forward'), ...envListNames(list(options, 'envlist'), '-genvlist')];
  // -genvall's whole environment first, then the compile cache's folder; the user's -x and --env win over both.
  const env = {
    ...(options.has('envall') ? forwardableEnvironment(process.env) : {}),
    ...compileCacheEnv(processOptions()),
    ...environmentArgs(forward, list(options, 'env')),
  };
  if (portRangeText !== null) env.MPI4TS_PORT_RANGE = portRangeText;
  // Ranks capture their call sites; remote ranks inherit no MPI4TS_* variable, so it is passed on.
  if (options.has('debugCalls') || usage(() => processOptions().debugCalls)) env.MPI4TS_DEBUG_CALLS = '1';
  const hangReportSeconds = hangReportOf(options);
  const deadlockCheck = !options.has('noDeadlockCheck') && usage(() => processOptions().deadlockCheck);
  const wdirs = blocks.map((b) => workingDirectory(b.wdir ?? text(options, 'wdir'), cwd, someRankLocal));
  // Node alone or tsx: decided here, once for the job, not in every rank.
  const programs = blocks.map((b, i) => programCommand(b.script, b.args, programDirectory(b.script, wdirs[i]!, cwd), processOptions().typescript));
  const commands = programs.map((p) => p.command);
  // --pool: ranks 1..N-1 run the pool's worker entry in the program's place, with the same Node and loader.
  const poolScript = options.has('pool') ? resolve(programDirectory(blocks[0]!.script, wdirs[0]!, cwd), blocks[0]!.script) : null;
  const workerEntry = fileURLToPath(new URL('./pool-worker.js', import.meta.url));
  const asWorker = (c: string[]): string[] => {
    const at = c.indexOf(poolScript ?? '');
    return at < 0 ? c : [...c.slice(0, at), workerEntry, ...c.slice(at + 1)];
  };
  const remoteNode = text(options, 'node');
  const onRemoteNode = (c: string[]): string[] => [remoteNode ?? c[0]!, ...c.slice(1)];
  const remoteCommands = commands.map(onRemoteNode);
  const remoteFallbacks = programs.map((p) => (p.fallback === null ? null : onRemoteNode(p.fallback)));
  const blockEnvs = blocks.map((b) => environmentArgs(b.forward, b.env));
  const places = localPlaces(placements);
  const bindRequest = (p: Placement): BindRequest => {
    const place = places.get(p.rank)!;
    return {
      bindTo: mapping.bindTo ?? 'none', mapBy: mapping.localMapBy, localIndex: place.index, localCount: place.count,
      overload: mapping.overload, report: options.has('reportBindings'),
    };
  };
  const binds = mapping.bindTo !== null || options.has('reportBindings');
  // This host's last rank has the highest place: if it fits, all do. Remote hosts check their own.
  const lastHere = placements.filter((p) => isLocalHost(p.host)).at(-1);
  if (binds && lastHere !== undefined) usage(() => bindingFor(bindRequest(lastHere), readTopology()));
  const bindEnv = (p: Placement): Record<string, string> => (binds ? bindRequestEnv(bindRequest(p)) : {});
  const routeFor = outputRoutes(options, cwd, (p) => places.get(p.rank)!.hostIndex);
  const timeout = timeoutOf(options);
  const tracePath = traceFileOf(options, cwd);
  const profile = profileOf(options, cwd);
  if (options.has('displayMap')) process.stderr.write(jobMap(placements, blocks, mapping));
  let ssh = everyRankLocal ? null : sshStarter(options);
  const job = new Job({
    placements,
    command: commands[0]!,
    cwd,
    env,
    tagOutput: options.has('tagOutput'),
    timestamps: options.has('timestamps'),
    routeFor: routeFor ?? undefined,
    printExitCodes: options.has('printExitCodes'),
    timeoutSeconds: timeout?.seconds ?? null,
    timeoutName: timeout?.name,
    starterFor: (host) => (isLocalHost(host) ? localStarter : (ssh ??= sshStarter(options))),
    commandFor: (p) => {
      const command = (isLocalHost(p.host) ? commands : remoteCommands)[p.appnum ?? 0]!;
      return poolScript !== null && p.rank !== 0 ? asWorker(command) : command;
    },
    fallbackFor: (p) => {
      const fallback = isLocalHost(p.host) ? null : remoteFallbacks[p.appnum ?? 0]!;
      return fallback !== null && poolScript !== null && p.rank !== 0 ? asWorker(fallback) : fallback;
    },
    envFor: (p) => ({ ...blockEnvs[p.appnum ?? 0]!, ...bindEnv(p) }),
    cwdFor: (p) => wdirs[p.appnum ?? 0]!,
    controlBind: address,
    controlAdvertise: address,
    controlPortRange: portRange,
    tracePath,
    profile,
    deadlockCheck,
    hangReportSeconds,
    slots,
    // comm.spawn's children: run as the job's programs are, a remote host's with --node (and ssh even when the job had none).
    spawnCommand: (command, host, dir) => {
      const program = usage(() => programCommand(command.path, command.args, dir, processOptions().typescript));
      if (isLocalHost(host)) return program;
      if (address === '127.0.0.1') {
        throw new UsageError(`host "${host}" is another host, but this job's ranks talk over loopback (127.0.0.1: all of them run here); ` +
          'give mpi4ts run --iface or --net, or list the host in --host or --hostfile');
      }
      return { command: onRemoteNode(program.command), fallback: program.fallback === null ? null : onRemoteNode(program.fallback) };
    },
    pool: options.has('pool'),
  });
  return job.run();
}

/**
 * MPI_UNIVERSE_SIZE's hosts: the slots of --hostfile/--host, else this host
 * with as many slots as -n (a local job: spawning beyond it oversubscribes,
 * as MPICH's mpiexec does on one host).
 */
function universeSlots(options: ParsedOptions, placements: Placement[]): { host: string; slots: number }[] {
  const hosts = usage(() => hostEntries(options));
  if (hosts !== null) return hosts.map((h) => ({ host: h.name, slots: h.slots }));
  return [{ host: placements[0]?.host ?? 'localhost', slots: placements.length }];
}

/** --profile, or --profile=FILE.svg (checked writable now, as --trace's file). */
function profileOf(options: ParsedOptions, cwd: string): { svgPath: string | null } | null {
  const given = options.get('profile');
  if (given === undefined) return null;
  if (given === true) return { svgPath: null };
  const name = String(given);
  if (!name.endsWith('.svg')) throw new UsageError(`--profile=${name}: the heat map is an SVG file, give a name ending in .svg (or --profile alone for the report only)`);
  const path = resolve(cwd, name);
  try {
    writeFileSync(path, '');
  } catch (err) {
    throw new UsageError(`--profile=${name}: cannot write the heat map there: ${(err as Error).message}`);
  }
  return { svgPath: path };
}

/** --trace FILE: checked writable now (it is created empty), not after the job has run. */
function traceFileOf(options: ParsedOptions, cwd: string): string | null {
  const given = text(options, 'trace');
  if (given === null) return null;
  if (given === '') throw new UsageError('--trace needs a file name (the timeline is written there as JSON), got ""');
  const path = resolve(cwd, given);
  try {
    writeFileSync(path, '');
  } catch (err) {
    throw new UsageError(`--trace ${given}: cannot write the timeline there: ${(err as Error).message}`);
  }
  return path;
}

/** --hang-report S, else MPI4TS_HANG_REPORT, else none. */
function hangReportOf(options: ParsedOptions): number | null {
  const given = text(options, 'hangReport');
  if (given !== null) return secondsArg(given, '--hang-report');
  return usage(() => processOptions().hangReportSeconds);
}

/** --timeout, else MPIEXEC_TIMEOUT (Hydra's and Open MPI's variable), else none. */
function timeoutOf(options: ParsedOptions): { seconds: number; name: string } | null {
  const given = text(options, 'timeout');
  if (given !== null) return { seconds: secondsArg(given, '--timeout'), name: '--timeout' };
  const fromEnv = usage(() => processOptions().mpiexecTimeout);
  return fromEnv === null ? null : { seconds: fromEnv, name: 'MPIEXEC_TIMEOUT' };
}

/** How ranks go onto hosts and onto a host's CPUs: --map-by, --bind-to, --oversubscribe. */
interface Mapping {
  /** Over hosts: slot filling or round robin. */
  hostMapBy: MapBy;
  /** On a host: the objects ranks are placed over (core for slot and node). */
  localMapBy: BindLevel;
  /** What each rank is pinned to, or null (no --bind-to and a host-level --map-by: nothing is pinned). */
  bindTo: BindLevel | 'none' | null;
  overload: boolean;
}

const MAP_POLICIES = ['slot', 'node', ...BIND_LEVELS];

function mappingOf(options: ParsedOptions): Mapping {
  const mapBy = text(options, 'mapBy') ?? 'slot';
  if (!MAP_POLICIES.includes(mapBy)) throw new UsageError(`--map-by must be one of ${MAP_POLICIES.join(', ')}, got "${mapBy}"`);
  const local = mapBy === 'slot' || mapBy === 'node' ? null : mapBy as BindLevel;
  const bindText = text(options, 'bindTo');
  let bindTo: BindLevel | 'none' | null = local;
  let overload = options.has('oversubscribe');
  if (bindText !== null) {
    const [level, qualifier, extra] = bindText.split(':');
    const levels = ['none', ...BIND_LEVELS];
    if (!levels.includes(level!) || (qualifier !== undefined && qualifier !== 'overload-allowed') || extra !== undefined) {
      throw new UsageError(`--bind-to must be one of ${levels.join(', ')}, optionally with :overload-allowed, got "${bindText}"`);
    }
    bindTo = level as BindLevel | 'none';
    overload ||= qualifier === 'overload-allowed';
  }
  return { hostMapBy: mapBy === 'node' ? 'node' : 'slot', localMapBy: local ?? 'core', bindTo, overload };
}

/** --display-map: each host's ranks (and their programs, in an MPMD job), before the job starts. */
function jobMap(placements: Placement[], blocks: AppBlock[], mapping: Mapping): string {
  const byHost = new Map<string, Placement[]>();
  for (const p of placements) byHost.set(p.host, [...(byHost.get(p.host) ?? []), p]);
  const binding = mapping.bindTo === null || mapping.bindTo === 'none' ? 'not bound'
    : `bound to ${mapping.bindTo} by ${mapping.localMapBy}${mapping.overload ? ', overload allowed' : ''}`;
  const lines = [`mpi4ts: job map: ${placements.length} rank(s) on ${byHost.size} host(s), ${binding}`];
  for (const [host, ranks] of byHost) {
    lines.push(`  ${host}: ${ranks.length} rank(s)`);
    for (const p of ranks) lines.push(`    rank ${p.rank}: ${blocks[p.appnum ?? 0]!.script}${blocks.length > 1 ? ` (app ${p.appnum ?? 0})` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Where ranks' output goes: --output-filename DIR[:nocopy] (Open MPI: the
 * terminal and DIR/1/rank.N/stdout|stderr), -outfile-pattern and
 * -errfile-pattern (Hydra: files instead of the terminal); null for the
 * terminal alone. Files are written on the launcher's host.
 */
function outputRoutes(options: ParsedOptions, cwd: string, hostIndexOf: (p: Placement) => number):
  ((p: Placement, stream: 'stdout' | 'stderr') => OutputRoute) | null {
  const dirText = text(options, 'outputDir');
  const patterns = { stdout: text(options, 'outPattern'), stderr: text(options, 'errPattern') };
  if (dirText !== null && (patterns.stdout !== null || patterns.stderr !== null)) {
    throw new UsageError('give --output-filename or -outfile-pattern/-errfile-pattern, not both');
  }
  if (dirText !== null) {
    const nocopy = dirText.endsWith(':nocopy');
    const dirName = nocopy ? dirText.slice(0, -':nocopy'.length) : dirText;
    if (dirName === '') throw new UsageError(`--output-filename needs a directory, got "${dirText}"`);
    const dir = resolve(cwd, dirName);
    return (p, stream) => ({ file: join(dir, '1', `rank.${p.rank}`, stream), terminal: !nocopy });
  }
  for (const [option, pattern] of [['-outfile-pattern', patterns.stdout], ['-errfile-pattern', patterns.stderr]] as const) {
    if (pattern === null) continue;
    const error = pattern === '' ? 'it is empty' : patternError(pattern);
    if (error !== null) throw new UsageError(`${option} "${pattern}": ${error}`);
  }
  if (patterns.stdout === null && patterns.stderr === null) return null;
  return (p, stream) => {
    const pattern = patterns[stream];
    return pattern === null ? { file: null, terminal: true }
      : { file: resolve(cwd, expandPattern(pattern, p.rank, p.host === 'localhost' ? hostname() : p.host, hostIndexOf(p))), terminal: false };
  };
}

/** A block's working directory (-wdir, else the launcher's), absolute; it must exist here when ranks run here. */
function workingDirectory(wdir: string | null, cwd: string, checkHere: boolean): string {
  if (wdir === null) return cwd;
  const dir = resolve(cwd, wdir);
  if (checkHere && !(existsSync(dir) && statSync(dir).isDirectory())) {
    throw new UsageError(`--wdir "${wdir}": ${dir} is not a directory`);
  }
  return dir;
}

/** Where a program's relative path is read from: its working directory, as mpiexec's ranks do, else the launcher's. */
function programDirectory(script: string, wdir: string, cwd: string): string {
  return wdir !== cwd && !existsSync(resolve(wdir, script)) && existsSync(resolve(cwd, script)) ? cwd : wdir;
}

/**
 * -genvall: the launcher's environment for remote ranks, less what belongs to
 * this host or this shell (HOME, PWD, SSH_*...) and what another launcher set
 * (PMI_*, SLURM_*, OMPI_*...), which would mislead the rank on the other host.
 */
export function forwardableEnvironment(from: NodeJS.ProcessEnv): Record<string, string> {
  const hostBound = /^(HOME|PWD|OLDPWD|SHELL|SHLVL|USER|LOGNAME|HOSTNAME|TERM|DISPLAY|_|SSH_.*|XDG_.*|MPI4TS_.*|PMI_.*|PMIX_.*|OMPI_.*|SLURM_.*|HYDRA_.*)$/;
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(from)) {
    if (value !== undefined && !hostBound.test(name) && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) env[name] = value;
  }
  return env;
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
  return blocksOf({
    np: text(options, 'np'), rest, env: list(options, 'blockEnv'),
    forward: envListNames(list(options, 'blockEnvlist'), '-envlist'),
  }, more);
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

/**
 * Every rank's host, in block order: a block with its own --host on those
 * hosts (its own slots), the others on the job's hosts, sharing their slots
 * in block order as one job of their total size.
 */
function placeBlocks(options: ParsedOptions, blocks: AppBlock[], np: number | null, mapBy: MapBy): Placement[] {
  if (blocks.every((b) => b.hosts === null)) return withAppnums(planPlacements(options, np, mapBy), blocks);
  const sharedCount = blocks.filter((b) => b.hosts === null).reduce((sum, b) => sum + b.np!, 0);
  const shared = sharedCount > 0 ? planPlacements(options, sharedCount, mapBy).map((p) => p.host) : [];
  let next = 0;
  const placements: Placement[] = [];
  blocks.forEach((block, appnum) => {
    const hosts = block.hosts === null ? shared.slice(next, next += block.np!)
      : usage(() => placeRanks({ hosts: parseHostList(block.hosts!, `${block.where}: --host`), np: block.np, mapBy, ppn: null,
        oversubscribe: options.has('oversubscribe') }));
    for (const host of hosts) placements.push({ rank: placements.length, host, appnum });
  });
  if (placements.length > 100_000) throw new UsageError(`the blocks ask for ${placements.length} ranks; at most 100000 are allowed`);
  return placements;
}

/** Ranks on hosts from --hostfile / --host (placed as placement.ts says), else all on this host. */
function planPlacements(options: ParsedOptions, np: number | null, mapBy: MapBy): Placement[] {
  const ppnText = text(options, 'ppn');
  const ppn = ppnText === null ? null : intArg(ppnText, '--ppn', 1, 100_000);
  let hosts: HostEntry[] | null = hostEntries(options);
  if (hosts === null && ppn === null) return localPlacements(np ?? 1);
  hosts ??= [{ name: 'localhost', slots: 1, maxSlots: null }];
  const order = placeRanks({ hosts, np, mapBy, ppn, oversubscribe: options.has('oversubscribe') });
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
