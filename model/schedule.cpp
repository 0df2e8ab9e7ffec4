#include "model/schedule.hpp"

#include <cmath>

#include "core/errors.hpp"

namespace mixprec::model {

void LrSchedule::validate() const {
  MIXPREC_CHECK(base_lr >= 0 && warmup_steps >= 0, "lr schedule: base_lr/warmup_steps");
  if (kind == ScheduleKind::Step)
    MIXPREC_CHECK(step_size > 0 && gamma > 0, "lr schedule: step_size and gamma must be > 0");
  if (kind == ScheduleKind::Cosine)
    MIXPREC_CHECK(total_steps > warmup_steps && min_lr >= 0 && min_lr <= base_lr,
                  "lr schedule: cosine needs total_steps > warmup_steps, 0 <= min_lr <= base_lr");
}

double LrSchedule::at(std::int64_t step) const {
  validate();
  MIXPREC_CHECK(step >= 0, "lr schedule: negative step");
  if (step < warmup_steps) return base_lr * double(step + 1) / double(warmup_steps);
  const std::int64_t s = step - warmup_steps;
  switch (kind) {
    case ScheduleKind::Constant: return base_lr;
    case ScheduleKind::Step: return base_lr * std::pow(gamma, double(s / step_size));
    case ScheduleKind::Cosine: {
      const std::int64_t span = total_steps - warmup_steps;
      if (s >= span) return min_lr;
      constexpr double kPi = 3.141592653589793;
      return min_lr + (base_lr - min_lr) * 0.5 * (1.0 + std::cos(kPi * double(s) / double(span)));
    }
  }
  return base_lr;
}

}  // namespace mixprec::model
