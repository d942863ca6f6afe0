# The start-up row's counterpart of examples/helloworld.ts (bench/startup.ts).
from mpi4py import MPI

comm = MPI.COMM_WORLD
print(f"Hello, World! I am process {comm.Get_rank()} of {comm.Get_size()} on {MPI.Get_processor_name()}.")
