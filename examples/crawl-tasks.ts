// The task of examples/crawl-pool.ts: fetch a page, say how long it is and its checksum.
import { createHash } from 'node:crypto';

export async function fetchPage(url: string): Promise<{ url: string; bytes: number; sha256: string; worker: number }> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const body = Buffer.from(await response.arrayBuffer());
  return { url, bytes: body.length, sha256: createHash('sha256').update(body).digest('hex'), worker: process.pid };
}
