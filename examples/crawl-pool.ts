// I/O-bound tasks: the pool's workers fetch pages from a web server this
// script starts on 127.0.0.1 (nothing leaves the machine), each page a few
// milliseconds slow to answer; results come as they complete (ordered:
// false), and each is checked against the page the server sent.
// Run it with: npx mpi4ts run -n 4 --pool examples/crawl-pool.ts
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as MPI from 'mpi4ts';

const PAGES = 60;

/** Page i: i kilobytes of a pattern of its own. */
function page(i: number): Buffer {
  return Buffer.alloc(1024 * (i + 1), `page ${i} `);
}

const server = createServer((request, response) => {
  const i = Number(/^\/page\/(\d+)$/.exec(request.url ?? '')?.[1] ?? NaN);
  if (!Number.isInteger(i) || i < 0 || i >= PAGES) {
    response.writeHead(404).end();
    return;
  }
  // A slow server: fetching is waiting, which a worker does for many pages at once only if asked; here, one at a time.
  setTimeout(() => response.writeHead(200, { 'content-type': 'text/plain' }).end(page(i)), 5 + (i % 7));
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const pool = new MPI.PoolExecutor({ module: new URL('./crawl-tasks.ts', import.meta.url) });
await pool.ready();
const urls = Array.from({ length: PAGES }, (_, i) => `${base}/page/${i}`);
const seen = new Set<string>();
const workers = new Set<number>();
let arrivedOutOfOrder = false;
let previous = -1;
for await (const result of pool.map<{ url: string; bytes: number; sha256: string; worker: number }>('fetchPage', urls, { ordered: false })) {
  const i = urls.indexOf(result.url);
  const expected = page(i);
  if (result.bytes !== expected.length || result.sha256 !== createHash('sha256').update(expected).digest('hex')) {
    throw new Error(`${result.url}: got ${result.bytes} bytes, sha256 ${result.sha256}; the server sent ${expected.length}`);
  }
  if (i < previous) arrivedOutOfOrder = true;
  previous = i;
  seen.add(result.url);
  workers.add(result.worker);
}
await pool.shutdown();
server.close();
if (seen.size !== PAGES) throw new Error(`only ${seen.size} of ${PAGES} pages came back`);
console.log(`crawl-pool: ${seen.size} pages fetched by ${workers.size} workers, every checksum right` +
  `${arrivedOutOfOrder ? ' (results came as they completed, not in order)' : ''}`);
