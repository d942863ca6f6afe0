/**
 * Command-line parsing for `mpi4ts run` (and `bench`, which takes the same
 * placement options). Options stop at the script name; everything after it
 * belongs to the script. mpiexec's spellings are accepted too (-np, -f, ...).
 */
import { UsageError } from '../base/index.js';

export interface OptionSpec {
  /** Every spelling, e.g. ['-n', '-np', '--np']. */
  names: string[];
  /** Key in the parsed result. */
  key: string;
  /** Takes a value (next argument or after '='); repeatable ones collect into an array. */
  value: 'none' | 'one' | 'many';
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
    if (spec.value === 'none') {
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
    if (spec.value === 'many') {
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
