#include "pipeline/sweep_mpi.hpp"

#include <cstdlib>
#include <cstdio>

#include "core/errors.hpp"

#ifdef MIXPREC_HAVE_MPI
#include <mpi.h>
#endif

namespace mixprec::pipeline {

bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"})
    if (std::getenv(v)) return true;
  return false;
}

#ifdef MIXPREC_HAVE_MPI

bool built_with_mpi() { return true; }

namespace {

constexpr int kTagLine = 1;
constexpr int kTagDone = 2;

class MpiExchange : public LineExchange {
 public:
  MpiExchange() {
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiExchange() override { MPI_Finalize(); }
  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void share_done(std::vector<std::size_t>& done) override {
    unsigned long long n = done.size();
    MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
    std::vector<unsigned long long> buf(done.begin(), done.end());
    buf.resize(n);
    if (n) MPI_Bcast(buf.data(), static_cast<int>(n), MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
    done.assign(buf.begin(), buf.end());
  }
  void send(const std::string& line) override {
    MPI_Send(line.data(), static_cast<int>(line.size()), MPI_CHAR, 0, kTagLine, MPI_COMM_WORLD);
  }
  void finish() override { MPI_Send(nullptr, 0, MPI_CHAR, 0, kTagDone, MPI_COMM_WORLD); }
  bool receive(std::vector<std::string>& out) override {
    for (;;) {
      int flag = 0;
      MPI_Status st;
      MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
      if (!flag) break;
      int count = 0;
      MPI_Get_count(&st, MPI_CHAR, &count);
      std::string s(static_cast<std::size_t>(count), '\0');
      MPI_Recv(s.data(), count, MPI_CHAR, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      if (st.MPI_TAG == kTagDone)
        ++finished_;
      else
        out.push_back(std::move(s));
    }
    return finished_ < size_ - 1;
  }
  void barrier() override { MPI_Barrier(MPI_COMM_WORLD); }

 private:
  int rank_ = 0, size_ = 1, finished_ = 0;
};

}  // namespace

std::unique_ptr<LineExchange> start_mpi() { return std::make_unique<MpiExchange>(); }

void abort_mpi(int code) {
  std::fflush(nullptr);
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

#else

bool built_with_mpi() { return false; }

std::unique_ptr<LineExchange> start_mpi() {
  throw UsageError("this mixprec was built without MPI: install Open MPI (libopenmpi-dev, openmpi-bin; "
                   "scripts/setup.sh does) and rebuild, or run shards with --shard i/N");
}

void abort_mpi(int code) { std::_Exit(code); }

#endif

}  // namespace mixprec::pipeline
