/**
 * MPMD for `mpi4ts run` (MPI 4.1 section 11.5.2, mpiexec's colon form):
 * `run [global options] -n 1 server.ts [args] : -n 3 client.ts [args]`, or
 * the blocks one a line in a file (`--app FILE` as Open MPI, `-configfile
 * FILE` as Hydra). The options before the first program are the job's, but
 * for Hydra's local ones (-env, -envlist), which are the first block's; each
 * block after a lone `:` takes only its own -n, -env/--env, -envlist, -x,
 * -wdir and --host. Blocks share one COMM_WORLD, their ranks numbered in
 * block order; a rank's MPI_APPNUM is its block's index. A block with its
 * own --host is placed on those hosts; the others share the job's, filling
 * their slots in block order (as mpiexec does).
 *
 * # Unfinished features
 * - No per-block --hostfile (a block names its hosts with --host only).
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../base/index.js';
import { splitCommand } from '../launcher/index.js';
import { intArg, listOption as list, parseOptions, type OptionSpec, type ParsedOptions } from './args.js';

/** One program of the job and how many ranks run it. */
export interface AppBlock {
  /** Ranks of this block; null only in a one-block job, where today's rules (slots, default 1) apply. */
  np: number | null;
  script: string;
  args: string[];
  /** -x and -envlist of this block (names, or NAME=VALUE), on top of the job's. */
  forward: string[];
  /** -env/--env of this block, NAME=VALUE. */
  env: string[];
  /** -wdir of this block, or null for the job's. */
  wdir: string | null;
  /** --host of this block (a host list, as the job's), or null for the job's hosts. */
  hosts: string | null;
  /** How messages name the block: `block 2 (client.ts)` or `apps.txt:3`. */
  where: string;
}

/** What a block after a `:` (or a line of an app file) may say about itself. */
export const BLOCK_OPTIONS: OptionSpec[] = [
  { names: ['-n', '-np', '--np', '-c'], key: 'np', value: 'one', meta: 'N', help: 'ranks of this block' },
  { names: ['-x'], key: 'forward', value: 'many', meta: 'VAR[=VAL]', help: 'pass VAR to this block\'s ranks' },
  { names: ['--env'], key: 'env', value: 'many', meta: 'VAR=VAL', help: 'set VAR=VAL in this block\'s ranks' },
  { names: ['-env'], key: 'env', value: 'pair', meta: 'VAR VAL', help: 'set VAR to VAL in this block\'s ranks (Hydra; also -env VAR=VAL)' },
  { names: ['-envlist', '--envlist'], key: 'envlist', value: 'many', meta: 'A,B,...', help: 'pass these variables to this block\'s ranks' },
  { names: ['--wdir', '-wdir', '-wd', '--wd'], key: 'wdir', value: 'one', meta: 'DIR', help: 'this block\'s working directory' },
  { names: ['--host', '--hosts', '-H', '-host', '-hosts'], key: 'hosts', value: 'one', meta: 'LIST', help: 'the hosts this block\'s ranks run on' },
];

/** -envlist A,B: the names, as -x takes them. */
export function envListNames(lists: string[], option: string): string[] {
  return lists.flatMap((list) => list.split(',').map((name) => name.trim()).filter((name) => {
    if (name === '') throw new UsageError(`${option} "${list}" has an empty name; give NAME,NAME,...`);
    return true;
  }));
}

/** The command line cut at each lone `:`, as mpiexec cuts it. */
export function splitAtColons(argv: string[]): string[][] {
  const segments: string[][] = [[]];
  for (const arg of argv) {
    if (arg === ':') segments.push([]);
    else segments[segments.length - 1]!.push(arg);
  }
  return segments;
}

/**
 * The blocks of a command line whose first segment was parsed already
 * (`first`: its -n and the program after the job's options); `more` are the
 * segments after the first `:`.
 */
export function blocksOf(first: { np: string | null; rest: string[]; env?: string[]; forward?: string[] }, more: string[][]): AppBlock[] {
  const multi = more.length > 0;
  const blocks = [blockFrom(first.np, first.rest, first.forward ?? [], first.env ?? [], null, multi ? `block 1${scriptName(first.rest)}` : '')];
  more.forEach((segment, i) => blocks.push(parseBlock(segment, `block ${i + 2}${scriptName(firstProgram(segment))}`)));
  return checkBlocks(blocks);
}

/** Reads `--app FILE` / `-configfile FILE`: one block a line, `#` comments, blank lines ignored. */
export function readAppFile(path: string): AppBlock[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read app file "${path}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const blocks: AppBlock[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') return;
    const where = `${path}:${i + 1}`;
    // A Hydra configfile line may itself hold several blocks (`-n 1 a : -n 2 b`).
    for (const segment of splitAtColons(splitCommand(line, where))) blocks.push(parseBlock(segment, where));
  });
  if (blocks.length === 0) throw new UsageError(`app file "${path}" names no program (lines like "-n 2 prog.ts args")`);
  return checkBlocks(blocks);
}

function parseBlock(segment: string[], where: string): AppBlock {
  let parsed: { options: ParsedOptions; rest: string[] };
  try {
    parsed = parseOptions(segment, BLOCK_OPTIONS, 'run');
  } catch (err) {
    const message = (err as Error).message.replace(/ for "mpi4ts run" \(see mpi4ts run --help\)$/, '');
    throw new UsageError(`${where}: ${message}; a block takes only -n, -env/--env, -envlist, -x, -wdir and --host (give the job's options before the first program)`);
  }
  const { options, rest } = parsed;
  const np = options.get('np');
  const wdir = options.get('wdir');
  const hosts = options.get('hosts');
  const forward = [...list(options, 'forward'), ...envListNames(list(options, 'envlist'), `${where}: -envlist`)];
  return blockFrom(typeof np === 'string' ? np : null, rest, forward, list(options, 'env'), typeof wdir === 'string' ? wdir : null, where,
    typeof hosts === 'string' ? hosts : null);
}

function blockFrom(npText: string | null, rest: string[], forward: string[], env: string[], wdir: string | null, where: string,
  hosts: string | null = null): AppBlock {
  const [script, ...args] = rest;
  if (script === undefined) throw new UsageError(where === '' ? 'no script to run' : `${where}: no program after its options`);
  const np = npText === null ? null : intArg(npText, where === '' ? '-n' : `${where}: -n`, 1, 100_000);
  return { np, script, args, forward, env, wdir, hosts, where };
}

/** With several blocks every one needs its -n: the world's size is their sum. */
function checkBlocks(blocks: AppBlock[]): AppBlock[] {
  if (blocks.length === 1) return blocks;
  for (const block of blocks) {
    if (block.np === null) {
      throw new UsageError(`${block.where} has no -n: with several programs each needs its own (e.g. -n 1 server.ts : -n 3 client.ts)`);
    }
  }
  const total = blocks.reduce((sum, b) => sum + b.np!, 0);
  if (total > 100_000) throw new UsageError(`the blocks ask for ${total} ranks in all; at most 100000 are allowed`);
  return blocks;
}


/** The first word that is no block option or its value, for naming a block. */
function firstProgram(segment: string[]): string[] {
  for (let i = 0; i < segment.length; i++) {
    const arg = segment[i]!;
    if (!arg.startsWith('-')) return segment.slice(i);
    if (!arg.includes('=')) i++;
  }
  return [];
}

function scriptName(rest: string[]): string {
  return rest[0] === undefined ? '' : ` (${rest[0]})`;
}
