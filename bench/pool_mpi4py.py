# Tasks per second of an empty task through mpi4py.futures' MPIPoolExecutor, for bench/pool.ts:
#   mpiexec -n 5 python3 -m mpi4py.futures bench/pool_mpi4py.py N
# (rank 0 runs this script, ranks 1..4 are the workers). N tasks submitted at
# once, after a warm-up; one JSON line out.
import json
import sys
import time

from mpi4py import MPI
from mpi4py.futures import MPIPoolExecutor, wait


def noop():
    pass


def burst(executor, count):
    started = time.perf_counter()
    wait([executor.submit(noop) for _ in range(count)])
    return count / (time.perf_counter() - started)


if __name__ == '__main__':
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
    with MPIPoolExecutor() as executor:
        burst(executor, min(n, 20000))
        rate = burst(executor, n)
    print(json.dumps({'workers': MPI.COMM_WORLD.Get_size() - 1, 'tasks': n, 'tasksPerSecond': rate}))
