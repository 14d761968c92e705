#pragma once
/// The number of threads LibTorch's intra-op work uses, including the BLAS library's own pool.

namespace rlpipe::nn {

/// torch::set_num_threads(threads), and the same count for OpenBLAS's own thread pool when the
/// BLAS LibTorch calls is OpenBLAS (Debian's pthread build ignores OpenMP's setting: left alone,
/// it runs every GEMM of 256x256 and more on all cores, and on a busy machine its threads spin
/// in the kernel; bench/off_policy_step measured a SAC step at 26.8 ms with it and 9.1 ms with
/// one BLAS thread). threads >= 1.
void SetIntraOpThreads(int threads);

}  // namespace rlpipe::nn
