/** `mpi4ts run`: start a job (DESIGN.md "Start-up"). */
import { UsageError } from '../errors.js';
import { Job, LocalStarter, scriptCommand, type Placement } from '../launcher/index.js';
import { helpText, intArg, parseOptions, secondsArg, type OptionSpec } from './args.js';

export const RUN_OPTIONS: OptionSpec[] = [
  { names: ['-n', '-np', '--np', '-c'], key: 'np', value: 'one', meta: 'N', help: 'number of ranks to start' },
  { names: ['--tag-output', '-l', '--prepend-rank'], key: 'tagOutput', value: 'none', help: 'prefix every output line with [rank]' },
  { names: ['--timeout'], key: 'timeout', value: 'one', meta: 'S', help: 'stop the job after S seconds (exit code 124)' },
  { names: ['-x'], key: 'forward', value: 'many', meta: 'VAR[=VAL]', help: 'pass environment variable VAR to every rank (repeatable)' },
  { names: ['--env', '-genv'], key: 'env', value: 'many', meta: 'VAR=VAL', help: 'set VAR=VAL in every rank (repeatable)' },
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
  const np = npText === undefined ? 1 : intArg(npText, '-n', 1, 100_000);
  const cwd = process.cwd();
  const job = new Job({
    placements: localPlacements(np),
    command: scriptCommand(script, scriptArgs, cwd),
    cwd,
    env: environmentArgs(options.get('forward') as string[] | undefined, options.get('env') as string[] | undefined),
    tagOutput: options.has('tagOutput'),
    timeoutSeconds: options.has('timeout') ? secondsArg(options.get('timeout') as string, '--timeout') : null,
    starterFor: () => localStarter,
    controlBind: '127.0.0.1',
    controlAdvertise: '127.0.0.1',
  });
  return job.run();
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
