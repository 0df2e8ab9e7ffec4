// The MPI mode of `mixprec sweep`: under `mpirun -np K`, rank r evaluates the points whose
// position in its shard is r mod K and sends each finished line to rank 0, which writes them
// (Open MPI from Debian; built when CMake finds MPI).
#pragma once
#include <memory>

#include "pipeline/sweep_run.hpp"

namespace mixprec::pipeline {

// True when the environment says this process was started by an MPI launcher (Open MPI's
// OMPI_COMM_WORLD_SIZE, PMIx's PMIX_RANK, or PMI_SIZE as Slurm's srun and MPICH set it).
bool launched_by_mpi();
bool built_with_mpi();

// Initializes MPI (thread level funneled: only the calling thread talks to MPI) and returns the
// exchange; MPI is finalized when it is destroyed. Throws UsageError when built without MPI.
std::unique_ptr<LineExchange> start_mpi();

// Ends every rank with `code` (after an error on one rank; the others would wait forever).
[[noreturn]] void abort_mpi(int code);

}  // namespace mixprec::pipeline
