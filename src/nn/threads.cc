#include "nn/threads.h"

#include <dlfcn.h>
#include <torch/torch.h>

namespace rlpipe::nn {

void SetIntraOpThreads(int threads) {
  torch::set_num_threads(threads);
  // OpenBLAS's setter, looked up at run time: libblas.so.3 may be another BLAS (no such symbol).
  using SetThreads = void (*)(int);
  if (void* symbol = dlsym(RTLD_DEFAULT, "openblas_set_num_threads")) {
    reinterpret_cast<SetThreads>(symbol)(threads);
  }
}

}  // namespace rlpipe::nn
