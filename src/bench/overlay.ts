/**
 * Other runs drawn beside this one (`--plot out.svg --compare other.json`):
 * the JSON documents `mpi4ts bench TEST --json` prints (bench/osu_mpi4py.py
 * --json prints the same fields), checked before any rank starts, each
 * refusal naming the file and what is wrong with it. They reach the rank
 * that draws inside the BenchConfig, as curves, so that rank need not see
 * the files (it may be on another host).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { UsageError } from '../base/index.js';
import type { Series } from './svg.js';
import { testInfo, type TestInfo } from './tests.js';

/** The legend name of a run: its own label, else what ran and on which path ("mpi4ts typed", "mpi4py buffer"). */
export function runLabel(implementation: string, path: string): string {
  return `${implementation} ${path}`;
}

/** A --compare file: its name as the user gave it (for messages and the legend) and where it is. */
export interface RunFile {
  name: string;
  path: string;
}

/** One other run's curve, and the file it came from. */
export interface Overlay extends Series {
  file: string;
}

/** The curve of one --compare file, or a UsageError naming the file and the fault. */
export function overlayOf(text: string, file: string, info: TestInfo): Overlay {
  const fault = (what: string): UsageError =>
    new UsageError(`--compare ${file}: ${what}; write the file with mpi4ts bench ${info.osu} --json > ${basename(file)}`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw fault(`not JSON (${(err as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw fault('not a JSON object of one run');
  const run = doc as Record<string, unknown>;
  const test = typeof run.test === 'string' ? testInfo(run.test) : undefined;
  if (test === undefined) throw fault(`"test" is ${JSON.stringify(run.test) ?? 'missing'}, not a test mpi4ts bench knows`);
  if (test.name !== info.name) throw fault(`a run of ${test.osu} (${test.unit}), and this run is ${info.osu} (${info.unit}): draw runs of one test together`);
  if (run.unit !== info.unit) throw fault(`its unit is ${JSON.stringify(run.unit) ?? 'missing'}, and ${info.osu} reports ${info.unit}`);
  const results = run.results;
  if (!Array.isArray(results) || results.length === 0) throw fault('no rows: "results" is missing or empty');
  const points = results.map((row: unknown, i) => {
    const { size, value } = (typeof row === 'object' && row !== null ? row : {}) as Record<string, unknown>;
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0 || typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw fault(`row ${i + 1} of "results" is ${JSON.stringify(row)}: each row needs a whole "size" (bytes) and a "value" of 0 or more`);
    }
    return { x: size, y: value };
  });
  const implementation = typeof run.implementation === 'string' ? run.implementation : 'mpi4ts';
  const name = typeof run.label === 'string' && run.label !== ''
    ? run.label
    : runLabel(implementation, typeof run.path === 'string' ? run.path : test.osu);
  return { name, points, file };
}

/** Reads and checks every --compare file; legend names that repeat get their file's name. */
export function readOverlays(files: readonly RunFile[], info: TestInfo, thisRun: string): Overlay[] {
  const overlays = files.map((file) => {
    let text: string;
    try {
      text = readFileSync(file.path, 'utf8');
    } catch (err) {
      throw new UsageError(`--compare ${file.name}: cannot read it (${readFault(err as NodeJS.ErrnoException)})`);
    }
    return overlayOf(text, file.name, info);
  });
  const names = [thisRun, ...overlays.map((o) => o.name)];
  return overlays.map((o) => names.filter((n) => n === o.name).length > 1 ? { ...o, name: `${o.name} (${basename(o.file)})` } : o);
}

function readFault(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'a directory, not a file';
    case 'EACCES':
      return 'permission denied';
    default:
      return err.message;
  }
}
