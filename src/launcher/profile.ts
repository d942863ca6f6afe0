/**
 * `mpi4ts run --profile[=FILE.svg]`: the ranks' totals (comm/trace.ts,
 * ProfileSummary) as an mpiP-style report printed when the job ends: time in
 * MPI against the rest per rank, the calls that took the most time, the
 * sizes of the messages sent, and the communication matrix (bytes from rank
 * i to rank j), which FILE.svg also draws as a heat map.
 */
import type { ProfileSummary } from '../wire/index.js';

export interface RankProfile {
  rank: number;
  host: string;
  profile: ProfileSummary;
}

/** Calls listed in the report, the rest summed up in one line. */
const TOP_CALLS = 20;
/** Above this many ranks the matrix is too wide to print: its largest pairs are listed instead. */
const PRINTED_MATRIX_RANKS = 16;

export function profileReport(ranks: readonly RankProfile[], size: number, missing: readonly number[]): string {
  const lines: string[] = [`mpi4ts profile (--profile): ${ranks.length} of ${size} rank(s)` +
    (missing.length > 0 ? `; nothing came from rank(s) ${missing.join(', ')}` : '')];
  lines.push('', 'Time per rank (wall: from the rank\'s start to its end; MPI: inside at least one MPI call)');
  const timeRows = ranks.map(({ rank, host, profile }) => [String(rank), host, seconds(profile.wallMicros), seconds(profile.mpiMicros), percent(profile.mpiMicros, profile.wallMicros)]);
  const wall = sum(ranks.map((r) => r.profile.wallMicros));
  const mpi = sum(ranks.map((r) => r.profile.mpiMicros));
  timeRows.push(['all', '', seconds(wall), seconds(mpi), percent(mpi, wall)]);
  lines.push(...table(['rank', 'host', 'wall s', 'MPI s', 'MPI %'], timeRows, [true, false, true, true, true]));

  const calls = new Map<string, [number, number]>();
  for (const { profile } of ranks) {
    for (const [name, [count, micros]] of Object.entries(profile.calls)) {
      const total = calls.get(name) ?? [0, 0];
      calls.set(name, [total[0] + count, total[1] + micros]);
    }
  }
  const byTime = [...calls].sort((a, b) => b[1][1] - a[1][1]);
  lines.push('', `Calls by time, all ranks${byTime.length > TOP_CALLS ? ` (top ${TOP_CALLS})` : ''}`);
  const callRows = byTime.slice(0, TOP_CALLS).map(([name, [count, micros]]) => [
    name, String(count), (micros / 1000).toFixed(3), (micros / count).toFixed(1), percent(micros, wall), percent(micros, mpi),
  ]);
  if (byTime.length > TOP_CALLS) {
    const rest = byTime.slice(TOP_CALLS);
    const micros = sum(rest.map(([, c]) => c[1]));
    callRows.push([`(${rest.length} more)`, String(sum(rest.map(([, c]) => c[0]))), (micros / 1000).toFixed(3), '', percent(micros, wall), percent(micros, mpi)]);
  }
  lines.push(...(callRows.length === 0 ? ['  (no MPI calls)'] : table(['call', 'calls', 'total ms', 'mean us', 'app %', 'MPI %'], callRows, [false, true, true, true, true, true])));

  const sizes: number[] = [];
  for (const { profile } of ranks) profile.sizes.forEach((n, k) => { sizes[k] = (sizes[k] ?? 0) + n; });
  lines.push('', 'Messages sent by size, all ranks (collectives\' own messages included)');
  const most = Math.max(0, ...sizes.map((n) => n ?? 0));
  const sizeRows = sizes.flatMap((n, k) => (n === undefined || n === 0 ? [] : [[bucketLabel(k), String(n), '#'.repeat(Math.max(1, Math.round((n / most) * 40)))]]));
  lines.push(...(sizeRows.length === 0 ? ['  (no messages)'] : table(['bytes', 'messages', ''], sizeRows, [false, true, false])));

  lines.push('', 'Communication matrix, bytes sent (row: from rank, column: to rank)');
  const matrix = matrixOf(ranks, size);
  if (size <= PRINTED_MATRIX_RANKS) {
    const rows = matrix.map((row, from) => [String(from), ...row.map((b, to) => (from === to && b === 0 ? '-' : bytesText(b)))]);
    lines.push(...table(['', ...matrix.map((_, to) => String(to))], rows, matrix.map(() => true).concat(true)));
  } else {
    const pairs = matrix.flatMap((row, from) => row.map((b, to) => [from, to, b] as const)).filter(([, , b]) => b > 0).sort((a, b) => b[2] - a[2]);
    lines.push(`  ${size} ranks: the ${Math.min(20, pairs.length)} busiest pairs (--profile=FILE.svg draws the whole matrix)`);
    lines.push(...table(['from', 'to', 'bytes'], pairs.slice(0, 20).map(([from, to, b]) => [String(from), String(to), bytesText(b)]), [true, true, true]));
  }
  return `${lines.join('\n')}\n`;
}

/** bytes[from][to] over the ranks that reported. */
export function matrixOf(ranks: readonly RankProfile[], size: number): number[][] {
  const matrix = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  for (const { rank, profile } of ranks) profile.bytesTo.forEach((b, to) => { matrix[rank]![to] = b; });
  return matrix;
}

/** The communication matrix as a heat map: a cell per (from, to), darker for more bytes (log scale), each with its figures as a tooltip. */
export function matrixSvg(ranks: readonly RankProfile[], size: number): string {
  const matrix = matrixOf(ranks, size);
  const messages = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  for (const { rank, profile } of ranks) profile.messagesTo.forEach((n, to) => { messages[rank]![to] = n; });
  const cell = Math.max(2, Math.min(40, Math.floor(640 / Math.max(1, size))));
  const margin = 60;
  const side = cell * size;
  const largest = Math.max(0, ...matrix.flat());
  const shade = (bytes: number): string => {
    if (bytes === 0) return '#ffffff';
    // log scale from 1 byte to the largest pair: light to dark blue.
    const t = largest <= 1 ? 1 : Math.log(bytes) / Math.log(largest);
    const mix = (a: number, b: number): number => Math.round(a + (b - a) * t);
    return `rgb(${mix(222, 8)},${mix(235, 48)},${mix(247, 107)})`;
  };
  const width = Math.max(side + margin * 2, 620);
  const legendY = margin + side + 24;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${legendY + 40}" font-family="sans-serif" font-size="12">`,
    `<text x="${margin}" y="20" font-size="14">Bytes sent, row: from rank, column: to rank (${size} ranks; darkest ${escapeXml(bytesText(largest))})</text>`,
  ];
  for (let from = 0; from < size; from++) {
    for (let to = 0; to < size; to++) {
      const b = matrix[from]![to]!;
      parts.push(`<rect x="${margin + to * cell}" y="${margin + from * cell}" width="${cell}" height="${cell}" fill="${shade(b)}" stroke="#ccc" stroke-width="${cell > 4 ? 0.5 : 0}">` +
        `<title>rank ${from} to rank ${to}: ${b} bytes in ${messages[from]![to]} message(s)</title></rect>`);
    }
  }
  if (size <= 32) {
    for (let r = 0; r < size; r++) {
      parts.push(`<text x="${margin - 6}" y="${margin + r * cell + cell / 2 + 4}" text-anchor="end">${r}</text>`);
      parts.push(`<text x="${margin + r * cell + cell / 2}" y="${margin - 6}" text-anchor="middle">${r}</text>`);
    }
  }
  // The legend: the scale's shades at 1 byte, the largest pair, and three steps between (log scale).
  parts.push(`<text x="${margin}" y="${legendY}">bytes:</text>`);
  const steps = largest <= 1 ? [largest] : [0, 0.25, 0.5, 0.75, 1].map((t) => Math.round(largest ** t));
  steps.forEach((b, i) => {
    const x = margin + 50 + i * 100;
    parts.push(`<rect x="${x}" y="${legendY - 12}" width="16" height="16" fill="${shade(b)}" stroke="#ccc"/>`);
    parts.push(`<text x="${x + 22}" y="${legendY}">${escapeXml(bytesText(b))}</text>`);
  });
  parts.push('</svg>', '');
  return parts.join('\n');
}

function bucketLabel(k: number): string {
  if (k === 0) return '0';
  const low = 2 ** (k - 1);
  const high = 2 ** k - 1;
  return low === high ? bytesText(low) : `${bytesText(low)} - ${bytesText(high)}`;
}

function bytesText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

function seconds(micros: number): string {
  return (micros / 1e6).toFixed(3);
}

function percent(part: number, whole: number): string {
  return whole > 0 ? ((100 * part) / whole).toFixed(1) : '-';
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** Columns padded to their widest cell; `right[i]`: column i is aligned right (numbers). */
function table(head: readonly string[], rows: readonly string[][], right: readonly boolean[]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => `  ${cells.map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ')}`.trimEnd();
  return [line(head), ...rows.map(line)];
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
