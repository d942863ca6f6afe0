/**
 * `ports`: a listener on each host within --port-range, and from each host a
 * connection to every other host's listener, all at once, each with a 2 s
 * connect time-out. A firewall that drops shows as a time-out, one that
 * rejects as ECONNREFUSED or EHOSTUNREACH; each failing pair is named.
 * Hosts are dialled at the address the launcher resolved for them, as ranks
 * dial each other at the addresses they published, never by name: a host
 * that cannot resolve another's name is the `resolve` check's failure, not a
 * closed port on the other.
 */
import { fail, ok, type Check } from './check.js';
import type { Runner } from './runner.js';

/** Listens on the first free port of [lo, hi] (0-0: any), prints {"port"} or {"error"}, exits when stdin ends. */
export const LISTENER = String.raw`
const net = require('net'); const r = JSON.parse(process.argv[1]); let port = r[0];
const server = net.createServer(function (c) { c.end(); });
function listen() {
  server.once('error', function (e) {
    if (port < r[1]) { port++; listen(); } else { process.stdout.write(JSON.stringify({ error: e.code || String(e) }) + '\n'); process.exit(1); }
  });
  server.listen(port, function () { process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n'); });
}
listen();
process.stdin.resume(); process.stdin.on('end', function () { process.exit(0); });
setTimeout(function () { process.exit(0); }, 60000).unref();
`;

/**
 * Connects to each {to, port}, prints [{"to", "error"}] (error null when it connected). A time-out is
 * tried once more: a firewall that drops drops again, while a host too loaded to answer in time (a
 * 2-core machine running dozens of probes) answers the second time.
 */
export const CONNECTOR = String.raw`
const net = require('net'); const targets = JSON.parse(process.argv[1]); const ms = Number(process.argv[2]);
function attempt(t, triesLeft) {
  return new Promise(function (resolve) {
    const s = net.connect({ host: t.to, port: t.port });
    let connected = false;
    // A timer runs before the poll for I/O in a turn of the loop: on a loaded host it may fire with the
    // connection already up but not yet read. Judge in the check phase, after that poll.
    const timer = setTimeout(function () { setImmediate(function () { if (!connected) { s.destroy(); resolve('ETIMEDOUT'); } }); }, ms);
    s.once('connect', function () { connected = true; clearTimeout(timer); s.destroy(); resolve(null); });
    s.once('error', function (e) { clearTimeout(timer); resolve(e.code || String(e)); });
  }).then(function (error) { return error === 'ETIMEDOUT' && triesLeft > 0 ? attempt(t, triesLeft - 1) : error; });
}
Promise.all(targets.map(function (t) {
  return attempt(t, 1).then(function (error) { return { to: t.to, error: error }; });
})).then(function (list) { process.stdout.write(JSON.stringify(list) + '\n'); });
`;

export const CONNECT_TIMEOUT_MS = 2000;

export interface PortHost {
  name: string;
  /** Where the others dial it: the launcher's address for it (its name when the launcher has none). */
  address: string;
  local: boolean;
  node: string;
}

interface Reach {
  to: string;
  error: string | null;
}

/** One `ports` row per host: whether it could listen, and who could not reach it. */
export async function portsChecks(hosts: PortHost[], runner: Runner, portRange: [number, number] | null): Promise<Check[]> {
  const range = portRange ?? [0, 0];
  const rangeText = portRange === null ? 'any port' : `ports ${portRange[0]}-${portRange[1]}`;
  const sessions = hosts.map((h) => runner.open(h.name, [h.node, '-e', LISTENER, JSON.stringify(range)], { local: h.local }));
  try {
    const ports = await Promise.all(sessions.map(async (s) => parseListen(await s.firstLine)));
    const listening = hosts.flatMap((h, i) => (typeof ports[i] === 'number' ? [{ to: h.address, name: h.name, port: ports[i] }] : []));
    // With one host it dials itself: that still shows whether it can listen and be reached.
    const reaches = await Promise.all(hosts.map(async (h) => {
      const targets = listening.filter((t) => t.name !== h.name || hosts.length === 1);
      if (targets.length === 0) return [];
      const r = await runner.exec(h.name, [h.node, '-e', CONNECTOR, JSON.stringify(targets), String(CONNECT_TIMEOUT_MS)],
        { timeoutMs: 2 * CONNECT_TIMEOUT_MS + 15_000, local: h.local });
      return parseReach(r.stdout) ?? targets.map((t) => ({ to: t.to, error: `no answer from the probe (${r.stderr.trim() || `exit ${r.code}`})` }));
    }));
    return hosts.map((h, i) => {
      const port = ports[i];
      if (typeof port !== 'number') {
        return fail(h.name, 'ports', `cannot listen on ${rangeText} on ${h.name}: ${port}`,
          `ranks listen in this range; free a port in it or give a wider --port-range LO-HI`);
      }
      const failures = hosts.flatMap((from, j) => (reaches[j] ?? []).filter((r) => r.to === h.address && r.error !== null)
        .map((r) => `${from.name} -> ${h.name}${h.address === h.name ? '' : ` (${h.address})`}:${port} ${describe(r.error!)}`));
      if (failures.length === 0) return ok(h.name, 'ports', `listened on ${port}; ${hosts.length === 1 ? 'reachable from itself' : 'every other host connected'}`);
      const range2 = portRange === null ? '1024:65535' : `${portRange[0]}:${portRange[1]}`;
      return fail(h.name, 'ports', failures.join('; '),
        `ranks connect to each other on these ports, so the job would hang at start-up or fail; open them on ${h.name}: ` +
        `sudo ufw allow ${range2}/tcp (or sudo firewall-cmd --add-port=${range2.replace(':', '-')}/tcp --permanent && sudo firewall-cmd --reload), ` +
        `and run with --port-range${portRange === null ? ' LO-HI to keep the job inside the opened range' : ` ${portRange[0]}-${portRange[1]}`}`);
    });
  } finally {
    for (const s of sessions) s.close();
  }
}

function describe(error: string): string {
  if (error === 'ETIMEDOUT') return `timed out twice after ${CONNECT_TIMEOUT_MS / 1000} s (a firewall drops it)`;
  if (error === 'ECONNREFUSED') return 'refused (ECONNREFUSED: a firewall rejects it, or the address is another machine)';
  if (error === 'EHOSTUNREACH') return 'unreachable (EHOSTUNREACH: a firewall rejects it, or no route)';
  return `failed (${error})`;
}

function parseListen(line: string | null): number | string {
  if (line === null) return 'the listener did not start';
  try {
    const value = JSON.parse(line) as { port?: number; error?: string };
    return value.port ?? value.error ?? 'no port';
  } catch {
    return `unexpected output "${line}"`;
  }
}

function parseReach(stdout: string): Reach[] | null {
  try {
    const value = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as unknown;
    return Array.isArray(value) ? (value as Reach[]) : null;
  } catch {
    return null;
  }
}
