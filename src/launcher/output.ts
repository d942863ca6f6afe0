/**
 * Forwards a rank's stdout or stderr line by line, so lines of two ranks are
 * never mixed within one line, to the terminal and/or a file of its own
 * (--output-filename, -outfile-pattern). Each line can be prefixed:
 * `--timestamp-output` with the time it reached the launcher, `--tag-output`
 * with `[rank] `.
 *
 * Without a prefix a piece that ends in a carriage return goes on at once
 * too: it is a line drawn in place (a progress line, `mpi4ts bench`'s on a
 * terminal), which would otherwise wait for the rank's next newline. The
 * bytes are the same either way; only when they leave changes. With a
 * prefix a carriage return stays inside its line, whose prefix comes once.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Readable, Writable } from 'node:stream';

/** The prefix of the lines of one chunk: the same for all of them, which arrived together. */
export type LinePrefix = () => string;

export function forwardLines(from: Readable, to: Writable | Writable[], prefix: string | LinePrefix): Promise<void> {
  const targets = Array.isArray(to) ? to : [to];
  const prefixOf = typeof prefix === 'string' ? () => prefix : prefix;
  const write = (text: string): void => {
    for (const target of targets) target.write(text);
  };
  let partial = '';
  from.setEncoding('utf8');
  from.on('data', (chunk: string) => {
    const text = partial + chunk;
    const end = prefix === '' ? Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r')) : text.lastIndexOf('\n');
    if (end < 0) {
      partial = text;
      return;
    }
    partial = text.slice(end + 1);
    const lines = text.slice(0, end + 1);
    const before = prefixOf();
    write(before === '' ? lines : lines.split('\n').slice(0, -1).map((line) => `${before}${line}\n`).join(''));
  });
  return new Promise((resolve) => {
    const finish = (): void => {
      if (partial !== '') write(`${prefixOf()}${partial}\n`);
      partial = '';
      resolve();
    };
    from.once('end', finish);
    from.once('error', finish);
  });
}

/** Where one stream of a rank goes: a file (made with its folders), the terminal, or both. */
export interface OutputRoute {
  file: string | null;
  terminal: boolean;
}

/** A file a rank's stream is written to, opened with its folders; errors (a full disk) end up in `onError`, once. */
export function openOutputFile(path: string, onError: (err: Error) => void): Writable {
  mkdirSync(dirname(path), { recursive: true });
  const file = createWriteStream(path);
  file.once('error', onError);
  return file;
}

/** Local time with milliseconds, as --timestamp-output prints it: "[2026-12-02 15:04:05.123] ". */
export function timestampPrefix(now = new Date()): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `[${now.getFullYear()}-${two(now.getMonth() + 1)}-${two(now.getDate())} ` +
    `${two(now.getHours())}:${two(now.getMinutes())}:${two(now.getSeconds())}.${String(now.getMilliseconds()).padStart(3, '0')}] `;
}

/**
 * Hydra's -outfile-pattern / -errfile-pattern: %r the rank, %h its host, %g
 * the process group (0: one job), %p the host's index among the job's hosts,
 * %% a percent sign.
 */
export function expandPattern(pattern: string, rank: number, host: string, hostIndex: number): string {
  const values: Record<string, string> = { r: String(rank), h: host, g: '0', p: String(hostIndex), '%': '%' };
  return pattern.replace(/%(.?)/g, (whole, letter: string) => values[letter] ?? whole);
}

/** What is wrong with a pattern (a % before another letter, or at the end), or null. */
export function patternError(pattern: string): string | null {
  const bad = /%([^rhgp%]|$)/.exec(pattern.replace(/%%/g, ''));
  return bad === null ? null : `"%${bad[1]}" is not one of %r (rank), %h (host), %g (group), %p (host index), %% (a percent sign)`;
}
