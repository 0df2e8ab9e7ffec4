#include "model/step_window.hpp"

#include <algorithm>

#include "model/sequential.hpp"

namespace mixprec::model {

namespace {

// Copies the first `steps` steps of each (batch, steps_in, f, 1) sequence of `src` into the
// (batch, steps_out, f, 1) tensor `dst`; dst's other steps are zero.
void copy_steps(const Tensor& src, Tensor& dst, int steps) {
  const int B = src.dims().n, ts = src.dims().c, td = dst.dims().c;
  const std::int64_t F = src.dims().h;
  if (td > steps) dst.set_zero();
  for (int b = 0; b < B; ++b)
    std::copy_n(src.data() + std::int64_t(b) * ts * F, steps * F, dst.data() + std::int64_t(b) * td * F);
}

}  // namespace

StepWindow::StepWindow(std::string name, Mode mode, int steps, int total)
    : UnaryLayer(std::move(name)), mode_(mode), steps_(steps), total_(total) {
  MIXPREC_CHECK(steps >= 1 && steps <= total, this->name() + ": " + std::to_string(steps) + " of " +
                                                  std::to_string(total) + " steps");
}

Dims StepWindow::output_dims(const Dims& in) const {
  const int from = mode_ == Mode::Keep ? total_ : steps_;
  MIXPREC_CHECK(in.c == from && in.w == 1,
                name() + ": input " + in.str() + " is not a sequence of " + std::to_string(from) + " steps");
  return Dims{in.n, mode_ == Mode::Keep ? steps_ : total_, in.h, 1};
}

void StepWindow::forward_one(const Tensor& x, Tensor& y) {
  in_dims_ = x.dims();
  y.resize(output_dims(x.dims()));
  copy_steps(x, y, steps_);
}

void StepWindow::backward_one(const Tensor& dy, Tensor* dx) {
  if (!dx) return;
  MIXPREC_CHECK(dy.dims() == output_dims(in_dims_),
                name() + ": dy " + dy.dims().str() + " != " + output_dims(in_dims_).str());
  dx->resize(in_dims_);
  copy_steps(dy, *dx, steps_);
}

std::unique_ptr<Layer> with_step_window(std::unique_ptr<Layer> cell, int steps, int total, bool return_sequences) {
  if (steps == total) return cell;
  auto seq = std::make_unique<Sequential>(cell->name());
  seq->add(std::make_unique<StepWindow>(cell->name() + ".first_steps", StepWindow::Mode::Keep, steps, total));
  seq->add(std::move(cell));
  if (return_sequences)
    seq->add(std::make_unique<StepWindow>(seq->name() + ".zero_steps", StepWindow::Mode::Pad, steps, total));
  return seq;
}

}  // namespace mixprec::model
