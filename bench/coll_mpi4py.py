"""The collective half of the comparison (issues 3 and 5), mpi4py side.

allreduce: Allreduce of 1M doubles (array('d'), MPI.SUM), the buffer path.
bcast: bcast of a small object from rank 0, the pickle path.
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
    parser.add_argument('test', choices=['allreduce', 'bcast'])
    parser.add_argument('-i', type=int, default=None, help='timed calls')
    parser.add_argument('-x', type=int, default=None, help='warm-up calls')
    args = parser.parse_args()
    comm = MPI.COMM_WORLD
    if args.test == 'allreduce':
        send, recv = array('d', [1.0]) * 1_000_000, array('d', [0.0]) * 1_000_000
        call = lambda: comm.Allreduce([send, MPI.DOUBLE], [recv, MPI.DOUBLE], op=MPI.SUM)
        iterations, warmup = args.i or 50, 5 if args.x is None else args.x
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
    if args.test == 'allreduce':
        assert recv[0] == comm.size and recv[-1] == comm.size
    mine = total * 1e6 / iterations
    every = comm.gather(mine, root=0)
    if comm.rank == 0:
        print(json.dumps({'implementation': 'mpi4py', 'test': args.test, 'ranks': comm.size,
                          'unit': 'us', 'value': sum(every) / len(every)}))


main()
