"""OSU latency / bw / bibw with mpi4py, the reference mpi4ts is compared with.

Same method as mpi4ts bench (and OSU): a barrier before each size, untimed
warm-up, latency = half the round trip, bw = window of non-blocking sends
then a 4-byte acknowledgement, bibw = a window each way. Two paths:
  buffer: Send/Recv of a bytearray (Recv into a preallocated buffer)
  pickle: send/recv of {'bytes': bytes(size)}, the counterpart of mpi4ts's
          object path ({ bytes: Uint8Array })
Run: mpiexec -n 2 python3 bench/osu_mpi4py.py latency --mode buffer -m 8:8 --json
"""
import argparse
import json
import sys

from mpi4py import MPI

LARGE = 8192
DEFAULTS = {
    'latency': ((10000, 100), (1000, 10)),
    'bw': ((100, 10), (20, 2)),
    'bibw': ((100, 10), (20, 2)),
}
TITLES = {
    'latency': 'OSU MPI Latency Test',
    'bw': 'OSU MPI Bandwidth Test',
    'bibw': 'OSU MPI Bi-Directional Bandwidth Test',
}


def sizes(text):
    low, _, high = text.partition(':')
    low, high = int(low), int(high)
    size = low
    while size <= high:
        yield size
        size = size * 2 if size else 1


def loops(test, size, iterations, warmup):
    small, large = DEFAULTS[test]
    default = large if size > LARGE else small
    return (iterations or default[0], default[1] if warmup is None else warmup)


def latency(comm, size, mode, iterations, warmup):
    peer = 1 - comm.rank
    if mode == 'buffer':
        out, into = bytearray(size), bytearray(size)
        send = lambda: comm.Send([out, MPI.BYTE], peer, 1)
        recv = lambda: comm.Recv([into, MPI.BYTE], peer, 1)
    else:
        value = {'bytes': bytes(size)}
        send = lambda: comm.send(value, peer, 1)
        recv = lambda: comm.recv(source=peer, tag=1)
    start = MPI.Wtime()
    for i in range(iterations + warmup):
        if i == warmup:
            start = MPI.Wtime()
        if comm.rank == 0:
            send()
            recv()
        else:
            recv()
            send()
    return (MPI.Wtime() - start) * 1e6 / (2 * iterations)


def bandwidth(comm, size, mode, iterations, warmup, window, both):
    peer = 1 - comm.rank
    out, into, ack = bytearray(size), bytearray(size), bytearray(4)
    value = {'bytes': bytes(size)}

    def sends(tag):
        if mode == 'buffer':
            return [comm.Isend([out, MPI.BYTE], peer, tag) for _ in range(window)]
        return [comm.isend(value, peer, tag) for _ in range(window)]

    def receive_window(tag):
        if mode == 'buffer':
            MPI.Request.Waitall([comm.Irecv([into, MPI.BYTE], peer, tag) for _ in range(window)])
        else:
            # mpi4py 3's irecv of a pickle needs a buffer as large as the message;
            # blocking receives in turn are what a pickle user writes.
            for _ in range(window):
                comm.recv(source=peer, tag=tag)

    start = MPI.Wtime()
    for i in range(iterations + warmup):
        if i == warmup:
            start = MPI.Wtime()
        if both:
            recv_tag, send_tag = (10, 100) if comm.rank == 0 else (100, 10)
            if mode == 'buffer':
                receives = [comm.Irecv([into, MPI.BYTE], peer, recv_tag) for _ in range(window)]
                MPI.Request.Waitall(sends(send_tag) + receives)
            else:
                pending = sends(send_tag)
                receive_window(recv_tag)
                MPI.Request.waitall(pending)
        elif comm.rank == 0:
            reqs = sends(100)
            (MPI.Request.Waitall if mode == 'buffer' else MPI.Request.waitall)(reqs)
            comm.Recv([ack, MPI.BYTE], peer, 101)
        else:
            receive_window(100)
            comm.Send([ack, MPI.BYTE], peer, 101)
    seconds = MPI.Wtime() - start
    return size * iterations * window * (2 if both else 1) / 1e6 / seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('test', choices=sorted(TITLES))
    parser.add_argument('--mode', choices=['buffer', 'pickle'], default='buffer')
    parser.add_argument('-m', default=None, help='MIN:MAX bytes')
    parser.add_argument('-i', type=int, default=None, help='iterations')
    parser.add_argument('-x', type=int, default=None, help='warm-up iterations')
    parser.add_argument('-W', type=int, default=64, help='window for bw/bibw')
    parser.add_argument('--json', action='store_true')
    args = parser.parse_args()
    comm = MPI.COMM_WORLD
    if comm.size != 2:
        if comm.rank == 0:
            print(f'{args.test} runs on exactly 2 ranks, got {comm.size}', file=sys.stderr)
        sys.exit(2)
    span = args.m or ('0:4194304' if args.test == 'latency' else '1:4194304')
    rows = []
    lead = comm.rank == 0
    unit = 'us' if args.test == 'latency' else 'MB/s'
    if lead and not args.json:
        print(f'# {TITLES[args.test]}: mpi4py {__import__("mpi4py").__version__} ({args.mode}), {MPI.Get_library_version().splitlines()[0]}')
        print(f'{"# Size":<10}{"Latency (us)" if unit == "us" else "Bandwidth (MB/s)":>20}', flush=True)
    for size in sizes(span):
        iterations, warmup = loops(args.test, size, args.i, args.x)
        comm.Barrier()
        if args.test == 'latency':
            value = latency(comm, size, args.mode, iterations, warmup)
        else:
            value = bandwidth(comm, size, args.mode, iterations, warmup, args.W, args.test == 'bibw')
        rows.append({'size': size, 'value': value, 'iterations': iterations})
        if lead and not args.json:
            print(f'{size:<10}{value:>20.2f}', flush=True)
    if lead and args.json:
        print(json.dumps({
            'benchmark': TITLES[args.test], 'test': args.test, 'implementation': 'mpi4py',
            'version': __import__('mpi4py').__version__, 'path': args.mode, 'ranks': comm.size,
            'unit': unit, 'results': rows,
        }))


main()
