// Factorization specs for the tensor tests (as a scenario's "factorization" entry would give).
#pragma once
#include <utility>
#include <vector>

#include "core/factorization.hpp"

namespace mixprec::test {

// fold = true: the hidden modes' first is x4 for the LSTM gates (Factorization::fold_gates).
inline Factorization tt(std::vector<int> in, std::vector<int> hidden, std::vector<int> ranks, bool fold = false) {
  Factorization f;
  f.kind = FactorizationKind::TensorTrain;
  f.input_modes = std::move(in);
  f.hidden_modes = std::move(hidden);
  f.ranks = std::move(ranks);
  f.fold_gates = fold;
  return f;
}

inline Factorization ht(std::vector<int> in, std::vector<int> hidden, std::vector<int> leaf, std::vector<int> transfer,
                        bool fold = false) {
  Factorization f;
  f.kind = FactorizationKind::HierarchicalTucker;
  f.input_modes = std::move(in);
  f.hidden_modes = std::move(hidden);
  f.leaf_ranks = std::move(leaf);
  f.transfer_ranks = std::move(transfer);
  f.fold_gates = fold;
  return f;
}

}  // namespace mixprec::test
