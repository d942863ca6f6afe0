/** The doctor's two outputs: a table and a paragraph per problem for people, one JSON document for tools. */
import type { Check, CheckStatus } from './check.js';
import type { DoctorReport } from './doctor.js';

const COLOURS: Record<CheckStatus, string> = { ok: '\x1b[32m', warn: '\x1b[33m', fail: '\x1b[31m' };
const RESET = '\x1b[0m';

export function formatJson(report: DoctorReport): string {
  return `${JSON.stringify({ ok: report.ok, checks: report.checks.map(({ host, check, status, detail, fix }) => ({ host, check, status, detail, fix })) }, null, 2)}\n`;
}

export function formatHuman(report: DoctorReport, colour: boolean): string {
  const hostWidth = Math.max(4, ...report.checks.map((c) => c.host.length));
  const paint = (status: CheckStatus): string => {
    const text = status.toUpperCase().padEnd(4);
    return colour ? `${COLOURS[status]}${text}${RESET}` : text;
  };
  const rows = report.checks.map((c) => `${c.host.padEnd(hostWidth)}  ${c.check.padEnd(8)}  ${paint(c.status)}  ${c.detail}`);
  const header = `${'HOST'.padEnd(hostWidth)}  ${'CHECK'.padEnd(8)}  STAT  DETAIL`;
  const isSkipped = (c: Check): boolean => c.detail.startsWith('skipped: ');
  const problems = report.checks.filter((c) => c.status !== 'ok' && !isSkipped(c)).map(paragraph);
  // Checks that could not run say so once per host, not a paragraph each.
  for (const host of new Set(report.checks.map((c) => c.host))) {
    const skipped = report.checks.filter((c) => c.host === host && isSkipped(c));
    if (skipped.length > 0) problems.push(`SKIP ${skipped.map((c) => c.check).join(', ')} on ${host}: ${skipped[0]!.detail.slice('skipped: '.length)}; fix that first.\n`);
  }
  const skippedCount = report.checks.filter(isSkipped).length;
  const failed = report.checks.filter((c) => c.status === 'fail').length - skippedCount;
  const warned = report.checks.filter((c) => c.status === 'warn').length;
  const counts = [`${failed} check${failed === 1 ? '' : 's'} failed`];
  if (skippedCount > 0) counts.push(`${skippedCount} could not run`);
  if (warned > 0) counts.push(`${warned} warning${warned === 1 ? '' : 's'}`);
  const summary = failed + skippedCount === 0 ? `all checks passed${warned === 0 ? '' : ` (${counts.at(-1)!})`}` : counts.join(', ');
  return [header, ...rows, '', ...problems, summary, ''].join('\n');
}

function paragraph(c: Check): string {
  return `${c.status === 'fail' ? 'FAIL' : 'WARN'} ${c.check} on ${c.host}: ${sentence(c.detail)}\n  ${sentence(c.fix)}\n`;
}

/** `text` ending in one full stop (ssh's own words often end in one already). */
function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}
