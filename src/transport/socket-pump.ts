/**
 * The socket pump: reads and writes peer sockets from the progress engine's
 * spin, with recv(2) and send(2) through koffi, instead of waiting for a turn
 * of the event loop. It is the engine's Poller for sockets (transport.ts).
 *
 * Reading: libuv only reads a socket after epoll has reported it in a loop
 * turn, which costs several microseconds a message even when the loop never
 * sleeps. Measured on this 2-core VM, 8-byte ping-pong over TCP loopback:
 * Node's sockets with a busy loop 9.7-12.5 us a half round trip, recv/send
 * through koffi 5.4-6.2 us.
 *
 * Both readers feed the same frame reader, each with the bytes it read, and
 * both run on the main thread, so the stream stays in order whichever reads
 * first; libuv just finds nothing to read (EAGAIN) when the spin was quicker.
 * Before every read the socket must still own its descriptor: a socket that
 * Node has destroyed may have closed it, and the number may already belong
 * to another file.
 *
 * Writing: a small frame goes out by one send(2) when Node has nothing queued
 * on the socket (sendDirect), and before each slice of the spin the engine
 * calls flush, which has the transport write out what it corked (onFlush):
 * the spin holds the thread, so a write left to the end of the tick waits.
 *
 * Switch: MPI4TS_SOCKET_POLL=0 (or MPI4TS_DIRECT_READ=0) runs no pump: libuv
 * and Node's streams do all the reading and writing.
 *
 * # Unfinished features
 * - Linux only: the flag values (MSG_DONTWAIT, MSG_NOSIGNAL, POLL*) are
 *   Linux's, and libc is opened by name (base/native.ts); elsewhere libuv does
 *   all the reading and writing.
 * - No epoll of its own: poll(2) over every polled socket on each spin, so
 *   its cost grows with the number of socket peers (fine for tens, not for
 *   thousands).
 */
import type { Socket } from 'node:net';
import type { Poller } from './transport.js';
import { copyInto, loadOnce, openLibc } from '../base/index.js';
import { encodeHeaderInto, HEADER_BYTES, type FrameHeader } from './frame.js';

const MSG_DONTWAIT = 0x40;
/** No SIGPIPE on a peer that has gone: the call fails with EPIPE, and libuv reports the loss. */
const MSG_NOSIGNAL = 0x4000;
/** Frames up to this size (header and payload) may be sent by one send(2) of a copy. */
const DIRECT_SEND_MAX_BYTES = 16 * 1024;
const POLLIN = 0x1;
const POLLERR = 0x8;
const POLLHUP = 0x10;
/** The descriptor is not open (Node closed it): the entry is dropped by readFrom's check. */
const POLLNVAL = 0x20;

/** The libc calls the pump makes. */
export interface SocketLib {
  /** recv(fd, buf, len, MSG_DONTWAIT): bytes read, 0 at end of stream, -1 when none are waiting (or on error). */
  recv(fd: number, into: Uint8Array): number;
  /** send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL): bytes written, or -1 when none could be (or on error). */
  send(fd: number, bytes: Uint8Array): number;
  /** poll(fds, n, 0) over `pollfds` (struct pollfd[]: int fd, short events, short revents). */
  poll(pollfds: Int32Array, count: number): number;
  yieldCpu(): void;
}

/** One connection whose frames the spin reads. */
export interface PolledConnection {
  readonly socket: Socket;
  /** Where the next bytes go (the frame reader's choice). */
  target(): Uint8Array;
  /** `count` bytes were read into `target`. */
  delivered(target: Uint8Array, count: number): void;
}

interface Entry {
  connection: PolledConnection;
  fd: number;
}

/** libc's recv and poll through koffi, or why they are not available here. */
export const loadSocketLib = loadOnce(bindSocketLib);

function bindSocketLib(): SocketLib {
  const { libc, yieldCpu } = openLibc('polling sockets directly');
  const recv = libc.func('intptr_t recv(int fd, void *buf, size_t n, int flags)');
  const send = libc.func('intptr_t send(int fd, void *buf, size_t n, int flags)');
  const poll = libc.func('int poll(void *fds, unsigned long nfds, int timeout)');
  return {
    recv: (fd, into) => Number(recv(fd, into, into.length, MSG_DONTWAIT)),
    send: (fd, bytes) => Number(send(fd, bytes, bytes.length, MSG_DONTWAIT | MSG_NOSIGNAL)),
    poll: (pollfds, count) => poll(pollfds, count, 0) as number,
    yieldCpu,
  };
}

/** The descriptor a Node socket owns now, or -1 once it has none. */
export function descriptorOf(socket: Socket): number {
  if (socket.destroyed) return -1;
  const handle = (socket as unknown as { _handle: { fd?: number } | null })._handle;
  const fd = handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : -1;
}

/** What a pump calls back: its socket transport's flush, and its owner at the first connection. */
export interface SocketPumpHooks {
  flush: () => void;
  onFirstConnection: (pump: SocketPump) => void;
}

/** Reads and writes peer sockets from the progress engine's spin (see the top of this file). */
export class SocketPump implements Poller {
  private entries: Entry[] = [];
  /** struct pollfd for each entry, rebuilt when the entries change. */
  private pollfds = new Int32Array(0);
  /** The same memory as shorts: events and revents of entry i at 4i+2 and 4i+3. */
  private pollShorts = new Int16Array(0);

  /** What the transport writes out before a spin (its corked sockets). */
  private readonly flushWrites: () => void;

  /** Runs once, at the first connection: the progress engine starts polling this pump then. */
  private activate: (() => void) | null;

  /**
   * `hooks.flush` writes out what the socket transport holds back until the
   * end of the tick (its corked sockets). `hooks.onFirstConnection` runs when
   * the first connection is added: a job whose peers are all reached through
   * shared memory never polls sockets, and its spin then pays nothing for
   * this pump.
   */
  constructor(private readonly lib: SocketLib, hooks: SocketPumpHooks) {
    this.flushWrites = hooks.flush;
    this.activate = () => hooks.onFirstConnection(this);
  }

  flush(): void {
    this.flushWrites();
  }

  /** Reads `connection` from now on, for as long as its socket owns its descriptor. */
  add(connection: PolledConnection): void {
    const fd = descriptorOf(connection.socket);
    if (fd < 0) return;
    this.entries.push({ connection, fd });
    this.rebuild();
    const activate = this.activate;
    this.activate = null;
    activate?.();
  }

  get size(): number {
    return this.entries.length;
  }

  poll(): boolean {
    const entries = this.entries;
    if (entries.length === 0) return false;
    // One connection: a recv costs what asking poll() would.
    if (entries.length === 1) return this.readFrom(entries[0]!);
    if (this.lib.poll(this.pollfds, entries.length) <= 0) return false;
    let moved = false;
    // Backwards: a read may drop an entry.
    for (let i = entries.length - 1; i >= 0; i--) {
      if ((this.pollShorts[i * 4 + 3]! & (POLLIN | POLLERR | POLLHUP | POLLNVAL)) !== 0) moved = this.readFrom(entries[i]!) || moved;
    }
    return moved;
  }

  /**
   * Sends a small frame with one send(2) when Node has nothing queued on the
   * socket (so the byte order cannot change), skipping the stream machinery
   * and the end-of-tick writev. Returns how many bytes went: all, some (the
   * caller writes the rest through Node), or 0 (the caller writes it all).
   */
  sendDirect(socket: Socket, header: FrameHeader, payload: Uint8Array | null): number {
    const total = HEADER_BYTES + (payload?.length ?? 0);
    if (total > DIRECT_SEND_MAX_BYTES || socket.writableLength !== 0) return 0;
    const fd = descriptorOf(socket);
    if (fd < 0) return 0;
    // The header is encoded straight into the frame: no Buffer of its own per message.
    encodeHeaderInto(header, this.sendScratch, 0);
    if (payload !== null) copyInto(this.sendScratch, payload, HEADER_BYTES);
    return Math.max(0, this.lib.send(fd, this.sendScratch.subarray(0, total)));
  }

  /** The frame being sent by sendDirect (a copy: one syscall for header and payload). */
  readonly sendScratch = new Uint8Array(DIRECT_SEND_MAX_BYTES);

  /** Sockets wake the event loop themselves: nothing to announce. */
  setAsleep(): void {}

  idle(): void {
    this.lib.yieldCpu();
  }

  /** One read; true if it brought bytes. End of stream and errors are left to libuv, which reports them. */
  private readFrom(entry: Entry): boolean {
    const { connection, fd } = entry;
    if (descriptorOf(connection.socket) !== fd) {
      this.drop(entry);
      return false;
    }
    const target = connection.target();
    const count = this.lib.recv(fd, target);
    if (count > 0) {
      connection.delivered(target, count);
      return true;
    }
    // 0: the peer closed. -1 with anything but EAGAIN: a broken connection. libuv sees both too.
    if (count === 0) this.drop(entry);
    return false;
  }

  private drop(entry: Entry): void {
    this.entries = this.entries.filter((e) => e !== entry);
    this.rebuild();
  }

  private rebuild(): void {
    const pollfds = new Int32Array(this.entries.length * 2);
    const shorts = new Int16Array(pollfds.buffer);
    this.entries.forEach((entry, i) => {
      pollfds[i * 2] = entry.fd;
      shorts[i * 4 + 2] = POLLIN;
    });
    this.pollfds = pollfds;
    this.pollShorts = shorts;
  }
}
