// Execution segments: the splits add up, the environment of a cluster engine names the shard,
// a sharded run draws what a whole one draws, and merges check their parts.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <stdexcept>

#include "merge.h"
#include "shard.h"
#include "workload.h"

namespace msb::cli {
namespace {

TEST(Shard, SharesAddUpToTheTotalAndFollowOneAnother) {
  for (std::int64_t total : {1, 2, 3, 7, 100, 100000, 1000001}) {
    for (int n : {1, 2, 3, 7, 64}) {
      std::int64_t sum = 0;
      for (int i = 0; i < n; ++i) {
        EXPECT_EQ(share_start(total, n, i), sum) << total << " " << n << " " << i;
        const std::int64_t s = share(total, n, i);
        EXPECT_GE(s, total / n);
        EXPECT_LE(s, total / n + 1);
        sum += s;
      }
      EXPECT_EQ(sum, total) << total << " over " << n;
    }
  }
}

TEST(Shard, ParsesIOverNAndRefusesTheRest) {
  const Shard s = parse_shard("2/3");
  EXPECT_EQ(s.index, 2);
  EXPECT_EQ(s.count, 3);
  EXPECT_EQ(s.from, "--shard");
  for (const char* bad : {"3/3", "-1/3", "1/0", "1", "a/b", "1/3x", "", "/3"}) {
    EXPECT_THROW(parse_shard(bad), std::invalid_argument) << bad;
  }
}

class ShardEnvironment : public ::testing::Test {
 protected:
  void SetUp() override { clear(); }
  void TearDown() override { clear(); }
  static void clear() {
    for (const char* v : {"JOB_COMPLETION_INDEX", "MSBENCH_SHARD_COUNT", "SLURM_PROCID",
                          "SLURM_NTASKS", "MSBENCH_RUN_ID", "SLURM_JOB_ID", "SLURM_STEP_ID"})
      unsetenv(v);
  }
};

TEST_F(ShardEnvironment, NoneWithoutAClusterEngine) {
  EXPECT_FALSE(shard_from_environment().has_value());
}

TEST_F(ShardEnvironment, AKubernetesIndexedJobNeedsTheCountFromItsManifest) {
  setenv("JOB_COMPLETION_INDEX", "4", 1);
  EXPECT_THROW(shard_from_environment(), std::invalid_argument);
  setenv("MSBENCH_SHARD_COUNT", "5", 1);
  const auto s = shard_from_environment();
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->index, 4);
  EXPECT_EQ(s->count, 5);
  EXPECT_EQ(s->from, "JOB_COMPLETION_INDEX");
  setenv("MSBENCH_SHARD_COUNT", "4", 1);  // index past the count
  EXPECT_THROW(shard_from_environment(), std::invalid_argument);
}

TEST_F(ShardEnvironment, SlurmTasksOfAJobStepAreShards) {
  setenv("SLURM_PROCID", "1", 1);
  setenv("SLURM_NTASKS", "3", 1);
  // The batch script itself (no step): not a task's shard.
  EXPECT_FALSE(shard_from_environment().has_value());
  setenv("SLURM_STEP_ID", "0", 1);
  const auto s = shard_from_environment();
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->index, 1);
  EXPECT_EQ(s->count, 3);
  EXPECT_EQ(s->from, "SLURM_PROCID");
  setenv("SLURM_JOB_ID", "42", 1);
  EXPECT_EQ(run_id("", "0123456789abcdef", 0, 1000), "slurm-42.0");
  EXPECT_EQ(run_id("given", "0123456789abcdef", 0, 1000), "given");
  setenv("MSBENCH_RUN_ID", "from-env", 1);
  EXPECT_EQ(run_id("", "0123456789abcdef", 0, 1000), "from-env");
}

TEST_F(ShardEnvironment, WithoutAnIdTheRunIsItsScenarioAndStartTime) {
  EXPECT_EQ(run_id("", "0123456789abcdef", 1796227200, 1000), "0123456789ab@1796227200.000");
  EXPECT_EQ(run_id("", "0123456789abcdef", 0, 1000.5), "0123456789ab@1000.500");
}

TEST(Shard, StartTimesInRfc3339OrUnixSeconds) {
  EXPECT_DOUBLE_EQ(parse_start_at("1796227200"), 1796227200.0);
  EXPECT_DOUBLE_EQ(parse_start_at("1796227200.25"), 1796227200.25);
  EXPECT_DOUBLE_EQ(parse_start_at("2026-12-02T16:00:00Z"), 1796227200.0);
  EXPECT_DOUBLE_EQ(parse_start_at("2026-12-02T17:00:00+01:00"), 1796227200.0);
  EXPECT_DOUBLE_EQ(parse_start_at("2026-12-02T15:30:00.5-00:30"), 1796227200.5);
  for (const char* bad : {"", "soon", "2026-12-02T16:00:00", "2026-13-02T16:00:00Z",
                          "2026-12-02T16:00:00.Z", "2026-12-02T16:00:00+1", "-5"}) {
    EXPECT_THROW(parse_start_at(bad), std::invalid_argument) << bad;
  }
}

TEST(Shard, TheDigestIsTheScenarioNotWhereItWasWritten) {
  nlohmann::json a = {{"keys", {{"connections", 300}}},
                      {"swept", nlohmann::json::array()},
                      {"repetitions", 1},
                      {"output", "a.json"},
                      {"file", "a.toml"}};
  nlohmann::json b = a;
  b["output"] = "b.json";
  b["file"] = "elsewhere/a.toml";
  EXPECT_EQ(scenario_digest(a), scenario_digest(b));
  EXPECT_EQ(scenario_digest(a).size(), 16u);
  b["keys"]["connections"] = 200;
  EXPECT_NE(scenario_digest(a), scenario_digest(b));
}

// The paths a trickle workload opens, connection by connection: a whole run's, and the same
// run's cut into 3 shards of 2 workers each, put back in order.
TEST(Shard, ShardedConnectionsDrawWhatAWholeRunDraws) {
  RunConfig config;
  config.connections = 1000;
  config.active_fraction = 0.3;
  config.seed = 7;
  const auto paths = [&](std::int64_t first, int n) {
    WorkerPlan plan;
    plan.first_connection = first;
    plan.connections = n;
    plan.bases = {"http://127.0.0.1:1"};
    Workload w(config, plan);
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) out.push_back(w.next(static_cast<std::size_t>(i)).url);
    return out;
  };
  const std::vector<std::string> whole = paths(0, config.connections);
  std::vector<std::string> sharded;
  for (int s = 0; s < 3; ++s) {
    const std::int64_t local = share(config.connections, 3, s);
    for (int w = 0; w < 2; ++w) {
      const auto part = paths(share_start(config.connections, 3, s) + share_start(local, 2, w),
                              static_cast<int>(share(local, 2, w)));
      sharded.insert(sharded.end(), part.begin(), part.end());
    }
  }
  EXPECT_EQ(sharded, whole);
  const auto active = std::count_if(whole.begin(), whole.end(), [](const std::string& u) {
    return u.find("/trickle/") != std::string::npos;
  });
  EXPECT_GT(active, 240);  // 30 % of 1,000, give or take the draw
  EXPECT_LT(active, 360);
}

TEST(Merge, PartsOfOneRunEachOnceMissingOnesNamed) {
  EXPECT_TRUE(check_parts({{"a", "r", 0, 2}, {"b", "r", 1, 2}}, "shard").empty());
  EXPECT_EQ(check_parts({{"a", "r", 0, 4}, {"c", "r", 2, 4}}, "shard"), (std::vector<int>{1, 3}));
  EXPECT_EQ(describe_missing({1, 3}, 4, "shard"), "shards 1 and 3 of 4 are missing");
  EXPECT_EQ(describe_missing({2}, 3, "worker"), "worker 2 of 3 is missing");
  const auto refused = [](const std::vector<PartId>& parts, const std::string& says) {
    try {
      check_parts(parts, "shard");
      ADD_FAILURE() << "accepted: " << says;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
    }
  };
  refused({{"a.json", "r1", 0, 2}, {"b.json", "r2", 1, 2}},
          "a.json and b.json are of different runs (run_id r1 vs r2)");
  refused({{"a.json", "r", 1, 2}, {"b.json", "r", 1, 2}}, "are the same shard (1/2 twice)");
  refused({{"a.json", "r", 0, 2}, {"b.json", "r", 1, 3}}, "split the run differently");
  refused({{"a.json", "r", 5, 2}}, "out of range");
}

}  // namespace
}  // namespace msb::cli
