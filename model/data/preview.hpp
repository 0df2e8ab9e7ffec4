// SVG previews of data: a few frames as heat maps (one row of grids per channel) and a label
// timeline. Output is deterministic (fixed number formatting, no timestamps).
//
// Contract: every heat-map cell is one <rect class="cell" .../>, so a preview of f frames of
// C x H x W has f*C*H*W of them (sequence data sets: one F x T heat map, F*T cells); the
// timeline is one <polyline class="timeline" .../>.
#pragma once
#include <string>

#include "model/data/dataset.hpp"
#include "model/data/venue.hpp"

namespace mixprec::data {

struct PreviewOptions {
  int frames = 4;    // frames shown (image data sets), evenly spaced over the T frames, last included
  int sample = -1;   // test-split sample shown; -1: the first sample of the highest class present
  int cell_px = 8;   // heat-map cell size
  int timeline_points = 600;  // at most this many timeline points (evenly spaced)
};

// A sample of the test split (train if test is empty), in normalized units, and the split's
// label (or target, in original units) over its samples.
std::string render_preview_svg(const Dataset& ds, const PreviewOptions& opt = {});

// The simulator output in physical units: frames of the best-attended event (gates, first
// half, break, egress) and the true occupancy fraction over the first week with the level
// thresholds.
std::string render_preview_svg(const VenueSeries& vs, const PreviewOptions& opt = {});

}  // namespace mixprec::data
