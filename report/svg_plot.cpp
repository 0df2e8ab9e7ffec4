#include "report/svg_plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace mixprec::report::svg {

namespace {

constexpr double kCharPx = 6.4;    // estimated advance of one character at font-size 11
constexpr double kLegendRowPx = 16;
constexpr double kTitleY = 20;
constexpr double kLegendY = 36;

// Characters (UTF-8 code points) in `s`, for text-width estimates.
std::size_t text_chars(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

struct LegendLayout {
  std::vector<double> x, y;
  int rows = 0;
};

// Lays entries out left to right from `left`, wrapping before `right`.
LegendLayout layout_legend(const std::vector<LegendEntry>& entries, double left, double right) {
  LegendLayout l;
  double x = left;
  double y = kLegendY;
  if (!entries.empty()) l.rows = 1;
  for (const LegendEntry& e : entries) {
    double w = 14 + kCharPx * static_cast<double>(text_chars(e.name)) + 16;
    if (x > left && x + w > right) {
      x = left;
      y += kLegendRowPx;
      ++l.rows;
    }
    l.x.push_back(x);
    l.y.push_back(y);
    x += w;
  }
  return l;
}

std::string opacity_attr(const char* name, double opacity) {
  if (opacity >= 1.0) return "";
  return std::string(" ") + name + "=\"" + fmt_fixed(opacity, 2) + "\"";
}

void render_legend(std::string& out, const std::vector<LegendEntry>& entries,
                   const LegendLayout& l) {
  if (entries.empty()) return;
  out += "<g class=\"legend\">\n";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const LegendEntry& e = entries[i];
    out += "<rect x=\"" + fmt_px(l.x[i]) + "\" y=\"" + fmt_px(l.y[i] - 9) +
           "\" width=\"10\" height=\"10\" fill=\"" + escape(e.color) + "\"" +
           opacity_attr("fill-opacity", e.opacity) + "/>";
    out += "<text x=\"" + fmt_px(l.x[i] + 14) + "\" y=\"" + fmt_px(l.y[i]) + "\">" +
           escape(e.name) + "</text>\n";
  }
  out += "</g>\n";
}

// `x0` < 0 widens the canvas to the left of the frame (for long rotated labels) without moving
// anything drawn in frame coordinates.
void open_svg(std::string& out, const std::string& id, const std::string& title, double w,
              double h, double x0 = 0) {
  std::string ws = fmt_px(w - x0), hs = fmt_px(h);
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"" + escape(id) +
         "\" class=\"plot\" width=\"" + ws + "\" height=\"" + hs + "\" viewBox=\"" + fmt_px(x0) +
         " 0 " + ws + " " + hs + "\" font-family=\"sans-serif\" font-size=\"11\" role=\"img\">\n";
  out += "<title>" + escape(title) + "</title>\n";
  out += "<rect x=\"" + fmt_px(x0) + "\" y=\"0\" width=\"" + ws + "\" height=\"" + hs +
         "\" fill=\"#ffffff\"/>\n";
  out += "<text class=\"plot-title\" x=\"" + fmt_px(w / 2) + "\" y=\"" + fmt_px(kTitleY) +
         "\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">" + escape(title) +
         "</text>\n";
}

// Horizontal grid lines, the left axis with its tick labels and the y-axis label.
void render_y_axis(std::string& out, const Ticks& yt, const LinearScale& sy, double left,
                   double right, double top, double bottom, const std::string& label) {
  out += "<g class=\"y-axis\">\n";
  for (double v : yt.values) {
    double y = sy(v);
    out += "<line x1=\"" + fmt_px(left) + "\" y1=\"" + fmt_px(y) + "\" x2=\"" + fmt_px(right) +
           "\" y2=\"" + fmt_px(y) + "\" stroke=\"#e5e5e5\"/>";
    out += "<text x=\"" + fmt_px(left - 6) + "\" y=\"" + fmt_px(y + 4) +
           "\" text-anchor=\"end\">" + fmt_fixed(v, yt.decimals) + "</text>\n";
  }
  out += "<line x1=\"" + fmt_px(left) + "\" y1=\"" + fmt_px(top) + "\" x2=\"" + fmt_px(left) +
         "\" y2=\"" + fmt_px(bottom) + "\" stroke=\"#333333\"/>\n";
  out += "<text class=\"axis-label\" transform=\"translate(16," + fmt_px((top + bottom) / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">" + escape(label) + "</text>\n";
  out += "</g>\n";
}

// Whole numbers (bits, cycles) as integers, anything else to 3 significant digits.
std::string fmt_value(double v) {
  if (std::fabs(v) < 1e15 && v == std::round(v)) return fmt_fixed(v, 0);
  return fmt_sig(v, 3);
}

}  // namespace

std::string escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string fmt_fixed(double v, int decimals) {
  if (!std::isfinite(v)) return "n/a";
  decimals = std::clamp(decimals, 0, 17);
  char buf[400];  // room for %.17f of the largest double
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  // "-0.00" -> "0.00": a rounded zero carries no sign.
  if (s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}

std::string fmt_sig(double v, int sig) {
  if (!std::isfinite(v)) return "n/a";
  sig = std::clamp(sig, 1, 17);
  if (v == 0) return fmt_fixed(0, sig - 1);
  double a = std::fabs(v);
  if (a < 1e-4 || a >= 1e15) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*e", sig - 1, v);
    return buf;
  }
  int e = static_cast<int>(std::floor(std::log10(a)));
  // Rounding can carry into the next decade (9.996 -> 10.0): use the rounded magnitude.
  double scale = std::pow(10.0, sig - 1 - e);
  double r = std::round(a * scale) / scale;
  if (r > 0) e = static_cast<int>(std::floor(std::log10(r) + 1e-12));
  int decimals = std::max(0, sig - 1 - e);
  return fmt_fixed(v, decimals);
}

std::string fmt_px(double v) { return fmt_fixed(v, 2); }

Ticks nice_ticks(double min, double max, int target_count, double min_step) {
  if (!std::isfinite(min) || !std::isfinite(max)) min = 0, max = 1;
  if (max < min) std::swap(min, max);
  if (max - min <= 1e-12 * std::max(1.0, std::fabs(max))) {
    double pad = min == 0 ? 1.0 : std::fabs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  target_count = std::max(1, target_count);
  double raw = (max - min) / target_count;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double f = raw / mag;
  double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  Ticks t;
  t.step = std::max(nice * mag, min_step);
  double lo_i = std::floor(min / t.step + 1e-9);
  double hi_i = std::ceil(max / t.step - 1e-9);
  t.lo = lo_i * t.step;
  t.hi = hi_i * t.step;
  t.decimals = std::max(0, -static_cast<int>(std::floor(std::log10(t.step) + 1e-9)));
  // The degenerate-range guard above keeps lo_i small enough for exact integer steps; the cap
  // is a second guard against a runaway loop.
  for (double i = lo_i; i <= hi_i + 0.5 && t.values.size() < 1000; i += 1)
    t.values.push_back(i * t.step);
  return t;
}

const char* palette(std::size_t i) {
  static const char* const kColors[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                                        "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  return kColors[i % (sizeof kColors / sizeof kColors[0])];
}

// ---------------------------------------------------------------------------------------------
// XYPlot

XYPlot::XYPlot(std::string id, std::string title, std::string x_label, std::string y_label,
               Frame frame)
    : id_(std::move(id)),
      title_(std::move(title)),
      x_label_(std::move(x_label)),
      y_label_(std::move(y_label)),
      frame_(frame) {}

Ticks XYPlot::x_ticks() const {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const Series& s : series_)
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) lo = std::min(lo, s.x[i]), hi = std::max(hi, s.x[i]);
  for (const BandX& b : bands_) {
    if (!std::isfinite(b.x0) || !std::isfinite(b.x1)) continue;
    lo = std::min({lo, b.x0, b.x1});
    hi = std::max({hi, b.x0, b.x1});
  }
  if (!(lo <= hi)) lo = 0, hi = 1;
  return nice_ticks(lo, hi, 5, x_min_step_);
}

Ticks XYPlot::y_ticks() const {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const Series& s : series_)
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
      if (std::isfinite(s.y[i]) && std::isfinite(s.x[i])) {
        lo = std::min(lo, s.y[i]), hi = std::max(hi, s.y[i]);
        if (i < s.y_lo.size() && std::isfinite(s.y_lo[i])) lo = std::min(lo, s.y_lo[i]);
        if (i < s.y_hi.size() && std::isfinite(s.y_hi[i])) hi = std::max(hi, s.y_hi[i]);
      }
  for (const BandY& b : ybands_)
    if (std::isfinite(b.y0) && std::isfinite(b.y1)) lo = std::min({lo, b.y0, b.y1}), hi = std::max({hi, b.y0, b.y1});
  if (!(lo <= hi)) lo = 0, hi = 1;
  // A little headroom so points do not sit on the frame (x keeps the exact data range).
  double pad = (hi - lo) * 0.04;
  return nice_ticks(lo - pad, hi + pad);
}

std::string XYPlot::render() const {
  const Frame& f = frame_;
  Ticks xt = x_ticks(), yt = y_ticks();
  double left = f.plot_left(), right = f.plot_right();

  std::vector<LegendEntry> legend;
  for (const Series& s : series_)
    if (s.in_legend && !s.name.empty()) legend.push_back({s.name, s.color, 1.0});
  for (const BandX& b : bands_)
    if (!b.label.empty()) legend.push_back({b.label, b.color, 0.25});
  for (const BandY& b : ybands_)
    if (!b.label.empty()) legend.push_back({b.label, b.color, 0.25});
  LegendLayout ll = layout_legend(legend, left, right);
  double top = f.top_px + kLegendRowPx * std::max(0, ll.rows - 1);
  double plot_h = f.height_px - f.top_px - f.bottom_px;
  double bottom = top + plot_h;
  double height = bottom + f.bottom_px;
  LinearScale sx(xt.lo, xt.hi, left, right), sy(yt.lo, yt.hi, bottom, top);

  std::string out;
  open_svg(out, id_, title_, f.width_px, height);
  render_legend(out, legend, ll);

  // Vertical grid and x axis.
  out += "<g class=\"x-axis\">\n";
  for (double v : xt.values) {
    double x = sx(v);
    out += "<line x1=\"" + fmt_px(x) + "\" y1=\"" + fmt_px(top) + "\" x2=\"" + fmt_px(x) +
           "\" y2=\"" + fmt_px(bottom) + "\" stroke=\"#e5e5e5\"/>";
    out += "<text x=\"" + fmt_px(x) + "\" y=\"" + fmt_px(bottom + 16) +
           "\" text-anchor=\"middle\">" + fmt_fixed(v, xt.decimals) + "</text>\n";
  }
  out += "<line x1=\"" + fmt_px(left) + "\" y1=\"" + fmt_px(bottom) + "\" x2=\"" + fmt_px(right) +
         "\" y2=\"" + fmt_px(bottom) + "\" stroke=\"#333333\"/>\n";
  out += "<text class=\"axis-label\" x=\"" + fmt_px((left + right) / 2) + "\" y=\"" +
         fmt_px(height - 12) + "\" text-anchor=\"middle\">" + escape(x_label_) + "</text>\n";
  out += "</g>\n";
  render_y_axis(out, yt, sy, left, right, top, bottom, y_label_);

  for (const BandX& b : bands_) {
    if (!std::isfinite(b.x0) || !std::isfinite(b.x1)) continue;
    double x0 = sx(std::min(b.x0, b.x1)), x1 = sx(std::max(b.x0, b.x1));
    out += "<rect class=\"band\"";
    if (!b.id.empty()) out += " id=\"" + escape(b.id) + "\"";
    out += " x=\"" + fmt_px(x0) + "\" y=\"" + fmt_px(top) + "\" width=\"" + fmt_px(x1 - x0) +
           "\" height=\"" + fmt_px(plot_h) + "\" fill=\"" + escape(b.color) +
           "\" fill-opacity=\"0.18\"><title>" + escape(b.label) + "</title></rect>\n";
  }

  for (const BandY& b : ybands_) {
    if (!std::isfinite(b.y0) || !std::isfinite(b.y1)) continue;
    // Clipped to the plot area.
    const double y0 = std::max(std::min(b.y0, b.y1), yt.lo), y1 = std::min(std::max(b.y0, b.y1), yt.hi);
    if (y1 <= y0) continue;
    out += "<rect class=\"band-y\"";
    if (!b.id.empty()) out += " id=\"" + escape(b.id) + "\"";
    out += " x=\"" + fmt_px(left) + "\" y=\"" + fmt_px(sy(y1)) + "\" width=\"" + fmt_px(right - left) +
           "\" height=\"" + fmt_px(sy(y0) - sy(y1)) + "\" fill=\"" + escape(b.color) +
           "\" fill-opacity=\"0.15\"><title>" + escape(b.label) + "</title></rect>\n";
  }

  for (const Series& s : series_) {
    std::string cls = s.css_class.empty() ? "" : " " + escape(s.css_class);
    // Error bars under the marks.
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i]) || i >= s.y_lo.size() || i >= s.y_hi.size() ||
          !std::isfinite(s.y_lo[i]) || !std::isfinite(s.y_hi[i]))
        continue;
      const double x = sx(s.x[i]), y0 = sy(s.y_lo[i]), y1 = sy(s.y_hi[i]);
      out += "<path class=\"error-bar" + cls + "\" stroke=\"" + escape(s.color) + "\" stroke-width=\"1.2\" d=\"M" +
             fmt_px(x) + " " + fmt_px(y0) + "V" + fmt_px(y1) + "M" + fmt_px(x - 3) + " " + fmt_px(y0) + "H" +
             fmt_px(x + 3) + "M" + fmt_px(x - 3) + " " + fmt_px(y1) + "H" + fmt_px(x + 3) + "\"/>\n";
    }
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) idx.push_back(i);
    if (s.mark != Mark::Points && idx.size() >= 2) {
      out += "<polyline class=\"line" + cls + "\" fill=\"none\" stroke=\"" + escape(s.color) +
             "\" stroke-width=\"2\"";
      if (s.dashed) out += " stroke-dasharray=\"6 4\"";
      out += " points=\"";
      for (std::size_t k = 0; k < idx.size(); ++k) {
        if (k) out += ' ';
        out += fmt_px(sx(s.x[idx[k]])) + "," + fmt_px(sy(s.y[idx[k]]));
      }
      out += "\"><title>" + escape(s.name) + "</title></polyline>\n";
    }
    if (s.mark == Mark::Line) continue;
    for (std::size_t i : idx) {
      double cx = sx(s.x[i]), cy = sy(s.y[i]);
      out += "<circle class=\"point" + cls + "\" cx=\"" + fmt_px(cx) + "\" cy=\"" + fmt_px(cy) +
             "\" r=\"" + fmt_px(s.radius_px) + "\"";
      if (s.hollow)
        out += " fill=\"none\" stroke=\"" + escape(s.color) + "\" stroke-width=\"2.5\"";
      else
        out += " fill=\"" + escape(s.color) + "\" stroke=\"#ffffff\" stroke-width=\"0.8\"";
      std::string what = s.name;
      if (i < s.labels.size() && !s.labels[i].empty()) what += " " + s.labels[i];
      out += "><title>" + escape(what) + ": " + fmt_sig(s.x[i]) + ", " + fmt_sig(s.y[i]) +
             "</title></circle>\n";
      if (i < s.labels.size() && !s.labels[i].empty()) {
        // Labels that would run past the plot's right edge go to the left of their point.
        bool flip = cx + 6 + 6.0 * static_cast<double>(text_chars(s.labels[i])) > right;
        out += "<text class=\"point-label\" x=\"" + fmt_px(flip ? cx - 6 : cx + 6) + "\" y=\"" +
               fmt_px(cy - 6) + "\" font-size=\"10\"" + (flip ? " text-anchor=\"end\"" : "") +
               ">" + escape(s.labels[i]) + "</text>\n";
      }
    }
  }
  out += "</svg>\n";
  return out;
}

// ---------------------------------------------------------------------------------------------
// BarPlot

BarPlot::BarPlot(std::string id, std::string title, std::string y_label, Frame frame)
    : id_(std::move(id)), title_(std::move(title)), y_label_(std::move(y_label)), frame_(frame) {}

std::string BarPlot::render() const {
  const Frame& f = frame_;
  const std::size_t n = categories_.size();
  double left = f.plot_left(), right = f.plot_right();

  // Domain: zero to the tallest bar (or stack); negative bars extend it below zero.
  double ymin = 0, ymax = 0;
  for (std::size_t c = 0; c < n; ++c) {
    double pos = 0, neg = 0;
    for (const BarSeries& s : series_) {
      if (c >= s.values.size() || !std::isfinite(s.values[c])) continue;
      double v = s.values[c];
      if (stacked_) {
        (v >= 0 ? pos : neg) += v;
      } else {
        pos = std::max(pos, v);
        neg = std::min(neg, v);
      }
    }
    ymax = std::max(ymax, pos);
    ymin = std::min(ymin, neg);
  }
  if (ymax <= ymin) ymax = ymin + 1;
  Ticks yt = nice_ticks(ymin, ymax);

  std::vector<LegendEntry> legend = legend_;
  if (!custom_legend_)
    for (const BarSeries& s : series_)
      if (!s.name.empty()) legend.push_back({s.name, s.color, s.opacity});
  LegendLayout ll = layout_legend(legend, left, right);

  double slot = n ? (right - left) / static_cast<double>(n) : (right - left);
  std::size_t max_chars = 0;
  for (const std::string& c : categories_) max_chars = std::max(max_chars, text_chars(c));
  max_chars = std::min<std::size_t>(max_chars, 48);
  bool rotate = static_cast<double>(max_chars) * kCharPx > slot * 0.95;
  // Rotated labels need their diagonal extent below the axis (the bar plot has no axis title).
  double label_depth = rotate ? static_cast<double>(max_chars) * kCharPx * 0.7071 + 20 : 0;
  // The first rotated label reaches left of its slot; widen the canvas if it would be cut.
  double x0 = 0;
  if (rotate && n > 0) {
    double chars = static_cast<double>(std::min<std::size_t>(text_chars(categories_[0]), 48));
    double reach = left + slot * 0.5 + 3 - chars * kCharPx * 0.7071;
    x0 = std::min(0.0, std::floor(reach - 4));
  }

  double top = f.top_px + kLegendRowPx * std::max(0, ll.rows - 1);
  double plot_h = f.height_px - f.top_px - f.bottom_px;
  double bottom = top + plot_h;
  double height = bottom + std::max(f.bottom_px, label_depth);
  LinearScale sy(yt.lo, yt.hi, bottom, top);

  std::string out;
  open_svg(out, id_, title_, f.width_px, height, x0);
  render_legend(out, legend, ll);
  render_y_axis(out, yt, sy, left, right, top, bottom, y_label_);

  out += "<g class=\"bars\">\n";
  const std::size_t m = std::max<std::size_t>(series_.size(), 1);
  for (std::size_t c = 0; c < n; ++c) {
    double slot_x = left + slot * static_cast<double>(c);
    double pos_base = 0, neg_base = 0;
    for (std::size_t k = 0; k < series_.size(); ++k) {
      const BarSeries& s = series_[k];
      if (c >= s.values.size() || !std::isfinite(s.values[c])) continue;
      double v = s.values[c];
      double x, w, v0, v1;
      if (stacked_) {
        w = slot * 0.6;
        x = slot_x + slot * 0.2;
        double& base = v >= 0 ? pos_base : neg_base;
        v0 = base;
        v1 = base + v;
        base = v1;
      } else {
        w = slot * 0.8 / static_cast<double>(m);
        x = slot_x + slot * 0.1 + w * static_cast<double>(k);
        v0 = 0;
        v1 = v;
      }
      double ya = sy(v0), yb = sy(v1);
      const std::string& color = c < s.bar_colors.size() && !s.bar_colors[c].empty()
                                     ? s.bar_colors[c]
                                     : s.color;
      std::string cls = s.css_class.empty() ? "" : " " + escape(s.css_class);
      out += "<rect class=\"bar" + cls + "\" x=\"" + fmt_px(x) + "\" y=\"" +
             fmt_px(std::min(ya, yb)) + "\" width=\"" + fmt_px(w) + "\" height=\"" +
             fmt_px(std::fabs(yb - ya)) + "\" fill=\"" + escape(color) + "\"" +
             opacity_attr("fill-opacity", s.opacity) + "><title>" + escape(categories_[c]) +
             " — " + escape(s.name) + ": " + fmt_value(v) + "</title></rect>\n";
    }
  }
  out += "</g>\n";

  // Category axis.
  out += "<g class=\"x-axis\">\n";
  double zero_y = sy(std::clamp(0.0, yt.lo, yt.hi));
  out += "<line x1=\"" + fmt_px(left) + "\" y1=\"" + fmt_px(zero_y) + "\" x2=\"" + fmt_px(right) +
         "\" y2=\"" + fmt_px(zero_y) + "\" stroke=\"#333333\"/>\n";
  for (std::size_t c = 0; c < n; ++c) {
    double cx = left + slot * (static_cast<double>(c) + 0.5);
    if (rotate)
      out += "<text transform=\"translate(" + fmt_px(cx + 3) + "," + fmt_px(bottom + 10) +
             ") rotate(-45)\" text-anchor=\"end\">" + escape(categories_[c]) + "</text>\n";
    else
      out += "<text x=\"" + fmt_px(cx) + "\" y=\"" + fmt_px(bottom + 16) +
             "\" text-anchor=\"middle\">" + escape(categories_[c]) + "</text>\n";
  }
  out += "</g>\n</svg>\n";
  return out;
}

}  // namespace mixprec::report::svg
