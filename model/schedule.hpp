// Learning-rate schedules: a plain value the trainer evaluates once per optimizer step.
#pragma once
#include <cstdint>

namespace mixprec::model {

enum class ScheduleKind {
  Constant,
  // base_lr * gamma^floor(s / step_size)  (step decay, as in He et al., CVPR 2016)
  Step,
  // min_lr + (base_lr - min_lr) (1 + cos(pi s / S)) / 2, S = total_steps - warmup_steps
  // (cosine annealing without restarts: Loshchilov & Hutter, "SGDR", ICLR 2017, eq. 5)
  Cosine,
};

// s counts steps after the warm-up. During the first warmup_steps steps the rate rises
// linearly, base_lr * (step + 1) / warmup_steps (Goyal et al., "Accurate, Large Minibatch SGD:
// Training ImageNet in 1 Hour", 2017).
struct LrSchedule {
  ScheduleKind kind = ScheduleKind::Constant;
  double base_lr = 1e-3;
  std::int64_t warmup_steps = 0;
  std::int64_t step_size = 1;    // Step
  double gamma = 0.1;            // Step
  std::int64_t total_steps = 1;  // Cosine: including the warm-up; min_lr from then on
  double min_lr = 0.0;           // Cosine

  void validate() const;               // throws InternalError on nonsense values
  double at(std::int64_t step) const;  // step counts from 0
};

}  // namespace mixprec::model
