#include "energy_models/laws.hpp"

#include <cmath>

#include "core/errors.hpp"

namespace mixprec::energy::laws {

int ceil_log2(std::int64_t n) {
  MIXPREC_CHECK(n >= 1, "ceil_log2 of " + std::to_string(n));
  int k = 0;
  std::uint64_t m = static_cast<std::uint64_t>(n - 1);
  while (m) {
    ++k;
    m >>= 1;
  }
  return k;
}

double proportional_to_nearest(const std::vector<Anchor>& anchors, double size) {
  const Anchor* best = &anchors.front();
  double best_d = std::fabs(size - best->size);
  for (const Anchor& a : anchors) {
    double d = std::fabs(size - a.size);
    if (d < best_d) {  // strict: ties keep the smaller (earlier) anchor
      best = &a;
      best_d = d;
    }
  }
  return best->pj * size / best->size;
}

double loglog_interpolate(const std::vector<Point>& p, double x, double exponent_outside) {
  if (x <= p.front().x) return p.front().y * std::pow(x / p.front().x, exponent_outside);
  if (x >= p.back().x) return p.back().y * std::pow(x / p.back().x, exponent_outside);
  std::size_t i = 1;
  while (p[i].x < x) ++i;
  const Point& lo = p[i - 1];
  const Point& hi = p[i];
  if (x == hi.x) return hi.y;
  double t = std::log(x / lo.x) / std::log(hi.x / lo.x);
  return lo.y * std::pow(hi.y / lo.y, t);
}

double word_access_pj(double row_pj, int row_bits, int word_bits) {
  if (word_bits <= row_bits) return row_pj * word_bits / row_bits;
  return static_cast<double>(ceil_div(word_bits, row_bits)) * row_pj;
}

}  // namespace mixprec::energy::laws
