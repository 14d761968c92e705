#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "core/error.h"
#include "core/files.h"
#include "pipeline/runner.h"
#include "platform/cost.h"

namespace rlpipe::cli {
namespace {

namespace fs = std::filesystem;

/// The price table: --pricing, else aws/pricing.yaml in the working folder, else the one
/// installed beside the binary (<prefix>/share/rlpipe/pricing.yaml; the build tree has the same
/// layout).
fs::path FindPriceTable(const std::string& flag) {
  std::error_code ec;
  if (!flag.empty()) {
    if (!fs::exists(flag, ec)) throw ConfigError("--pricing: file not found: " + flag);
    return flag;
  }
  const fs::path here = "aws/pricing.yaml";
  if (fs::exists(here, ec)) return here;
  const fs::path installed = DataFilePath("pricing.yaml");
  if (fs::exists(installed, ec)) return installed;
  throw ConfigError("--pricing: no price table given and none found at " +
                    fs::absolute(here).string() + " or " + installed.string());
}

}  // namespace

void AddCostCommand(CLI::App& app, CommandFn* run) {
  auto file = std::make_shared<std::string>();
  auto pricing = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "cost",
      "Estimate what the pipeline would cost as SageMaker training jobs: per session and in "
      "total, on-demand vs spot, warm-pool retention included. Estimates from an editable price "
      "table (list prices with their date, an assumed spot discount and throughput).");
  cmd->add_option("--config,-c", *file, "pipeline YAML file")->required();
  cmd->add_option("--pricing", *pricing,
                  "price table (default: aws/pricing.yaml here, else the source tree's)");
  cmd->callback([file, pricing, run] {
    *run = [file, pricing] {
      const pipeline::ResolvedPipeline resolved = pipeline::ResolvePipeline(*file);
      const platform::PriceTable prices = platform::LoadPriceTable(FindPriceTable(*pricing));
      const platform::CostEstimate estimate =
          platform::EstimateCost(resolved.pipeline, resolved.sessions, prices);
      std::fputs(platform::FormatCostReport(resolved.pipeline, estimate, prices).c_str(), stdout);
      return 0;
    };
  });
}

}  // namespace rlpipe::cli
