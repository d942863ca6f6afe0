"""The collective half of the comparison (issues 3 and 5), mpi4py side.

allreduce: Allreduce of 1M doubles (array('d'), MPI.SUM), the buffer path.
bcast: bcast of a small object from rank 0, the pickle path.
Barrier: Barrier alone.
Allreduce8: Allreduce of one double (8 B).
Bcast: Bcast of 1M doubles (8 MB) from rank 0.
Reduce: Reduce of 1M doubles with MPI.SUM to rank 0.
Alltoallv: Alltoallv of 1 MiB (131072 doubles) to and from every rank, equal
  counts at explicit displacements (as OSU's osu_alltoallv).
As OSU's collective tests: untimed warm-up calls, a barrier after every call,
each rank averages its own calls, rank 0 prints the average over ranks (us).
Run: mpiexec -n 4 python3 bench/coll_mpi4py.py allreduce -i 50 -x 5
"""
import argparse
import json
from array import array

from mpi4py import MPI

SMALL_OBJECT = {'step': 12, 'name': 'boundary', 'values': [1.5, 2.5, 3.5], 'done': False}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('test', choices=['allreduce', 'bcast', 'Barrier', 'Allreduce8', 'Bcast', 'Reduce', 'Alltoallv'])
    parser.add_argument('-i', type=int, default=None, help='timed calls')
    parser.add_argument('-x', type=int, default=None, help='warm-up calls')
    args = parser.parse_args()
    comm = MPI.COMM_WORLD
    rank, size = comm.rank, comm.size
    check = lambda: True
    if args.test == 'allreduce':
        send, recv = array('d', [1.0]) * 1_000_000, array('d', [0.0]) * 1_000_000
        call = lambda: comm.Allreduce([send, MPI.DOUBLE], [recv, MPI.DOUBLE], op=MPI.SUM)
        check = lambda: recv[0] == size and recv[-1] == size
        iterations, warmup = args.i or 50, 5 if args.x is None else args.x
    elif args.test == 'Barrier':
        call = comm.Barrier
        iterations, warmup = args.i or 10000, 100 if args.x is None else args.x
    elif args.test == 'Allreduce8':
        send, recv = array('d', [rank + 1.0]), array('d', [0.0])
        call = lambda: comm.Allreduce([send, MPI.DOUBLE], [recv, MPI.DOUBLE], op=MPI.SUM)
        check = lambda: recv[0] == size * (size + 1) / 2
        iterations, warmup = args.i or 10000, 100 if args.x is None else args.x
    elif args.test == 'Bcast':
        buf = array('d', [3.0 if rank == 0 else 0.0]) * 1_000_000
        call = lambda: comm.Bcast([buf, MPI.DOUBLE], root=0)
        check = lambda: buf[0] == 3 and buf[-1] == 3
        iterations, warmup = args.i or 50, 5 if args.x is None else args.x
    elif args.test == 'Reduce':
        send = array('d', [1.0]) * 1_000_000
        recv = array('d', [0.0]) * 1_000_000 if rank == 0 else None
        call = lambda: comm.Reduce([send, MPI.DOUBLE], [recv, MPI.DOUBLE] if rank == 0 else None, op=MPI.SUM, root=0)
        check = lambda: rank != 0 or (recv[0] == size and recv[-1] == size)
        iterations, warmup = args.i or 50, 5 if args.x is None else args.x
    elif args.test == 'Alltoallv':
        block = (1 << 20) // 8
        counts = [block] * size
        displs = [r * block for r in range(size)]
        send = array('d', [float(rank * size + r) for r in range(size) for _ in range(block)])
        recv = array('d', [0.0]) * (size * block)
        call = lambda: comm.Alltoallv([send, (counts, displs), MPI.DOUBLE], [recv, (counts, displs), MPI.DOUBLE])
        check = lambda: all(recv[s * block] == s * size + rank for s in range(size))
        iterations, warmup = args.i or 1000, 100 if args.x is None else args.x
    else:
        call = lambda: comm.bcast(SMALL_OBJECT if comm.rank == 0 else None, root=0)
        iterations, warmup = args.i or 10000, 100 if args.x is None else args.x
    total = 0.0
    comm.Barrier()
    for i in range(iterations + warmup):
        start = MPI.Wtime()
        call()
        if i >= warmup:
            total += MPI.Wtime() - start
        comm.Barrier()
    assert check(), f'{args.test} gave the wrong result'
    mine = total * 1e6 / iterations
    every = comm.gather(mine, root=0)
    if comm.rank == 0:
        print(json.dumps({'implementation': 'mpi4py', 'test': args.test, 'ranks': comm.size,
                          'unit': 'us', 'value': sum(every) / len(every)}))


main()
