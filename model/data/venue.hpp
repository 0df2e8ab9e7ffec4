// The built-in venue data: a seeded simulator of an enclosed sports venue (an arena) on an
// H x W grid of zones, in 15-minute steps. Equations, parameters and label rules are in
// model/data/README.md; the constants below are the ones documented there.
//
// Contract: simulate_venue() is a pure function of its config (same seed -> identical series
// on every compiler). Frames hold what the sensors report (noise, drift, filled gaps); the
// labels are computed from the true state.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/data/dataset.hpp"

namespace mixprec::data {

enum class Zone : std::uint8_t { Field, Stands, Concourse, Entrance };
enum class DayKind : std::uint8_t { Empty, Training, Match, Concert };
const char* to_string(Zone z);
const char* to_string(DayKind k);

// Occupancy levels (fraction of venue capacity present): empty < 0.02 <= low < 0.20 <= medium
// < 0.50 <= high < 0.80 <= full.
enum OccupancyLevel { kEmpty = 0, kLow, kMedium, kHigh, kFull };
inline constexpr int kOccupancyLevels = 5;
int occupancy_level(double fraction);
const std::vector<std::string>& occupancy_level_names();

enum HvacMode { kOff = 0, kVentilate, kCool, kHeat };
inline constexpr int kHvacModes = 4;
const std::vector<std::string>& hvac_mode_names();
// The documented HVAC rule. occupancy: fraction of capacity; outdoor_c: outdoor temperature;
// co2_ppm: mean CO2 of the served (non-entrance) zones.
//   load = occupancy + 0.03 /K * (outdoor_c - 21)
//   occupied (occupancy >= 0.02): load > 0.40 -> cool; load < -0.10 -> heat; else ventilate
//   empty: co2 > 500 ppm -> ventilate (purge); else off
int hvac_rule(double occupancy, double outdoor_c, double co2_ppm);

struct VenueConfig {
  int height = 16, width = 16;  // at least 6 x 6 (field, stands and concourse rings)
  int days = 28;
  std::uint64_t seed = 1;
  bool sensor_noise = true;     // false: frames are the true state (for tests)
};

struct VenueEvent {
  DayKind kind = DayKind::Empty;
  int day = 0;
  int start_step = 0;   // absolute step of the event start (kick-off, show, session)
  int end_step = 0;     // absolute step the event ends (egress starts after it)
  double attendance = 0;  // crowd as a fraction of venue capacity
};

struct VenueSeries {
  static constexpr int kChannels = 3;        // occupancy density, temperature (C), CO2 (ppm)
  static constexpr int kStepMinutes = 15;
  static constexpr int kStepsPerDay = 24 * 60 / kStepMinutes;
  static constexpr double kCapacityPersons = 40000;

  int height = 0, width = 0, days = 0;
  int steps() const { return days * kStepsPerDay; }
  int frame_size() const { return kChannels * height * width; }

  std::vector<Zone> zone;           // H*W, row-major
  std::vector<float> capacity;      // persons per cell
  // steps x 3 x H x W, what the sensors report: occupancy density (persons / cell capacity),
  // temperature (C), CO2 (ppm).
  std::vector<float> frames;
  std::vector<float> occupancy;     // true persons present / capacity, per step
  std::vector<float> outdoor_c;     // per step
  std::vector<float> co2_mean_ppm;  // true mean CO2 of the served zones, per step
  std::vector<int> level;           // occupancy level per step (OccupancyLevel)
  std::vector<int> hvac;            // HVAC mode run at each step (HvacMode, from hvac_rule)
  std::vector<DayKind> day_kind;    // per day
  std::vector<VenueEvent> events;
  std::int64_t missing_readings = 0;  // sensor readings replaced by the last value
};

VenueSeries simulate_venue(const VenueConfig& cfg);

// Zones of an H x W grid (std::invalid_argument below 6 x 6).
std::vector<Zone> venue_zones(int height, int width);

// Days simulated for a data set: enough that the first 70% of days hold `samples` training
// windows, and at least 28.
int venue_days_for(int samples, int frames, int horizon_steps);

// The venue data set for DataSpec task "occupancy" (5 levels) or "hvac" (4 modes), label
// horizon_steps after the last frame; days split 70/15/15 chronologically.
Dataset make_venue_dataset(const DataSpec& spec, const InputShape& shape, const LoadOptions& opt);

}  // namespace mixprec::data
