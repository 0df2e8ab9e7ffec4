// Factorization specs for the tensor tests: core's builders, a plain matrix unless `fold`.
#pragma once
#include <utility>
#include <vector>

#include "core/factorization.hpp"

namespace mixprec::test {

inline Factorization tt(std::vector<int> in, std::vector<int> hidden, std::vector<int> ranks, bool fold = false) {
  return tensor_train(std::move(in), std::move(hidden), std::move(ranks), fold);
}

inline Factorization ht(std::vector<int> in, std::vector<int> hidden, std::vector<int> leaf, std::vector<int> transfer,
                        bool fold = false) {
  return hierarchical_tucker(std::move(in), std::move(hidden), std::move(leaf), std::move(transfer), fold);
}

}  // namespace mixprec::test
