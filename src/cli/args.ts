/**
 * Command-line parsing for `mpi4ts run` (and `bench`, which takes the same
 * placement options, and `doctor`, which takes the same host, ssh and
 * network options: HOST_OPTIONS, read by the functions below it, so the two
 * commands never disagree on what a hostfile or --ssh means). Options stop at
 * the script name; everything after it belongs to the script. mpiexec's
 * spellings are accepted too (-np, -f, ...).
 */
import { options as processOptions, parsePortRange, UsageError } from '../base/index.js';
import { parseHostList, readHostfile, splitCommand, type HostEntry } from '../launcher/index.js';

export interface OptionSpec {
  /** Every spelling, e.g. ['-n', '-np', '--np']. */
  names: string[];
  /** Key in the parsed result. */
  key: string;
  /**
   * Takes a value (next argument or after '='); repeatable ones collect into
   * an array. 'pair' is Hydra's `-genv NAME VALUE`: two words, or one
   * NAME=VALUE, collected as NAME=VALUE. 'optional' takes a value only
   * after '=' (`--profile=out.svg`); alone it is set to true.
   */
  value: 'none' | 'one' | 'many' | 'pair' | 'optional';
  help: string;
  /** Placeholder for the value in --help. */
  meta?: string;
}

export interface Parsed {
  options: Map<string, string | string[] | true>;
  /** The first positional argument and everything after it. */
  rest: string[];
}

export function parseOptions(argv: string[], specs: OptionSpec[], command: string): Parsed {
  const byName = new Map<string, OptionSpec>();
  for (const spec of specs) for (const name of spec.names) byName.set(name, spec);
  const options = new Map<string, string | string[] | true>();
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i]!;
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    const eq = arg.indexOf('=');
    const name = eq > 0 && arg.startsWith('--') ? arg.slice(0, eq) : arg;
    const spec = byName.get(name);
    if (spec === undefined) throw new UsageError(`unknown option "${arg}" for "mpi4ts ${command}" (see mpi4ts ${command} --help)`);
    i++;
    if (spec.value === 'none' || (spec.value === 'optional' && !(eq > 0 && arg.startsWith('--')))) {
      options.set(spec.key, true);
      continue;
    }
    let value: string;
    if (eq > 0 && arg.startsWith('--')) {
      value = arg.slice(eq + 1);
    } else {
      const next = argv[i];
      if (next === undefined) throw new UsageError(`option ${name} needs a value (${spec.meta ?? 'VALUE'})`);
      value = next;
      i++;
    }
    if (spec.value === 'pair' && !/^[A-Za-z_][A-Za-z0-9_]*=/.test(value)) {
      const second = argv[i];
      if (second === undefined) throw new UsageError(`option ${name} needs a name and a value (${spec.meta ?? 'NAME VALUE'}), got only "${value}"`);
      value = `${value}=${second}`;
      i++;
    }
    if (spec.value === 'many' || spec.value === 'pair') {
      const list = (options.get(spec.key) as string[] | undefined) ?? [];
      list.push(value);
      options.set(spec.key, list);
    } else {
      options.set(spec.key, value);
    }
  }
  return { options, rest: argv.slice(i) };
}

/** A whole number within limits, or a UsageError that names the option and value. */
export function intArg(value: string, option: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`${option} must be a whole number ${range}, got "${value}"`);
  }
  return n;
}

/** A positive number of seconds. */
export function secondsArg(value: string, option: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new UsageError(`${option} must be a positive number of seconds, got "${value}"`);
  }
  return n;
}

export function helpText(usage: string, specs: OptionSpec[]): string {
  const rows = specs.map((s) => {
    const left = `${s.names.join(', ')}${s.value === 'none' ? '' : ` ${s.meta ?? 'VALUE'}`}`;
    // A long list of spellings gets its help on the next line, still aligned.
    return left.length > 34 ? `  ${left}\n  ${''.padEnd(34)} ${s.help}` : `  ${left.padEnd(34)} ${s.help}`;
  });
  return `${usage}\n\nOptions:\n${rows.join('\n')}\n`;
}

/** What parseOptions returns for each key. */
export type ParsedOptions = Map<string, string | string[] | true>;

/** The host, ssh and network options of `mpi4ts run`, which `mpi4ts doctor` takes too. */
export const HOST_OPTIONS: readonly OptionSpec[] = [
  { names: ['--hostfile', '--machinefile', '-f', '-machinefile', '-hostfile'], key: 'hostfile', value: 'one', meta: 'FILE', help: 'hosts to run on: lines of "host", "host:slots" or "host slots=N [max_slots=M]"' },
  { names: ['--host', '--hosts', '-H', '-host', '-hosts'], key: 'hosts', value: 'one', meta: 'LIST', help: 'hosts to run on, e.g. node1:2,node2:2 (default slots 1)' },
  { names: ['--ssh', '-launcher-exec'], key: 'ssh', value: 'one', meta: 'CMD', help: 'ssh command for remote hosts, e.g. "ssh -F cfg" (default $MPI4TS_SSH or ssh)' },
  { names: ['--ssh-timeout'], key: 'sshTimeout', value: 'one', meta: 'S', help: 'seconds ssh may take to connect to a host (default 10)' },
  { names: ['--node'], key: 'node', value: 'one', meta: 'PATH', help: 'Node executable on remote hosts (default: this one\'s path)' },
  { names: ['--iface', '-iface'], key: 'iface', value: 'one', meta: 'NAME', help: 'network interface the job talks over (its address is dialled by every rank)' },
  { names: ['--net'], key: 'net', value: 'one', meta: 'CIDR', help: 'talk over the network holding this host\'s address in CIDR, e.g. 10.1.0.0/16' },
  { names: ['--port-range'], key: 'portRange', value: 'one', meta: 'LO-HI', help: 'TCP ports the launcher and ranks listen on (for firewalls)' },
];

/** The value of a one-value option, or null when it was not given. */
export function textOption(options: ParsedOptions, key: string): string | null {
  const value = options.get(key);
  return typeof value === 'string' ? value : null;
}

/** The values of a repeatable option, in order (none when it was not given). */
export function listOption(options: ParsedOptions, key: string): string[] {
  const value = options.get(key);
  return Array.isArray(value) ? value : [];
}

/** The hosts of --hostfile or --host, or null when neither was given. */
export function hostEntries(options: ParsedOptions): HostEntry[] | null {
  const hostfile = textOption(options, 'hostfile');
  const hostList = textOption(options, 'hosts');
  if (hostfile !== null && hostList !== null) throw new UsageError('give either --hostfile or --host, not both');
  if (hostfile !== null) return readHostfile(hostfile);
  if (hostList !== null) return parseHostList(hostList);
  return null;
}

/** The ssh command words (--ssh, else $MPI4TS_SSH, else ssh). */
export function sshCommandOf(options: ParsedOptions): string[] {
  const command = textOption(options, 'ssh') ?? processOptions().ssh ?? 'ssh';
  return splitCommand(command, options.has('ssh') ? '--ssh' : 'MPI4TS_SSH');
}

/** Seconds ssh may take to connect (--ssh-timeout, default 10), whole for ssh's ConnectTimeout. */
export function sshTimeoutOf(options: ParsedOptions): number {
  const timeoutText = textOption(options, 'sshTimeout');
  return timeoutText === null ? 10 : Math.ceil(secondsArg(timeoutText, '--ssh-timeout'));
}

/** --port-range as [lo, hi], or null when not given. */
export function portRangeOf(options: ParsedOptions): [number, number] | null {
  const portRangeText = textOption(options, 'portRange');
  return portRangeText === null ? null : usage(() => parsePortRange(portRangeText, '--port-range'));
}

/** Errors of shared parsers (JobError) become usage errors: exit code 2, no stack. */
export function usage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
