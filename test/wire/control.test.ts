import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server } from 'node:net';
import { ControlClient, ControlKind, ControlRegistry, encodeControl, type ControlRegistryEvents, type PeerAddress, type PeerEnd } from '../../src/wire/index.js';

/** A registry on a free loopback port, and what it told its owner. */
async function registry(size: number, key: Buffer, label = 'ctl') {
  const told = { aborts: [] as string[], rejected: [] as string[], lost: [] as number[], peerLost: [] as string[] };
  const events: ControlRegistryEvents = {
    onAbort: (rank, code, message) => told.aborts.push(`${rank}:${code}:${message}`),
    onRejected: (reason) => told.rejected.push(reason),
    onLost: (rank) => told.lost.push(rank),
    onPeerLost: (rank, peer) => told.peerLost.push(`${rank} lost ${peer}`),
  };
  const server = new ControlRegistry(size, key, label, events);
  const port = await server.listen('127.0.0.1', 0);
  return { server, port, told };
}

function address(rank: number): PeerAddress {
  return { rank, host: `h${rank}`, hostId: 'x', tcpHost: '127.0.0.1', tcpPort: 1000 + rank, unixPath: '', pid: 1 };
}

function client(port: number, rank: number, size: number, key: Buffer, lost: string[], label = 'ctl') {
  return ControlClient.connect({
    host: '127.0.0.1', port, rank, size, key, label, server: 'the test server', addressFrom: '', connectForMs: 0,
    proofHint: 'wrong key?', closeHint: '', onLost: (why) => lost.push(`${rank} ${why}`),
  });
}

/** Three ranks past their exchange, each noting the deaths it hears of as "R hears D: words". */
async function watchingDeaths() {
  const key = randomBytes(32);
  const { server, port, told } = await registry(3, key);
  const lost: string[] = [];
  const clients = await Promise.all([0, 1, 2].map((rank) => client(port, rank, 3, key, lost)));
  const deaths: string[] = [];
  clients.forEach((c, rank) => c.watchDeaths((dead: number, words: string) => deaths.push(`${rank} hears ${dead}: ${words}`)));
  await Promise.all(clients.map((c, rank) => c.exchange(address(rank))));
  return { server, told, lost, clients, deaths };
}

const until = async (check: () => boolean, what: string): Promise<void> => {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

test('every rank gets the whole table once all said hello; finalize lets all go together; done notices reach the others', async () => {
  const key = randomBytes(32);
  const { server, port, told } = await registry(3, key);
  const lost: string[] = [];
  const clients = await Promise.all([0, 1, 2].map((rank) => client(port, rank, 3, key, lost)));
  const done: string[] = [];
  clients.forEach((c, rank) => c.watchPeers((peer: number, how: PeerEnd) => done.push(`${rank} hears ${peer} ${how}`)));
  const tables = await Promise.all(clients.map((c, rank) => c.exchange(address(rank))));
  for (const table of tables) assert.deepEqual(table.map((p) => p.tcpPort), [1000, 1001, 1002]);
  let released = 0;
  const finals = clients.slice(0, 2).map((c) => c.finalize().then(() => released++));
  await until(() => done.length === 4, 'done notices');
  assert.deepEqual(done.sort(), ['0 hears 1 finalized', '1 hears 0 finalized', '2 hears 0 finalized', '2 hears 1 finalized']);
  assert.equal(released, 0, 'released before the last rank finalized');
  assert.equal(server.hasFinalized(0), true);
  assert.equal(server.hasFinalized(2), false);
  server.rankExitedCleanly(2);
  await Promise.all(finals);
  for (const c of clients) c.close();
  server.close();
  assert.deepEqual({ ...told, lost }, { aborts: [], rejected: [], lost: [], peerLost: [] });
});

test('a pool worker that died (rankDied) is told to the others with its words, and counts as done for the release', async () => {
  const { server, told, lost, clients, deaths } = await watchingDeaths();
  // Rank 2's process is gone: its connection closes with it.
  clients[2]!.close();
  server.rankDied(2, 'pool worker rank 2 (h2, pid 9) was killed by signal SIGKILL');
  await until(() => deaths.length === 2, 'death notices');
  assert.deepEqual(deaths.sort(), ['0 hears 2: pool worker rank 2 (h2, pid 9) was killed by signal SIGKILL',
    '1 hears 2: pool worker rank 2 (h2, pid 9) was killed by signal SIGKILL']);
  // The two left finalize and are let go without rank 2.
  await Promise.all(clients.slice(0, 2).map((c) => c.finalize()));
  for (const c of clients) c.close();
  server.close();
  assert.deepEqual({ ...told, lost }, { aborts: [], rejected: [], lost: [], peerLost: [] });
});

test('a spawned pool worker that died is told to its parents (the audience) only', async () => {
  const { server, clients, deaths } = await watchingDeaths();
  clients[2]!.close();
  server.rankDied(2, 'pool worker rank 0 of spawned world 1 (h2, pid 9) was killed by signal SIGKILL', [1]);
  await until(() => deaths.length === 1, 'the parent\'s notice');
  // Rank 0 would have heard by now, its line written before rank 1's in a broadcast.
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(deaths, ['1 hears 2: pool worker rank 0 of spawned world 1 (h2, pid 9) was killed by signal SIGKILL']);
  await Promise.all(clients.slice(0, 2).map((c) => c.finalize()));
  for (const c of clients) c.close();
  server.close();
});

test('a wrong key, a proof made for the other label, a replayed or duplicate rank are dropped; the rank waits on', async () => {
  const key = randomBytes(32);
  const { server, port, told } = await registry(2, key, 'rdv');
  const lost: string[] = [];
  const wrongKey = await client(port, 0, 2, randomBytes(32), lost, 'rdv');
  const wrongLabel = await client(port, 0, 2, key, lost, 'ctl');
  void wrongKey.exchange(address(0)).catch(() => {});
  void wrongLabel.exchange(address(0)).catch(() => {});
  await until(() => lost.length === 2, 'both to be dropped');
  assert.deepEqual(told.rejected, ['a connection claiming rank 0 failed the job key proof', 'a connection claiming rank 0 failed the job key proof']);
  assert.deepEqual(lost, ['0 lost its connection to the test server', '0 lost its connection to the test server']);
  const first = await client(port, 0, 2, key, lost, 'rdv');
  void first.exchange(address(0));
  const duplicate = await client(port, 0, 2, key, lost, 'rdv');
  void duplicate.exchange(address(0)).catch(() => {});
  await until(() => told.rejected.length === 3, 'the duplicate');
  assert.equal(told.rejected[2], 'hello from an invalid or duplicate rank 0');
  assert.deepEqual(server.missingRanks(), ['rank 1']);
  first.close();
  server.close();
});

test('strangers: a first byte that is not a JSON object, or a hello line past its bound, are rejected before any proof', async () => {
  const key = randomBytes(32);
  const { server, port, told } = await registry(1, key);
  for (const bytes of [Buffer.from('GET / HTTP/1.1\r\n\r\n'), Buffer.alloc(20_000, 0x7b)]) {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write(bytes);
    await new Promise((resolve) => socket.once('close', resolve));
  }
  assert.equal(told.rejected[0], 'a connection sent something other than a control message');
  assert.equal(told.rejected[1], 'a connection sent more than 16384 bytes before proving the job key');
  server.close();
});

test('abort reaches the owner with its code and message; a proven connection that closes before its release is lost', async () => {
  const key = randomBytes(32);
  const { server, port, told } = await registry(2, key);
  const lost: string[] = [];
  const [a, b] = await Promise.all([client(port, 0, 2, key, lost), client(port, 1, 2, key, lost)]);
  await Promise.all([a.exchange(address(0)), b.exchange(address(1))]);
  a.abort(3, 'bad input on rank 0');
  await until(() => told.aborts.length === 1, 'the abort');
  assert.deepEqual(told.aborts, ['0:3:bad input on rank 0']);
  b.close();
  await until(() => told.lost.length === 1, 'the lost rank');
  assert.deepEqual(told.lost, [1]);
  server.close();
  await until(() => lost.length === 1, 'rank 0 to see the server go');
  assert.deepEqual(lost, ['0 lost its connection to the test server']);
});

test('a rank\'s word that it lost a peer reaches the owner before its own connection\'s close; a bad peer number is rejected', async () => {
  const key = randomBytes(32);
  const { server, port, told } = await registry(3, key);
  const lost: string[] = [];
  const clients = await Promise.all([0, 1, 2].map((rank) => client(port, rank, 3, key, lost)));
  await Promise.all(clients.map((c, rank) => c.exchange(address(rank))));
  const order: string[] = [];
  const [zero, , two] = clients;
  zero!.peerLost(1);
  zero!.peerLost(0);
  zero!.peerLost(7);
  zero!.close();
  await until(() => told.lost.length === 1, 'rank 0 lost');
  order.push(...told.peerLost, ...told.lost.map((r) => `closed ${r}`));
  assert.deepEqual(order, ['0 lost 1', 'closed 0']);
  assert.deepEqual(told.rejected, ['rank 0 said it lost an invalid peer 0', 'rank 0 said it lost an invalid peer 7']);
  // Once its own connection is ended, a rank says nothing more.
  two!.close();
  two!.peerLost(1);
  await until(() => told.lost.length === 2, 'rank 2 lost');
  assert.deepEqual(told.peerLost, ['0 lost 1']);
  server.close();
});

test('a server that sends a table of the wrong size is refused by the client with a JobError', async () => {
  const key = randomBytes(32);
  const { server, port } = await registry(2, key);
  const lost: string[] = [];
  const liar = await ControlClient.connect({
    host: '127.0.0.1', port, rank: 0, size: 3, key, label: 'ctl', server: 'the test server', addressFrom: '', connectForMs: 0,
    proofHint: 'wrong key?', closeHint: '', onLost: (why) => lost.push(why),
  });
  const other = await client(port, 1, 2, key, lost);
  const [refused] = await Promise.allSettled([liar.exchange(address(0)), other.exchange(address(1))]);
  assert.equal(refused.status, 'rejected');
  assert.match(String((refused as PromiseRejectedResult).reason), /JobError: the test server sent 2 addresses for a job of 3 ranks/);
  liar.close();
  other.close();
  server.close();
});

test('a client that cannot connect names the server, its address and where the address came from', async () => {
  const { server, port } = await registry(1, randomBytes(32));
  server.close();
  await assert.rejects(ControlClient.connect({
    host: '127.0.0.1', port, rank: 4, size: 5, key: randomBytes(32), label: 'rdv', server: 'rank 0', addressFrom: 'MPI4TS_RENDEZVOUS',
    connectForMs: 300, proofHint: '', closeHint: '', onLost: () => {},
  }), { name: 'JobError', message: new RegExp(`^rank 4 cannot reach rank 0 at 127\\.0\\.0\\.1:${port} \\(MPI4TS_RENDEZVOUS\\) within 0\\.3 s: connect ECONNREFUSED`) });
});

/** A server that answers each hello line with `reply(line)` (a liar, or one that goes away), on a free port. */
async function fakeServer(reply: (socket: import('node:net').Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', () => reply(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as import('node:net').AddressInfo).port };
}

test('a server whose own proof fails is refused with a JobError naming it, its address and the likely cause', async () => {
  const table = [address(0)];
  const { server, port } = await fakeServer((socket) => socket.write(encodeControl({ t: ControlKind.WELCOME, proof: '00'.repeat(32), table })));
  const client = await ControlClient.connect({
    host: '127.0.0.1', port, rank: 0, size: 1, key: randomBytes(32), label: 'rdv', server: 'rank 0', addressFrom: 'MPI4TS_RENDEZVOUS', connectForMs: 0,
    proofHint: 'is MPI4TS_KEY the same on every rank?', closeHint: '', onLost: () => {},
  });
  await assert.rejects(client.exchange(address(0)), {
    name: 'JobError', message: `rank 0 at 127.0.0.1:${port} failed the job key proof: is MPI4TS_KEY the same on every rank?`,
  });
  client.close();
  server.close();
});

test('a server that goes away right after "finalized" is no loss; one that goes before is, with the close hint', async () => {
  const key = randomBytes(32);
  const { server, port } = await registry(1, key, 'rdv');
  const lost: string[] = [];
  const options = (hint: string) => ({
    host: '127.0.0.1', port, rank: 0, size: 1, key, label: 'rdv', server: 'rank 0', addressFrom: '', connectForMs: 0,
    proofHint: '', closeHint: hint, onLost: (why: string) => lost.push(why),
  });
  const client = await ControlClient.connect(options(''));
  await client.exchange(address(0));
  await client.finalize();
  server.close();
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(lost, []);
  const again = await registry(1, key, 'rdv');
  const early = await ControlClient.connect({ ...options('(the job was ended, or rank 0 died)'), port: again.port });
  await early.exchange(address(0));
  again.server.close();
  await until(() => lost.length === 1, 'the loss');
  assert.deepEqual(lost, ['lost its connection to rank 0 (the job was ended, or rank 0 died)']);
});

test('once listening, a failed accept (EMFILE) is reported, not thrown', async () => {
  const { server, told } = await registry(1, randomBytes(32));
  const inner = (server as unknown as { server: Server }).server;
  inner.emit('error', Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' }));
  assert.deepEqual(told.rejected, ['control server: accept EMFILE']);
  server.close();
});

test('spawn: a request reaches the registry\'s owner, a block added for it is welcomed only when told, with its parents\' addresses', async () => {
  const key = randomBytes(32);
  const requests: string[] = [];
  const arrived: number[][] = [];
  const events: ControlRegistryEvents = {
    onAbort: () => {}, onRejected: (reason) => assert.fail(reason), onLost: () => {},
    onSpawn: (rank, request) => requests.push(`${rank}:${request.id}:${request.commands.length}`),
    onBlockArrived: (base, addresses) => arrived.push([base, ...addresses.map((a) => a.rank)]),
  };
  const server = new ControlRegistry(2, key, 'ctl', events);
  const port = await server.listen('127.0.0.1', 0);
  const lost: string[] = [];
  const parents = await Promise.all([0, 1].map((rank) => client(port, rank, 2, key, lost)));
  await Promise.all(parents.map((c, rank) => c.exchange(address(rank))));
  const reply = parents[0]!.spawn({ id: 7, commands: [{ script: 'w.ts', path: '/w.ts', args: [], maxprocs: 2, env: {}, hosts: [] }],
    parentGroup: [0, 1], context: 3, cwd: '/' });
  await until(() => requests.length === 1, 'the request');
  assert.deepEqual(requests, ['0:7:1']);
  assert.equal(server.addBlock(2, { group: [0, 1], context: 3 }), 2);
  // Children: universe indices 2 and 3 of a universe of 4 they know.
  const children = await Promise.all([2, 3].map((rank) => client(port, rank, 4, key, lost)));
  let welcomed = 0;
  const tables = children.map((c, i) => c.exchange(address(2 + i)).then((t) => { welcomed++; return t; }));
  await until(() => arrived.length === 1, 'the block');
  assert.deepEqual(arrived, [[2, 2, 3]]);
  server.replySpawn(0, { id: 7, base: 2, table: [address(2), address(3)] });
  assert.deepEqual(await reply, { id: 7, base: 2, table: [address(2), address(3)] });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(welcomed, 0, 'welcomed before spawn-go');
  server.welcomeBlock(2);
  for (const [i, table] of (await Promise.all(tables)).entries()) {
    assert.deepEqual(Object.keys(table).map(Number), [0, 1, 2, 3]);
    assert.deepEqual(children[i]!.parent, { group: [0, 1], context: 3 });
  }
  assert.equal(parents[0]!.parent, null);
  for (const c of [...parents, ...children]) c.close();
  server.close();
  assert.deepEqual(lost, []);
});

test('spawn under a registry that cannot (a rendezvous) is answered at once with the reason', async () => {
  const key = randomBytes(32);
  const { server, port } = await registry(1, key, 'rdv');
  const lost: string[] = [];
  const only = await client(port, 0, 1, key, lost, 'rdv');
  await only.exchange(address(0));
  const reply = await only.spawn({ id: 1, commands: [], parentGroup: [0], context: 2, cwd: '/' });
  assert.deepEqual(reply, { id: 1, error: 'spawn is not available under a rendezvous (MPI4TS_RENDEZVOUS, srun); use mpi4ts run' });
  only.close();
  server.close();
});
