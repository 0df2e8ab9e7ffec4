#include "model/data/venue.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>

#include "model/data/rng.hpp"
#include "model/data/window.hpp"

namespace mixprec::data {

const char* to_string(Zone z) {
  switch (z) {
    case Zone::Field: return "field";
    case Zone::Stands: return "stands";
    case Zone::Concourse: return "concourse";
    case Zone::Entrance: return "entrance";
  }
  return "?";
}

const char* to_string(DayKind k) {
  switch (k) {
    case DayKind::Empty: return "empty";
    case DayKind::Training: return "training";
    case DayKind::Match: return "match";
    case DayKind::Concert: return "concert";
  }
  return "?";
}

int occupancy_level(double f) {
  if (f < 0.02) return kEmpty;
  if (f < 0.20) return kLow;
  if (f < 0.50) return kMedium;
  if (f < 0.80) return kHigh;
  return kFull;
}

const std::vector<std::string>& occupancy_level_names() {
  static const std::vector<std::string> n{"empty", "low", "medium", "high", "full"};
  return n;
}

const std::vector<std::string>& hvac_mode_names() {
  static const std::vector<std::string> n{"off", "ventilate", "cool", "heat"};
  return n;
}

int hvac_rule(double occupancy, double outdoor_c, double co2_ppm) {
  if (occupancy >= 0.02) {
    const double load = occupancy + 0.03 * (outdoor_c - 21.0);
    if (load > 0.40) return kCool;
    if (load < -0.10) return kHeat;
    return kVentilate;
  }
  return co2_ppm > 500.0 ? kVentilate : kOff;
}

namespace {

// --- parameters (README "Parameters") -----------------------------------------------------
constexpr int kDay = VenueSeries::kStepsPerDay;
constexpr double kHoursPerStep = VenueSeries::kStepMinutes / 60.0;
constexpr int kSubsteps = 15;  // Euler sub-steps of one minute
constexpr int kOpeningStep = 7 * 60 / VenueSeries::kStepMinutes;  // 07:00: data-set windows start
constexpr double kOutdoorCo2 = 420;

// Capacity shares of the zone groups (entrances count as concourse).
constexpr double kStandsShare = 0.75, kConcourseShare = 0.17, kFieldShare = 0.08;

struct ZoneParams {
  double tau_env_h;    // envelope time constant
  double heat_k_per_h; // warming rate at density 1 (occupants' sensible heat)
  double co2_ppm_per_h;  // CO2 rise at density 1
  double infiltration_per_h;
  bool served;         // reached by the HVAC
};
ZoneParams params_of(Zone z) {
  switch (z) {
    case Zone::Field: return {12.0, 2.5, 2000, 0.3, true};
    case Zone::Stands: return {12.0, 2.5, 2000, 0.3, true};
    case Zone::Concourse: return {6.0, 2.0, 2000, 0.3, true};
    case Zone::Entrance: return {0.5, 1.0, 600, 6.0, false};
  }
  return {6.0, 2.5, 2000, 0.3, true};
}
constexpr double kVentAirPerH = 4.0;      // outdoor-air changes when the HVAC runs
// "ventilate": the outdoor air's pull towards T_out after 70% heat recovery.
constexpr double kVentThermalPerH = 0.6 * (1 - 0.7);
constexpr double kConditionPerH = 2.0;    // cool/heat pull towards the set point
constexpr double kCoolSetC = 21.0, kHeatSetC = 20.0;
// Base tempering in every mode (frost protection of the served zones).
constexpr double kTemperSetC = 12.0, kTemperPerH = 0.5;
constexpr double kNeighbourThermalPerH = 0.5, kNeighbourCo2PerH = 1.0;

// Sensors: white noise, Ornstein-Uhlenbeck drift (stationary sd, time constant), gaps.
constexpr std::array<double, 3> kNoiseSd{0.02, 0.15, 10.0};
constexpr std::array<double, 3> kDriftSd{0.01, 0.3, 15.0};
constexpr double kDriftTauSteps = 2 * kDay;
constexpr double kMissingP = 0.005, kOutageP = 0.0005;

// Event timing (steps relative to the start S) and crowd curves.
struct EventShape {
  int staff_before, gates_before, duration, break_at, staff_after;
  std::vector<double> ingress;  // fraction present at gates+k, k = 0..gates_before-1
  std::vector<double> egress;   // fraction remaining at E+1, E+2, ...
  double break_circulation;
};
const EventShape& shape_of(DayKind k) {
  static const EventShape big_match{16, 10, 8, 3, 6,
                                    {0, 0.12, 0.20, 0.28, 0.37, 0.47, 0.58, 0.70, 0.82, 0.93},
                                    {0.55, 0.20, 0.05}, 0.30};
  static const EventShape concert{16, 10, 12, 4, 6,
                                  {0, 0.12, 0.20, 0.28, 0.37, 0.47, 0.58, 0.70, 0.82, 0.93},
                                  {0.55, 0.20, 0.05}, 0.30};
  static const EventShape training{8, 2, 8, 3, 3, {0, 0.6}, {0.35}, 0.25};
  if (k == DayKind::Match) return big_match;
  if (k == DayKind::Concert) return concert;
  return training;
}

// Day-kind probabilities per weekday (Monday first): empty, training, match, concert.
constexpr double kDayKindP[7][4] = {
    {0.35, 0.45, 0.00, 0.20}, {0.15, 0.45, 0.20, 0.20}, {0.10, 0.20, 0.50, 0.20},
    {0.15, 0.45, 0.20, 0.20}, {0.10, 0.10, 0.30, 0.50}, {0.05, 0.00, 0.60, 0.35},
    {0.10, 0.20, 0.50, 0.20}};

double attendance_for(DayKind k, Rng& rng) {
  // Bands keep each plateau at least 0.05 away from a level threshold.
  if (k == DayKind::Training) return rng.uniform(0.08, 0.16);
  const double u = rng.uniform();
  if (k == DayKind::Match) {
    if (u < 0.20) return rng.uniform(0.25, 0.44);
    if (u < 0.65) return rng.uniform(0.55, 0.74);
    return rng.uniform(0.85, 0.90);  // seats + concourse hold 92% of capacity
  }
  if (u < 0.30) return rng.uniform(0.25, 0.44);
  if (u < 0.65) return rng.uniform(0.55, 0.74);
  return rng.uniform(0.86, 0.95);
}

int start_step_for(DayKind k, int weekday, Rng& rng) {
  auto at = [](int h, int m) { return (h * 60 + m) / VenueSeries::kStepMinutes; };
  if (k == DayKind::Match) {
    if (weekday >= 5) {
      const int s[3] = {at(14, 0), at(15, 30), at(18, 0)};
      return s[rng.below(3)];
    }
    const int s[2] = {at(18, 0), at(20, 0)};
    return s[rng.below(2)];
  }
  if (k == DayKind::Concert) return rng.chance(0.5) ? at(19, 0) : at(19, 30);
  const int s[4] = {at(10, 0), at(11, 0), at(14, 0), at(16, 0)};
  return s[rng.below(4)];
}

// Background presence (offices, security) as a fraction of capacity.
double background_fraction(int weekday, int step_of_day) {
  const double hour = step_of_day * kHoursPerStep;
  if (weekday < 5 && hour >= 8 && hour < 18) return 0.004;
  if (weekday >= 5 && hour >= 10 && hour < 16) return 0.0015;
  return 0.0005;
}

// Crowd in the venue at one step, by where it is.
struct Presence {
  double seats = 0, circulation = 0, entrance_share = 0.02;  // of circulation
  double staff = 0, players = 0, background = 0;
  bool seats_include_field = false;
  double total() const { return seats + circulation + staff + players + background; }
};

void add_event(Presence& p, const VenueEvent& ev, int k) {
  const EventShape& sh = shape_of(ev.kind);
  const int S = ev.start_step, E = ev.end_step;
  const int gates = S - sh.gates_before;
  const double A = ev.attendance;
  double crowd = 0, circ = 0;
  bool flow = false;
  if (k >= gates && k < S) {
    const int i = k - gates;
    crowd = A * sh.ingress[std::size_t(i)];
    circ = 0.35 - 0.23 * double(i) / sh.gates_before;
    flow = true;
  } else if (k >= S && k <= E) {
    crowd = A;
    circ = (k == S + sh.break_at) ? sh.break_circulation : 0.08;
  } else if (k > E && k - E - 1 < int(sh.egress.size())) {
    crowd = A * sh.egress[std::size_t(k - E - 1)];
    circ = 0.5;
    flow = true;
  }
  p.seats += crowd * (1 - circ);
  p.circulation += crowd * circ;
  if (flow && crowd > 0) p.entrance_share = 0.06;  // queues at the gates
  p.seats_include_field = ev.kind == DayKind::Concert;
  if (k >= S - sh.staff_before && k < E + sh.staff_after) {
    p.staff += ev.kind == DayKind::Training ? 0.002 : 0.002 + 0.008 * A;
    if (ev.kind != DayKind::Concert && k >= S && k <= E) p.players += 0.001;
  }
}

double day_interp(const std::vector<double>& v, double x) {
  // Linear interpolation of per-day values placed at day centres; x in days.
  double pos = x - 0.5;
  int i = int(std::floor(pos));
  double f = pos - i;
  auto at = [&](int j) { return v[std::size_t(std::clamp(j + 1, 0, int(v.size()) - 1))]; };
  return at(i) * (1 - f) + at(i + 1) * f;
}

}  // namespace

std::vector<Zone> venue_zones(int H, int W) {
  if (H < 6 || W < 6)
    throw std::invalid_argument("venue grid must be at least 6 x 6 zones, got " +
                                std::to_string(H) + " x " + std::to_string(W));
  std::vector<Zone> z(std::size_t(H) * W);
  const double mid_r = (H - 1) / 2.0, mid_c = (W - 1) / 2.0;
  for (int r = 0; r < H; ++r)
    for (int c = 0; c < W; ++c) {
      const double dy = std::fabs(r + 0.5 - H / 2.0) / (H / 2.0);
      const double dx = std::fabs(c + 0.5 - W / 2.0) / (W / 2.0);
      const double d = std::max(dx, dy);
      Zone zz = d >= 0.8 ? Zone::Concourse : d >= 0.4 ? Zone::Stands : Zone::Field;
      const bool edge_tb = r == 0 || r == H - 1, edge_lr = c == 0 || c == W - 1;
      if ((edge_tb && std::fabs(c - mid_c) <= std::max(0.5, W / 16.0)) ||
          (edge_lr && std::fabs(r - mid_r) <= std::max(0.5, H / 16.0)))
        zz = Zone::Entrance;
      z[std::size_t(r) * W + c] = zz;
    }
  for (Zone need : {Zone::Field, Zone::Stands, Zone::Concourse, Zone::Entrance})
    if (std::find(z.begin(), z.end(), need) == z.end())
      throw std::invalid_argument(std::string("venue grid ") + std::to_string(H) + " x " +
                                  std::to_string(W) + " has no " + to_string(need) + " zone");
  return z;
}

VenueSeries simulate_venue(const VenueConfig& cfg) {
  if (cfg.days < 1) throw std::invalid_argument("venue simulation needs at least one day");
  VenueSeries out;
  const int H = cfg.height, W = cfg.width, cells = H * W;
  const std::size_t ncell = std::size_t(cells);
  out.height = H;
  out.width = W;
  out.days = cfg.days;
  out.zone = venue_zones(H, W);

  // Layout: capacities and per-cell popularity.
  Rng layout_rng(Rng::mix(cfg.seed, 1));
  int n_stands = 0, n_conc = 0, n_field = 0;
  for (Zone z : out.zone) {
    n_stands += z == Zone::Stands;
    n_conc += z == Zone::Concourse || z == Zone::Entrance;
    n_field += z == Zone::Field;
  }
  const double C = VenueSeries::kCapacityPersons;
  out.capacity.resize(ncell);
  std::vector<double> weight(ncell);
  for (int i = 0; i < cells; ++i) {
    const Zone z = out.zone[std::size_t(i)];
    out.capacity[std::size_t(i)] = float(z == Zone::Stands  ? kStandsShare * C / n_stands
                                         : z == Zone::Field ? kFieldShare * C / n_field
                                                            : kConcourseShare * C / n_conc);
    weight[std::size_t(i)] = layout_rng.uniform(0.85, 1.15);
  }
  // Office cells (background presence): the non-entrance concourse cells of the top row.
  std::vector<char> office(ncell, 0);
  for (int c = 0; c < W; ++c) office[std::size_t(c)] = out.zone[std::size_t(c)] == Zone::Concourse;

  // Calendar.
  Rng cal_rng(Rng::mix(cfg.seed, 2));
  out.day_kind.resize(std::size_t(cfg.days));
  for (int d = 0; d < cfg.days; ++d) {
    const int wd = d % 7;
    double u = cal_rng.uniform(), acc = 0;
    int kind = 0;
    for (int j = 0; j < 4; ++j) {
      acc += kDayKindP[wd][j];
      if (u < acc) {
        kind = j;
        break;
      }
    }
    DayKind k = DayKind(kind);
    out.day_kind[std::size_t(d)] = k;
    if (k == DayKind::Empty) continue;
    VenueEvent ev;
    ev.kind = k;
    ev.day = d;
    ev.start_step = d * kDay + start_step_for(k, wd, cal_rng);
    ev.end_step = ev.start_step + shape_of(k).duration;
    ev.attendance = attendance_for(k, cal_rng);
    out.events.push_back(ev);
  }

  // Weather: AR(1) daily means around 13 C (sd 6 C, lag-1 correlation 0.5), daily amplitude;
  // days -1 .. days.
  Rng wx_rng(Rng::mix(cfg.seed, 3));
  std::vector<double> day_mean, day_amp;
  double m = 13 + 6 * wx_rng.normal();
  for (int d = -1; d <= cfg.days; ++d) {
    day_mean.push_back(m);
    day_amp.push_back(wx_rng.uniform(3, 6));
    m = 13 + 0.5 * (m - 13) + 5.2 * wx_rng.normal();
  }
  auto outdoor_at = [&](double t_steps) {
    const double days = t_steps / kDay;
    const double hour = (t_steps - std::floor(days) * kDay) * kHoursPerStep;
    const double mean = day_interp(day_mean, days);
    const double amp = day_interp(day_amp, days);
    return mean + amp * std::cos(6.283185307179586 * (hour - 15.0) / 24.0);
  };

  // Groups of cells and their normalizers sum(weight * capacity).
  auto norm_of = [&](auto pred) {
    double s = 0;
    for (int i = 0; i < cells; ++i)
      if (pred(i)) s += weight[std::size_t(i)] * out.capacity[std::size_t(i)];
    return s;
  };
  auto is = [&](int i, Zone z) { return out.zone[std::size_t(i)] == z; };
  const double n_st = norm_of([&](int i) { return is(i, Zone::Stands); });
  const double n_fd = norm_of([&](int i) { return is(i, Zone::Field); });
  const double n_cc = norm_of([&](int i) { return is(i, Zone::Concourse); });
  const double n_en = norm_of([&](int i) { return is(i, Zone::Entrance); });
  const double n_of = norm_of([&](int i) { return office[std::size_t(i)] != 0; });

  // Neighbours (4-connected).
  std::vector<std::vector<int>> nbr(ncell);
  for (int r = 0; r < H; ++r)
    for (int c = 0; c < W; ++c) {
      auto& v = nbr[std::size_t(r) * W + c];
      if (r > 0) v.push_back((r - 1) * W + c);
      if (r + 1 < H) v.push_back((r + 1) * W + c);
      if (c > 0) v.push_back(r * W + c - 1);
      if (c + 1 < W) v.push_back(r * W + c + 1);
    }
  std::vector<ZoneParams> zp;
  int served = 0;
  for (Zone z : out.zone) {
    zp.push_back(params_of(z));
    served += zp.back().served;
  }

  const int steps = out.steps();
  const int warmup = kDay;
  out.frames.assign(std::size_t(steps) * out.frame_size(), 0.0f);
  out.occupancy.resize(std::size_t(steps));
  out.outdoor_c.resize(std::size_t(steps));
  out.co2_mean_ppm.resize(std::size_t(steps));
  out.level.resize(std::size_t(steps));
  out.hvac.resize(std::size_t(steps));

  std::vector<double> T(ncell, outdoor_at(-warmup)), co2(ncell, kOutdoorCo2);
  std::vector<double> rho(ncell), dT(ncell), dC(ncell);

  // Sensors: drift state, outage counters and the last reported value, per (channel, cell).
  Rng sensor_rng(Rng::mix(cfg.seed, 4));
  const int n_sensors = VenueSeries::kChannels * cells;
  const std::size_t nsens = std::size_t(n_sensors);
  std::vector<double> drift(nsens, 0.0);
  for (int s = 0; s < n_sensors; ++s) drift[std::size_t(s)] = kDriftSd[std::size_t(s / cells)] * sensor_rng.normal();
  std::vector<int> outage(nsens, 0);
  std::vector<float> last(nsens, 0.0f);
  const double drift_keep = 1.0 - 1.0 / kDriftTauSteps;
  const double drift_kick = std::sqrt(2.0 / kDriftTauSteps);

  std::size_t next_event = 0;
  const double dt_h = kHoursPerStep / kSubsteps;
  for (int k = -warmup; k < steps; ++k) {
    const int day = k >= 0 ? k / kDay : -1;
    const int weekday = ((day % 7) + 7) % 7;
    const int sod = ((k % kDay) + kDay) % kDay;

    // Who is where.
    Presence p;
    p.background = background_fraction(weekday, sod);
    while (next_event < out.events.size() && out.events[next_event].end_step + 16 < k) ++next_event;
    for (std::size_t e = next_event; e < out.events.size() && out.events[e].day <= day; ++e)
      if (out.events[e].day == day) add_event(p, out.events[e], k);
    const double entr_share = p.entrance_share;
    const double seats_norm = n_st + (p.seats_include_field ? n_fd : 0.0);
    for (int i = 0; i < cells; ++i) {
      const Zone z = out.zone[std::size_t(i)];
      const double w = weight[std::size_t(i)];
      double persons_per_wcap = 0;  // persons / (weight * capacity) summed over groups
      if (z == Zone::Stands || (z == Zone::Field && p.seats_include_field))
        persons_per_wcap += p.seats / seats_norm;
      if (z == Zone::Field) persons_per_wcap += p.players / n_fd;
      if (z == Zone::Concourse)
        persons_per_wcap += p.circulation * (1 - entr_share) / n_cc + p.staff / (n_cc + n_en);
      if (z == Zone::Entrance)
        persons_per_wcap += p.circulation * entr_share / n_en + p.staff / (n_cc + n_en);
      if (office[std::size_t(i)]) persons_per_wcap += p.background / n_of;
      rho[std::size_t(i)] = persons_per_wcap * w * C;
    }
    const double occ = p.total();
    double co2_served = 0;
    for (int i = 0; i < cells; ++i)
      if (zp[std::size_t(i)].served) co2_served += co2[std::size_t(i)];
    co2_served /= served;
    const double t_out = outdoor_at(k);
    const int mode = hvac_rule(occ, t_out, co2_served);

    if (k >= 0) {
      out.occupancy[std::size_t(k)] = float(occ);
      out.outdoor_c[std::size_t(k)] = float(t_out);
      out.co2_mean_ppm[std::size_t(k)] = float(co2_served);
      out.level[std::size_t(k)] = occupancy_level(occ);
      out.hvac[std::size_t(k)] = mode;
      float* f = out.frames.data() + std::size_t(k) * out.frame_size();
      for (int ch = 0; ch < VenueSeries::kChannels; ++ch)
        for (int i = 0; i < cells; ++i) {
          const double truth = ch == 0 ? rho[std::size_t(i)] : ch == 1 ? T[std::size_t(i)] : co2[std::size_t(i)];
          const std::size_t s = std::size_t(ch * cells + i);
          float v = float(truth);
          if (cfg.sensor_noise) {
            drift[s] = drift[s] * drift_keep + kDriftSd[std::size_t(ch)] * drift_kick * sensor_rng.normal();
            double obs = truth + drift[s] + kNoiseSd[std::size_t(ch)] * sensor_rng.normal();
            if (ch == 0) obs = std::max(0.0, obs);
            bool missing = false;
            if (outage[s] > 0) {
              --outage[s];
              missing = true;
            } else if (sensor_rng.chance(kOutageP)) {
              outage[s] = 1 + sensor_rng.below(11);  // 2..12 steps including this one
              missing = true;
            } else if (sensor_rng.chance(kMissingP)) {
              missing = true;
            }
            if (k == 0) missing = false;
            if (missing) {
              v = last[s];
              ++out.missing_readings;
            } else {
              v = float(obs);
            }
            last[s] = v;
          }
          f[std::size_t(ch * cells + i)] = v;
        }
    }

    // Integrate the zone model over the step (the crowd and the HVAC mode held constant).
    for (int sub = 0; sub < kSubsteps; ++sub) {
      const double to = outdoor_at(k + double(sub) / kSubsteps);
      for (int i = 0; i < cells; ++i) {
        const ZoneParams& q = zp[std::size_t(i)];
        const double Ti = T[std::size_t(i)], ci = co2[std::size_t(i)];
        double tn = 0, cn = 0;
        for (int j : nbr[std::size_t(i)]) {
          tn += T[std::size_t(j)];
          cn += co2[std::size_t(j)];
        }
        tn /= double(nbr[std::size_t(i)].size());
        cn /= double(nbr[std::size_t(i)].size());
        double dti = (to - Ti) / q.tau_env_h + q.heat_k_per_h * rho[std::size_t(i)] +
                     kNeighbourThermalPerH * (tn - Ti);
        double air = q.infiltration_per_h;
        if (q.served && Ti < kTemperSetC) dti += kTemperPerH * (kTemperSetC - Ti);
        if (q.served && mode != kOff) {
          air += kVentAirPerH;
          if (mode == kVentilate) dti += kVentThermalPerH * (to - Ti);
          if (mode == kCool && Ti > kCoolSetC) dti += kConditionPerH * (kCoolSetC - Ti);
          if (mode == kHeat && Ti < kHeatSetC) dti += kConditionPerH * (kHeatSetC - Ti);
        }
        const double dci = q.co2_ppm_per_h * rho[std::size_t(i)] - air * (ci - kOutdoorCo2) +
                           kNeighbourCo2PerH * (cn - ci);
        dT[std::size_t(i)] = dti;
        dC[std::size_t(i)] = dci;
      }
      for (int i = 0; i < cells; ++i) {
        T[std::size_t(i)] += dt_h * dT[std::size_t(i)];
        co2[std::size_t(i)] += dt_h * dC[std::size_t(i)];
      }
    }
  }
  return out;
}

int venue_days_for(int samples, int frames, int horizon_steps) {
  const int per_day = kDay - kOpeningStep;  // windows per day (label steps in operating hours)
  const int train_days = int(std::ceil(double(samples + frames + horizon_steps) / per_day));
  int days = std::max(28, int(std::ceil(train_days / 0.70)));
  while (int(std::lround(days * 0.70)) < train_days) ++days;
  return days;
}

Dataset make_venue_dataset(const DataSpec& spec, const InputShape& shape, const LoadOptions& opt) {
  if (shape.is_sequence())
    throw SpecError(opt.scenario_file, "/network/input",
                    "image frames (channels, height, width) for the venue generator",
                    std::to_string(shape.features) + " sequence features");
  if (shape.channels < 1 || shape.channels > VenueSeries::kChannels)
    throw SpecError(opt.scenario_file, "/network/input/channels",
                    "1 to 3 channels for the venue generator (occupancy, temperature, CO2)",
                    std::to_string(shape.channels));
  if (shape.height < 6 || shape.width < 6)
    throw SpecError(opt.scenario_file, "/network/input",
                    "a venue grid of at least 6 x 6 zones (height, width)",
                    std::to_string(shape.height) + " x " + std::to_string(shape.width));
  const bool hvac = spec.task == "hvac";
  const int T = shape.frames, h = spec.horizon_steps;

  VenueConfig cfg;
  cfg.height = shape.height;
  cfg.width = shape.width;
  cfg.days = venue_days_for(spec.samples, T, h);
  cfg.seed = std::uint64_t(spec.seed);
  VenueSeries vs = simulate_venue(cfg);

  detail::Series s;
  const int cells = shape.height * shape.width;
  s.frame_size = shape.channels * cells;
  if (shape.channels == VenueSeries::kChannels) {
    s.values = std::move(vs.frames);
  } else {
    s.values.resize(std::size_t(vs.steps()) * s.frame_size);
    for (int k = 0; k < vs.steps(); ++k)
      std::copy_n(vs.frames.begin() + std::ptrdiff_t(k) * vs.frame_size(), s.frame_size,
                  s.values.begin() + std::ptrdiff_t(k) * s.frame_size);
  }
  s.label = hvac ? vs.hvac : vs.level;
  s.run.assign(std::size_t(vs.steps()), 0);

  const int d_train = int(std::lround(cfg.days * 0.70));
  const int d_val = int(std::lround(cfg.days * 0.15));
  const int b1 = d_train * kDay, b2 = (d_train + d_val) * kDay, b3 = vs.steps();
  std::vector<const detail::Series*> series{&s};
  auto refs = [&](const std::vector<int>& starts) {
    std::vector<detail::WindowRef> w;
    for (int st : starts) w.push_back({0, st});
    return w;
  };

  Dataset ds;
  ds.name = std::string("venue_generator/") + (hvac ? "hvac" : "occupancy");
  ds.shape = shape;
  ds.classes = hvac ? kHvacModes : kOccupancyLevels;
  ds.class_names = hvac ? hvac_mode_names() : occupancy_level_names();
  const char* ch_names[3] = {"occupancy_density", "temperature_c", "co2_ppm"};
  for (int c = 0; c < shape.channels; ++c) ds.channel_names.push_back(ch_names[c]);
  ds.step_seconds = VenueSeries::kStepMinutes * 60;
  ds.horizon_steps = h;
  // Operating hours: windows whose label step falls between 07:00 and midnight (the nights
  // are always empty and off; keeping them would only inflate the majority class).
  auto starts = [&](int begin, int end) {
    std::vector<int> out;
    for (int st : detail::window_starts(s, begin, end, T, h))
      if ((st + T - 1 + h) % kDay >= kOpeningStep) out.push_back(st);
    return out;
  };
  detail::fill_split(ds.train, series, refs(detail::evenly_spaced(starts(0, b1), spec.samples)), T, h,
                     false);
  detail::fill_split(ds.val, series, refs(starts(b1, b2)), T, h, false);
  detail::fill_split(ds.test, series, refs(starts(b2, b3)), T, h, false);
  detail::finalize(ds);

  int counts[4] = {0, 0, 0, 0};
  for (DayKind k : vs.day_kind) ++counts[int(k)];
  ds.description =
      "Venue generator (seed " + std::to_string(spec.seed) + "): " + std::to_string(shape.height) +
      " x " + std::to_string(shape.width) + " zones, " + std::to_string(cfg.days) +
      " days of 15-minute steps (" + std::to_string(counts[int(DayKind::Match)]) + " matches, " +
      std::to_string(counts[int(DayKind::Concert)]) + " concerts, " +
      std::to_string(counts[int(DayKind::Training)]) + " training days, " +
      std::to_string(counts[int(DayKind::Empty)]) + " empty days). Task: " +
      (hvac ? "HVAC mode (off/ventilate/cool/heat)" : "occupancy level (empty/low/medium/high/full)") +
      " " + std::to_string(h) + " step(s) (" + std::to_string(h * VenueSeries::kStepMinutes) +
      " min) after the last of " + std::to_string(T) + " frames. Days 0-" +
      std::to_string(d_train - 1) + " train, " + std::to_string(d_train) + "-" +
      std::to_string(d_train + d_val - 1) + " validation, " + std::to_string(d_train + d_val) + "-" +
      std::to_string(cfg.days - 1) + " test; " + detail::split_summary(ds) + ".";
  return ds;
}

}  // namespace mixprec::data
