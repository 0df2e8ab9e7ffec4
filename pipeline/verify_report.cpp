#include "pipeline/verify_report.hpp"

#include "core/manifest.hpp"

namespace mixprec::pipeline {

ReproduceOptions verify_options(const JsonDoc& report) {
  const JsonCtx& ctx = report.ctx();
  ObjectReader top(report.root(), ctx, "");
  const int version = top.integer("mixprec_report");
  if (version != 1) top.fail("mixprec_report", "1", std::to_string(version));
  ObjectReader scenario(top.object("scenario"), ctx, top.at("scenario"));
  ObjectReader manifest(top.object("manifest"), ctx, top.at("manifest"));
  ObjectReader opt(manifest.object("options"), ctx, manifest.at("options"));

  ReproduceOptions o;
  o.file = scenario.string("file");
  const std::string want = scenario.string("hash");
  const std::string have = file_hash(o.file);
  if (have != want)
    scenario.fail("hash", "the hash of " + o.file + " (" + (have.empty() ? "unreadable" : have) + ")",
                  "\"" + want + "\": the scenario changed since the report was made");
  for (const char* k : {"quick", "threads", "jobs", "seeds", "full", "budgets", "bootstrap_resamples"})
    if (!opt.has(k))
      opt.fail(k,
               "the options of a report of this version of `reproduce` (an earlier report cannot be "
               "re-run by it: run reproduce again)",
               "nothing");
  o.quick = opt.boolean("quick");
  o.threads = opt.integer("threads", Range{1.0, 1024.0, std::nullopt});
  o.jobs = opt.integer("jobs", Range{0.0, 1024.0, std::nullopt});
  o.seeds = opt.integer("seeds", Range{1.0, 1000.0, std::nullopt});
  o.full = opt.boolean("full");
  const json& budgets = opt.array("budgets");
  o.budgets.clear();
  for (std::size_t i = 0; i < budgets.size(); ++i)
    o.budgets.push_back(read_number(budgets[i], ctx, pointer_join(opt.at("budgets"), i),
                                    Range{std::nullopt, 1.0, 0.0}));
  o.bootstrap_resamples = opt.integer("bootstrap_resamples", Range{1.0, 1e7, std::nullopt});
  o.reuse_fp32 = opt.string_or("reuse_fp32", "");
  return o;
}

}  // namespace mixprec::pipeline
