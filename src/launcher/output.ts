/**
 * Forwards a rank's stdout or stderr line by line, so lines of two ranks are
 * never mixed within one line; `--tag-output` prefixes each with `[rank] `.
 * Without a prefix a piece that ends in a carriage return goes on at once
 * too: it is a line drawn in place (a progress line, `mpi4ts bench`'s on a
 * terminal), which would otherwise wait for the rank's next newline. The
 * bytes are the same either way; only when they leave changes. With a
 * prefix a carriage return stays inside its line, whose prefix comes once.
 */
import type { Readable, Writable } from 'node:stream';

export function forwardLines(from: Readable, to: Writable, prefix: string): Promise<void> {
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
    to.write(prefix === '' ? lines : lines.split('\n').slice(0, -1).map((line) => `${prefix}${line}\n`).join(''));
  });
  return new Promise((resolve) => {
    const finish = (): void => {
      if (partial !== '') to.write(`${prefix}${partial}\n`);
      partial = '';
      resolve();
    };
    from.once('end', finish);
    from.once('error', finish);
  });
}
