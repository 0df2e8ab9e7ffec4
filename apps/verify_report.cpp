#include "apps/verify_report.hpp"

#include "core/manifest.hpp"

namespace mixprec::app {

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
  o.quick = opt.boolean("quick");
  o.threads = opt.integer("threads", Range{1.0, 1024.0, std::nullopt});
  o.budget = opt.number("budget");
  if (!(o.budget == -1 || (o.budget > 0 && o.budget <= 1)))
    opt.fail("budget", "a fraction in (0, 1], or -1 (the scenario's)", format_number(o.budget));
  const json& sweep = opt.array("sweep");
  o.sweep.clear();
  for (std::size_t i = 0; i < sweep.size(); ++i)
    o.sweep.push_back(read_number(sweep[i], ctx, pointer_join(opt.at("sweep"), i),
                                  Range{std::nullopt, 1.0, 0.0}));
  o.ablations = opt.boolean("ablations");
  o.reuse_fp32 = opt.string_or("reuse_fp32", "");
  return o;
}

}  // namespace mixprec::app
