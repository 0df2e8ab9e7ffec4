// The claim's verdict (pipeline/verdict.hpp) on constructed evidence: a claim that holds, one that
// fails, one inconclusive, one where uniform precision wins; thresholds from the claim definition.
#include <catch2/catch.hpp>

#include "pipeline/verdict.hpp"
#include "test_util.hpp"

using namespace mixprec;
using namespace mixprec::pipeline;

namespace {

stats::Interval iv(double est, double lo, double hi) {
  stats::Interval i;
  i.estimate = est;
  i.lo = lo;
  i.hi = hi;
  i.method = "constructed";
  return i;
}

// int8 at 100 uJ; mixed points at 80, 60 and 50 uJ (20, 40 and 50% savings) with the given drops.
ClaimEvidence evidence(stats::Interval d80, stats::Interval d60, stats::Interval d50) {
  ClaimEvidence e;
  BaselineEvidence b;
  b.baseline = "int8";
  b.energy_uj = 100;
  b.points = {{"budget_0.80", 80, d80}, {"budget_0.60", 60, d60}, {"budget_0.50", 50, d50}};
  e.baselines.push_back(b);
  e.mixed_advantage = iv(0.5, 0.1, 0.9);
  e.fp32_buffer_effect = iv(0.3, -0.4, 1.0);
  e.chosen_accuracy_pct = iv(96.5, 95.5, 97.5);
  e.chosen_name = "budget_0.60";
  e.latency_ms = 0.6;
  return e;
}

}  // namespace

TEST_CASE("verdict: a claim that holds", "[pipeline][verdict]") {
  const ClaimSpec c;  // 35-45%, 2 points, 5 ms, >95%
  const ClaimEvidence e = evidence(iv(0.1, -0.5, 0.7), iv(0.6, -0.4, 1.6), iv(3.0, 2.2, 3.8));
  const Verdict v = judge(e, c);
  REQUIRE(v.energy.size() == 1);
  CHECK(v.energy[0].outcome == Outcome::Held);
  CHECK(*v.energy[0].certified_saving_pct == Approx(40));
  CHECK(v.energy[0].certified_point == "budget_0.60");
  CHECK_FALSE(v.energy[0].above_band);
  CHECK(v.mixed_vs_uniform == Outcome::Held);
  CHECK(v.fp32_buffers == Outcome::Inconclusive);
  CHECK(v.task_accuracy == Outcome::Held);
  CHECK(v.latency == Outcome::Held);
  CHECK(v.overall == Outcome::Held);
  CHECK(v.summary.find("is 40.0% (budget_0.60, drop 0.60 points [-0.40, 1.60])") != std::string::npos);
  CHECK(v.summary.find("Overall the claim held (energy against int8: held; task accuracy: held; latency: held).") !=
        std::string::npos);
  CHECK(v.summary.find("mixing beats uniform precision") != std::string::npos);
  const nlohmann::json j = verdict_json(v, e, c);
  CHECK(j["claim_held"] == true);
  CHECK(j["energy"][0]["certified_saving_pct"] == Approx(40));
  CHECK(j["threshold"] == 2.0);
}

TEST_CASE("verdict: a claim that fails", "[pipeline][verdict]") {
  const ClaimSpec c;
  // Only the 20% point keeps the drop under 2 points; at 40% and 50% the whole interval is above.
  const ClaimEvidence e = evidence(iv(0.5, 0.0, 1.0), iv(2.6, 2.1, 3.1), iv(4.0, 3.0, 5.0));
  const Verdict v = judge(e, c);
  CHECK(v.energy[0].outcome == Outcome::NotHeld);
  CHECK(*v.energy[0].certified_saving_pct == Approx(20));
  CHECK(*v.energy[0].plausible_saving_pct == Approx(20));
  CHECK(v.overall == Outcome::NotHeld);
  CHECK(v.summary.find("Overall the claim did not hold (energy against int8: not held;") != std::string::npos);
  // Latency alone can fail it too.
  ClaimEvidence slow = evidence(iv(0.1, -0.5, 0.7), iv(0.6, -0.4, 1.6), iv(3.0, 2.2, 3.8));
  slow.latency_ms = 7;
  CHECK(judge(slow, c).overall == Outcome::NotHeld);
}

TEST_CASE("verdict: inconclusive when the interval straddles the threshold", "[pipeline][verdict]") {
  const ClaimSpec c;
  const ClaimEvidence e = evidence(iv(0.5, 0.0, 1.0), iv(1.5, 0.5, 2.5), iv(3.0, 2.2, 3.8));
  const Verdict v = judge(e, c);
  CHECK(v.energy[0].outcome == Outcome::Inconclusive);
  CHECK(*v.energy[0].certified_saving_pct == Approx(20));
  CHECK(*v.energy[0].plausible_saving_pct == Approx(40));
  CHECK(v.overall == Outcome::Inconclusive);
  CHECK(v.summary.find("points saving up to 40.0% have intervals that straddle the threshold: inconclusive") !=
        std::string::npos);
  CHECK(v.summary.find("Overall the claim is inconclusive") != std::string::npos);
}

TEST_CASE("verdict: uniform precision wins at matched energy", "[pipeline][verdict]") {
  const ClaimSpec c;
  ClaimEvidence e = evidence(iv(0.1, -0.5, 0.7), iv(0.6, -0.4, 1.6), iv(3.0, 2.2, 3.8));
  e.mixed_advantage = iv(-1.2, -2.0, -0.4);
  const Verdict v = judge(e, c);
  CHECK(v.mixed_vs_uniform == Outcome::NotHeld);
  CHECK(v.summary.find("uniform precision does better than mixing (not held)") != std::string::npos);
  e.mixed_advantage = iv(0.2, -0.5, 0.9);
  const Verdict w = judge(e, c);
  CHECK(w.mixed_vs_uniform == Outcome::Inconclusive);
  CHECK(w.summary.find("mixed and uniform precision cannot be told apart") != std::string::npos);
}

TEST_CASE("verdict: thresholds come from the claim definition", "[pipeline][verdict]") {
  const ClaimEvidence e = evidence(iv(0.1, -0.5, 0.7), iv(0.6, -0.4, 1.6), iv(1.0, 0.2, 1.8));
  ClaimSpec c;
  // 50% saving certified: above the 35-45% band, the claim understated it.
  const Verdict wide = judge(e, c);
  CHECK(wide.energy[0].outcome == Outcome::Held);
  CHECK(wide.energy[0].above_band);
  CHECK(wide.summary.find("the claim understated the saving") != std::string::npos);
  // A stricter claim: drop below 1 point. The 40% and 50% points straddle it.
  c.max_drop_pp = 1;
  const Verdict strict = judge(e, c);
  CHECK(strict.energy[0].outcome == Outcome::Inconclusive);
  CHECK(strict.summary.find("accuracy drop stays below 1 points") != std::string::npos);
  // A claim of 60-70%: nothing reaches it.
  c = ClaimSpec();
  c.saving_min_pct = 60;
  c.saving_max_pct = 70;
  CHECK(judge(e, c).energy[0].outcome == Outcome::NotHeld);
  // A latency bound below the measured latency.
  c = ClaimSpec();
  c.latency_ms = 0.5;
  CHECK(judge(e, c).latency == Outcome::NotHeld);
}

TEST_CASE("verdict: regression tasks use the relative RMSE threshold", "[pipeline][verdict]") {
  ClaimSpec c;
  c.max_rmse_increase_pct = 3;
  ClaimEvidence e = evidence(iv(0.5, 0.0, 1.0), iv(2.0, 1.0, 2.9), iv(4.0, 3.5, 4.5));
  e.regression = true;
  e.chosen_accuracy_pct.reset();
  const Verdict v = judge(e, c);
  CHECK(v.energy[0].outcome == Outcome::Held);  // 2.9% < 3% at 40% saving
  CHECK(v.task_accuracy == Outcome::NotApplicable);
  CHECK(v.summary.find("RMSE increase stays below 3% of the baseline's") != std::string::npos);
  CHECK(verdict_json(v, e, c)["threshold_units"] == "rmse_increase_pct");
  c.max_rmse_increase_pct = 2;  // the same points against 2%: straddles
  CHECK(judge(e, c).energy[0].outcome == Outcome::Inconclusive);
}

TEST_CASE("report.claim is parsed and validated like every section", "[pipeline][verdict][scenario]") {
  const Scenario sc = test::default_scenario_with(
      R"({"report": {"claim": {"saving_band_pct": [30, 50], "max_accuracy_drop_pp": 1.5,
          "max_rmse_increase_pct": 4, "latency_ms": 2, "min_accuracy_pct": 90, "confidence": 0.9,
          "baselines": ["int8", "fp32"]}}})");
  const ClaimSpec& c = sc.report.claim;
  CHECK(c.saving_min_pct == 30);
  CHECK(c.saving_max_pct == 50);
  CHECK(c.max_drop_pp == 1.5);
  CHECK(c.max_rmse_increase_pct == 4);
  CHECK(c.latency_ms == 2);
  CHECK(c.min_accuracy_pct == 90);
  CHECK(c.confidence == 0.9);
  CHECK(c.baselines == std::vector<std::string>{"int8", "fp32"});
  auto error_of = [](const std::string& patch) {
    try {
      test::default_scenario_with(patch);
    } catch (const SpecError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error_of(R"({"report": {"claim": {"saving_band_pct": [45, 35]}}})")
            .find("/report/claim/saving_band_pct/1: expected a high end >= the low end (45), found 35") !=
        std::string::npos);
  CHECK(error_of(R"({"report": {"claim": {"saving_band_pct": [35]}}})")
            .find("/report/claim/saving_band_pct: expected two numbers") != std::string::npos);
  CHECK(error_of(R"({"report": {"claim": {"max_acuracy_drop_pp": 2}}})")
            .find("did you mean \"max_accuracy_drop_pp\"") != std::string::npos);
  CHECK(error_of(R"({"report": {"claim": {"baselines": ["int7"]}}})").find("/report/claim/baselines/0") !=
        std::string::npos);
  CHECK(error_of(R"({"report": {"claim": {"confidence": 1.5}}})").find("/report/claim/confidence") !=
        std::string::npos);
  CHECK(error_of(R"({"report": {"formats": ["md"]}})").find("/report/formats: expected a list that includes \"json\"") !=
        std::string::npos);
}
