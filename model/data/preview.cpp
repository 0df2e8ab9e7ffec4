#include "model/data/preview.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace mixprec::data {

namespace {

struct Panel {
  std::string title;
  int rows = 0, cols = 0;
  std::vector<float> v;  // rows * cols
  float lo = 0, hi = 1;  // colour range
};

struct Timeline {
  std::string title;
  std::vector<float> y;
  std::vector<float> thresholds;  // dashed horizontal lines
  float lo = 0, hi = 1;
  int marker = -1;                // index of a vertical marker line, -1: none
};

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::string escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

// Viridis at five stops, linearly interpolated.
std::string colour(double t) {
  static const int stops[5][3] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
  if (!(t >= 0)) t = 0;
  if (t > 1) t = 1;
  const double x = t * 4;
  const int i = std::min(3, int(x));
  const double f = x - i;
  char b[8];
  int rgb[3];
  for (int k = 0; k < 3; ++k) rgb[k] = int(std::lround(stops[i][k] * (1 - f) + stops[i + 1][k] * f));
  std::snprintf(b, sizeof b, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
  return b;
}

// Panels laid out as a grid (panel_rows x panel_cols, row-major), then the timeline below.
std::string render(const std::string& title, const std::string& subtitle, const std::vector<Panel>& panels,
                   int panel_cols, const Timeline& tl, int cell_px) {
  const int margin = 10, title_h = 40, label_h = 14, gap = 12;
  int pw = 0, ph = 0;
  for (const Panel& p : panels) {
    pw = std::max(pw, p.cols * cell_px);
    ph = std::max(ph, p.rows * cell_px);
  }
  const int panel_rows = panel_cols > 0 ? int((panels.size() + std::size_t(panel_cols) - 1) / std::size_t(panel_cols)) : 0;
  const int grid_w = panel_cols * (pw + gap);
  const int tl_h = 120;
  const int width = std::max(600, 2 * margin + grid_w);
  const int tl_top = title_h + panel_rows * (ph + label_h + gap) + label_h;
  const int height = tl_top + tl_h + 2 * margin;

  std::string s;
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) + "\" height=\"" +
       std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) + " " + std::to_string(height) +
       "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  s += "<rect class=\"background\" x=\"0\" y=\"0\" width=\"" + std::to_string(width) + "\" height=\"" +
       std::to_string(height) + "\" fill=\"white\"/>\n";
  s += "<text x=\"" + std::to_string(margin) + "\" y=\"16\" font-size=\"14\">" + escape(title) + "</text>\n";
  s += "<text x=\"" + std::to_string(margin) + "\" y=\"32\" fill=\"#555\">" + escape(subtitle) + "</text>\n";
  for (std::size_t k = 0; k < panels.size(); ++k) {
    const Panel& p = panels[k];
    const int x0 = margin + int(k % std::size_t(panel_cols)) * (pw + gap);
    const int y0 = title_h + int(k / std::size_t(panel_cols)) * (ph + label_h + gap) + label_h;
    s += "<text x=\"" + std::to_string(x0) + "\" y=\"" + std::to_string(y0 - 3) + "\">" + escape(p.title) + "</text>\n";
    s += "<g class=\"panel\">\n";
    const double span = p.hi > p.lo ? double(p.hi) - p.lo : 1.0;
    for (int r = 0; r < p.rows; ++r)
      for (int c = 0; c < p.cols; ++c) {
        const double t = (p.v[std::size_t(r) * p.cols + c] - p.lo) / span;
        s += "<rect class=\"cell\" x=\"" + std::to_string(x0 + c * cell_px) + "\" y=\"" +
             std::to_string(y0 + r * cell_px) + "\" width=\"" + std::to_string(cell_px) + "\" height=\"" +
             std::to_string(cell_px) + "\" fill=\"" + colour(t) + "\"/>\n";
      }
    s += "</g>\n";
  }
  // Timeline.
  const int tx0 = margin + 40, tx1 = width - margin, ty0 = tl_top + 4, ty1 = tl_top + tl_h - 14;
  s += "<text x=\"" + std::to_string(margin) + "\" y=\"" + std::to_string(tl_top - 3) + "\">" +
       escape(tl.title) + "</text>\n";
  s += "<rect class=\"frame\" x=\"" + std::to_string(tx0) + "\" y=\"" + std::to_string(ty0) + "\" width=\"" +
       std::to_string(tx1 - tx0) + "\" height=\"" + std::to_string(ty1 - ty0) +
       "\" fill=\"none\" stroke=\"#999\"/>\n";
  const double yspan = tl.hi > tl.lo ? double(tl.hi) - tl.lo : 1.0;
  auto ypix = [&](double v) { return ty1 - (v - tl.lo) / yspan * (ty1 - ty0); };
  const int n = int(tl.y.size());
  auto xpix = [&](int i) { return tx0 + (n > 1 ? double(i) / (n - 1) : 0.5) * (tx1 - tx0); };
  for (float th : tl.thresholds)
    s += "<line class=\"threshold\" x1=\"" + std::to_string(tx0) + "\" x2=\"" + std::to_string(tx1) +
         "\" y1=\"" + fmt("%.1f", ypix(th)) + "\" y2=\"" + fmt("%.1f", ypix(th)) +
         "\" stroke=\"#c33\" stroke-dasharray=\"4 3\"/>\n";
  s += "<text x=\"" + std::to_string(margin) + "\" y=\"" + fmt("%.1f", ypix(tl.hi) + 8) + "\">" +
       fmt("%.3g", tl.hi) + "</text>\n";
  s += "<text x=\"" + std::to_string(margin) + "\" y=\"" + fmt("%.1f", ypix(tl.lo)) + "\">" +
       fmt("%.3g", tl.lo) + "</text>\n";
  s += "<polyline class=\"timeline\" fill=\"none\" stroke=\"#225\" stroke-width=\"1\" points=\"";
  for (int i = 0; i < n; ++i) {
    if (i) s += ' ';
    s += fmt("%.1f", xpix(i)) + "," + fmt("%.1f", ypix(tl.y[std::size_t(i)]));
  }
  s += "\"/>\n";
  if (tl.marker >= 0 && tl.marker < n)
    s += "<line class=\"marker\" x1=\"" + fmt("%.1f", xpix(tl.marker)) + "\" x2=\"" + fmt("%.1f", xpix(tl.marker)) +
         "\" y1=\"" + std::to_string(ty0) + "\" y2=\"" + std::to_string(ty1) + "\" stroke=\"#e80\"/>\n";
  s += "</svg>\n";
  return s;
}

// Evenly spaced subset of indices [0, n) of at most k, keeping the last.
std::vector<int> pick(int n, int k) {
  std::vector<int> out;
  if (n <= 0 || k <= 0) return out;
  if (k >= n) {
    for (int i = 0; i < n; ++i) out.push_back(i);
    return out;
  }
  for (int j = 0; j < k; ++j) out.push_back(int(std::lround(double(j + 1) * n / k)) - 1);
  return out;
}

void set_range(Panel& p) {
  if (p.v.empty()) return;
  auto mm = std::minmax_element(p.v.begin(), p.v.end());
  p.lo = *mm.first;
  p.hi = *mm.second;
}

}  // namespace

std::string render_preview_svg(const Dataset& ds, const PreviewOptions& opt) {
  const Split& sp = ds.test.n > 0 ? ds.test : ds.train;
  const char* split_name = ds.test.n > 0 ? "test" : "train";
  if (sp.n == 0) return render(ds.name, "no samples", {}, 1, Timeline{}, opt.cell_px);
  int sample = opt.sample;
  if (sample < 0 || sample >= sp.n) {
    sample = 0;
    if (!ds.regression) {
      const int top = *std::max_element(sp.y.begin(), sp.y.end());
      sample = int(std::find(sp.y.begin(), sp.y.end(), top) - sp.y.begin());
    }
  }
  const InputShape& sh = ds.shape;
  const float* x = sp.sample(sample, ds.sample_size());
  std::vector<Panel> panels;
  int cols = 1;
  auto ch_name = [&](int c) {
    return c < int(ds.channel_names.size()) ? ds.channel_names[std::size_t(c)] : "channel " + std::to_string(c);
  };
  if (sh.is_sequence() || (sh.height == 1 && sh.width == 1)) {
    const int F = sh.frame_size();
    Panel p;
    p.title = "features x steps (normalized)";
    p.rows = F;
    p.cols = sh.frames;
    for (int f = 0; f < F; ++f)
      for (int t = 0; t < sh.frames; ++t) p.v.push_back(x[std::size_t(t) * F + f]);
    set_range(p);
    panels.push_back(std::move(p));
  } else {
    const std::vector<int> fr = pick(sh.frames, opt.frames);
    cols = int(fr.size());
    const int hw = sh.height * sh.width;
    for (int c = 0; c < sh.channels; ++c) {
      const std::size_t first = panels.size();
      for (int t : fr) {
        Panel p;
        p.title = ch_name(c) + ", frame " + std::to_string(t + 1) + "/" + std::to_string(sh.frames);
        p.rows = sh.height;
        p.cols = sh.width;
        const float* f = x + std::size_t(t) * sh.frame_size() + std::size_t(c) * hw;
        p.v.assign(f, f + hw);
        panels.push_back(std::move(p));
      }
      // One colour range per channel across the frames shown.
      float lo = panels[first].v[0], hi = lo;
      for (std::size_t k = first; k < panels.size(); ++k)
        for (float v : panels[k].v) {
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        }
      for (std::size_t k = first; k < panels.size(); ++k) {
        panels[k].lo = lo;
        panels[k].hi = hi;
      }
    }
  }
  Timeline tl;
  const std::vector<int> idx = pick(sp.n, opt.timeline_points);
  for (int i : idx)
    tl.y.push_back(ds.regression ? sp.target[std::size_t(i)] * ds.target_std + ds.target_mean
                                 : float(sp.y[std::size_t(i)]));
  if (!tl.y.empty()) {
    auto mm = std::minmax_element(tl.y.begin(), tl.y.end());
    tl.lo = ds.regression ? *mm.first : 0.0f;
    tl.hi = ds.regression ? *mm.second : float(std::max(1, ds.classes - 1));
  }
  for (std::size_t k = 0; k < idx.size(); ++k)
    if (idx[k] >= sample) {
      tl.marker = int(k);
      break;
    }
  std::string label;
  if (ds.regression) {
    label = "target (" + ds.target_unit + ") " + std::to_string(ds.horizon_steps) + " step(s) ahead";
  } else {
    label = "label 0-" + std::to_string(ds.classes - 1) + " (";
    for (int c = 0; c < ds.classes; ++c) label += (c ? "/" : "") + ds.class_names[std::size_t(c)];
    label += ")";
  }
  tl.title = std::string(split_name) + " split, " + label + " over " + std::to_string(sp.n) +
             " samples; marker: sample shown";
  const std::string sub = std::string(split_name) + " sample " + std::to_string(sample) +
                          (ds.regression ? std::string()
                                         : ", label " + ds.class_names[std::size_t(sp.y[std::size_t(sample)])]);
  return render(ds.name, sub, panels, cols, tl, opt.cell_px);
}

std::string render_preview_svg(const VenueSeries& vs, const PreviewOptions& opt) {
  // The best-attended event, or the first day when there is none.
  const VenueEvent* ev = nullptr;
  for (const VenueEvent& e : vs.events)
    if (!ev || e.attendance > ev->attendance) ev = &e;
  std::vector<int> steps;
  std::vector<std::string> what;
  if (ev) {
    const int brk = ev->kind == DayKind::Concert ? 4 : 3;
    steps = {ev->start_step - 5, ev->start_step + 1, ev->start_step + brk, ev->end_step + 1};
    what = {"ingress", "event", "break", "egress"};
  } else {
    steps = {48, 60, 72, 84};
    what = {"12:00", "15:00", "18:00", "21:00"};
  }
  const int nshow = std::clamp(opt.frames, 1, 4);
  steps.resize(std::size_t(nshow));
  const int hw = vs.height * vs.width;
  const char* names[3] = {"occupancy density", "temperature (C)", "CO2 (ppm)"};
  std::vector<Panel> panels;
  for (int c = 0; c < VenueSeries::kChannels; ++c) {
    const std::size_t first = panels.size();
    for (int i = 0; i < nshow; ++i) {
      const int k = std::clamp(steps[std::size_t(i)], 0, vs.steps() - 1);
      Panel p;
      char t[32];
      std::snprintf(t, sizeof t, "%02d:%02d", (k % VenueSeries::kStepsPerDay) / 4, (k % 4) * 15);
      p.title = std::string(names[c]) + ", " + what[std::size_t(i)] + " " + t;
      p.rows = vs.height;
      p.cols = vs.width;
      const float* f = vs.frames.data() + std::size_t(k) * vs.frame_size() + std::size_t(c) * hw;
      p.v.assign(f, f + hw);
      panels.push_back(std::move(p));
    }
    float lo = panels[first].v[0], hi = lo;
    for (std::size_t k = first; k < panels.size(); ++k)
      for (float v : panels[k].v) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    for (std::size_t k = first; k < panels.size(); ++k) {
      panels[k].lo = lo;
      panels[k].hi = hi;
    }
  }
  Timeline tl;
  const int span = std::min(vs.steps(), 7 * VenueSeries::kStepsPerDay);
  const std::vector<int> idx = pick(span, opt.timeline_points);
  for (int i : idx) tl.y.push_back(vs.occupancy[std::size_t(i)]);
  tl.lo = 0;
  tl.hi = 1;
  tl.thresholds = {0.02f, 0.20f, 0.50f, 0.80f};
  if (ev)
    for (std::size_t k = 0; k < idx.size(); ++k)
      if (idx[k] >= ev->start_step) {
        tl.marker = int(k);
        break;
      }
  tl.title = "true occupancy / capacity, first " + std::to_string(span / VenueSeries::kStepsPerDay) +
             " days; dashed: level thresholds 0.02, 0.2, 0.5, 0.8";
  std::string sub = std::to_string(vs.height) + " x " + std::to_string(vs.width) + " zones, " +
                    std::to_string(vs.days) + " days";
  if (ev)
    sub += "; frames of day " + std::to_string(ev->day) + " (" + to_string(ev->kind) + ", attendance " +
           fmt("%.2f", ev->attendance) + ")";
  return render("venue generator", sub, panels, nshow, tl, opt.cell_px);
}

}  // namespace mixprec::data
