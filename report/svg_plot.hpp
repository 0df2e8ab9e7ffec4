// A small, dependency-free SVG plotting helper for the reproducibility report: linear axes with
// nice ticks, line / scatter / bar series, shaded x-bands and a legend. Output is plain SVG 1.1
// text (no scripts, no external resources) and deterministic: the same inputs give the same bytes.
//
//   svg::XYPlot p("fig-id", "Title", "energy (µJ)", "accuracy (%)");
//   p.add({"models", "#1f77b4", svg::Mark::Points, xs, ys});
//   p.add_band({440, 520, "claim band", "#2ca02c", "claim-band"});
//   std::string text = p.render();
//
// Layout: a plot is `Frame::width_px` wide; the plot area spans x from `left_px` to
// `width_px - right_px`. Vertical space grows with the legend (bars: with their labels), never the
// horizontal mapping, so x pixel positions follow from the frame and the x ticks alone.
#pragma once
#include <string>
#include <vector>

namespace mixprec::report::svg {

// Escapes text for XML/HTML text and attribute values (& < > " ').
std::string escape(const std::string& text);

// Fixed-point formatting ("%.*f"); -0 prints as 0; non-finite values print as "n/a".
std::string fmt_fixed(double v, int decimals);
// `sig` significant digits, no exponent for 1e-4 <= |v| < 1e15: values with more integer digits than
// `sig` print as rounded integers (12345 -> "12345"); trailing zeros are kept (0.8 -> "0.800").
// Smaller values use an exponent ("1.20e-06"); non-finite values print as "n/a".
std::string fmt_sig(double v, int sig = 3);
// Pixel coordinates: two decimals.
std::string fmt_px(double v);

// Tick positions covering [min, max] with a step of 1, 2 or 5 times a power of ten.
struct Ticks {
  double lo = 0, hi = 1, step = 1;  // lo and hi are multiples of step
  int decimals = 0;                 // decimals needed to print a tick
  std::vector<double> values;       // lo, lo + step, ..., hi
};
// `min_step` > 0 bounds the step from below (1 for integer axes such as epochs).
Ticks nice_ticks(double min, double max, int target_count = 5, double min_step = 0);

// Maps a domain [d0, d1] linearly onto pixels [p0, p1].
class LinearScale {
 public:
  LinearScale(double d0, double d1, double p0, double p1) : d0_(d0), d1_(d1), p0_(p0), p1_(p1) {}
  double operator()(double v) const {
    return d1_ == d0_ ? p0_ : p0_ + (v - d0_) / (d1_ - d0_) * (p1_ - p0_);
  }

 private:
  double d0_, d1_, p0_, p1_;
};

struct Frame {
  double width_px = 640, height_px = 360;  // height grows with legend rows and bar labels
  double left_px = 72, right_px = 24, top_px = 52, bottom_px = 56;
  double plot_left() const { return left_px; }
  double plot_right() const { return width_px - right_px; }
};

// Colour `i` of a fixed 10-colour qualitative palette (Tableau 10).
const char* palette(std::size_t i);

struct LegendEntry {
  std::string name, color;
  double opacity = 1.0;
};

enum class Mark { Line, Points, LinePoints };

struct Series {
  std::string name, color;
  Mark mark = Mark::Points;
  std::vector<double> x, y;             // non-finite pairs are skipped
  std::vector<std::string> labels;      // optional text written beside each point
  std::vector<double> y_lo, y_hi;       // optional error bars (same length as y; non-finite: none)
  double radius_px = 3.5;
  bool hollow = false;                  // ring markers (highlights)
  bool dashed = false;
  bool in_legend = true;
  std::string css_class;                // added to the marks' class attribute
};

// A shaded vertical band between x0 and x1 (domain units).
struct BandX {
  double x0 = 0, x1 = 0;
  std::string label, color, id;
};

// A shaded horizontal band between y0 and y1 (domain units), e.g. a threshold region.
struct BandY {
  double y0 = 0, y1 = 0;
  std::string label, color, id;
};

class XYPlot {
 public:
  XYPlot(std::string id, std::string title, std::string x_label, std::string y_label,
         Frame frame = {});
  void add(Series s) { series_.push_back(std::move(s)); }
  void add_band(BandX b) { bands_.push_back(std::move(b)); }
  void add_band_y(BandY b) { ybands_.push_back(std::move(b)); }
  // Smallest x tick step (1 keeps an epoch axis on whole numbers).
  void set_x_min_step(double step) { x_min_step_ = step; }
  // The ticks (and so the pixel mapping) the plot will use, from all series and bands.
  Ticks x_ticks() const;
  Ticks y_ticks() const;
  std::string render() const;

 private:
  std::string id_, title_, x_label_, y_label_;
  Frame frame_;
  std::vector<Series> series_;
  std::vector<BandX> bands_;
  std::vector<BandY> ybands_;
  double x_min_step_ = 0;
};

struct BarSeries {
  std::string name, color;
  std::vector<double> values;           // one per category; non-finite: no bar
  std::vector<std::string> bar_colors;  // optional per-bar colour overriding `color`
  double opacity = 1.0;
  std::string css_class;                // bars get class="bar <css_class>"
};

// Categorical bars: grouped (side by side) or stacked; y from zero.
class BarPlot {
 public:
  BarPlot(std::string id, std::string title, std::string y_label, Frame frame = {});
  void set_categories(std::vector<std::string> c) { categories_ = std::move(c); }
  void add(BarSeries s) { series_.push_back(std::move(s)); }
  void set_stacked(bool s) { stacked_ = s; }
  // Replaces the legend built from the series names.
  void set_legend(std::vector<LegendEntry> l) { legend_ = std::move(l); custom_legend_ = true; }
  std::string render() const;

 private:
  std::string id_, title_, y_label_;
  Frame frame_;
  std::vector<std::string> categories_;
  std::vector<BarSeries> series_;
  std::vector<LegendEntry> legend_;
  bool stacked_ = false, custom_legend_ = false;
};

}  // namespace mixprec::report::svg
