// The socket index alone: insert, lookup (hit and miss) and remove at N live fds, for
// every variant and std::unordered_map as the library reference. fds are dense small
// integers, as the kernel hands them out. Counter "probes" = entries compared per lookup.
//
// Inputs: variant (chained-7, chained-97, chained-911, resizable, direct, unordered_map) x
// N (1k, 10k, 100k, 1M live fds).
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sockindex/sockindex.h"

namespace msb::detail {
namespace {

// Each variant by name: benchmark names say which one they measured
// (BM_LookupHit/chained-97/n:1000).
struct Variant {
  SockIndexKind kind;
  unsigned buckets;
  const char* name;
};
const Variant kVariants[] = {{SockIndexKind::chained, 7, "chained-7"},
                             {SockIndexKind::chained, 97, "chained-97"},
                             {SockIndexKind::chained, 911, "chained-911"},
                             {SockIndexKind::resizable, 0, "resizable"},
                             {SockIndexKind::direct, 0, "direct"}};

std::vector<int> shuffled(int from, int n, unsigned seed) {
  std::vector<int> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = from + i;
  std::shuffle(v.begin(), v.end(), std::mt19937(seed));
  return v;
}

std::unique_ptr<SockIndex> filled(const Variant& v, int n) {
  auto index = make_sockindex(v.kind, v.buckets);
  for (int fd = 0; fd < n; ++fd) index->insert(fd);
  return index;
}

void set_probes(benchmark::State& state, SockIndex& index, const SockIndexStats& before) {
  const SockIndexStats after = index.stats();
  const double lookups = double(after.lookups - before.lookups);
  state.counters["probes"] = lookups ? double(after.probes - before.probes) / lookups : 0;
}

// Lookups of `order`'s fds, round and round, in an index of N live fds (0..N-1).
void lookups(benchmark::State& state, SockIndex& index, const std::vector<int>& order) {
  const SockIndexStats before = index.stats();
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(index.find(order[i]));
    if (++i == order.size()) i = 0;
  }
  set_probes(state, index, before);
  state.SetItemsProcessed(state.iterations());
}

// arg 0: N
void BM_LookupHit(benchmark::State& state, const Variant& v) {
  const int n = static_cast<int>(state.range(0));
  auto index = filled(v, n);
  lookups(state, *index, shuffled(0, n, 1));
}

void BM_LookupMiss(benchmark::State& state, const Variant& v) {
  const int n = static_cast<int>(state.range(0));
  auto index = filled(v, n);
  lookups(state, *index, shuffled(n, 1024, 2));  // fds just past the live ones
}

// One insert and one remove per iteration at a steady N (a socket closes, another opens).
void BM_RemoveInsert(benchmark::State& state, const Variant& v) {
  const int n = static_cast<int>(state.range(0));
  auto index = filled(v, n);
  const auto order = shuffled(0, n, 3);
  std::size_t i = 0;
  for (auto _ : state) {
    index->erase(order[i]);
    benchmark::DoNotOptimize(&index->insert(order[i]));
    if (++i == order.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations() * 2);
}

// Filling an empty index with N fds, per insert (growth included for resizable/direct).
void BM_Fill(benchmark::State& state, const Variant& v) {
  const int n = static_cast<int>(state.range(0));
  for (auto _ : state) {
    auto index = filled(v, n);
    benchmark::DoNotOptimize(index.get());
    state.PauseTiming();
    index.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * n);
}

void BM_UnorderedMapLookupHit(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  std::unordered_map<int, SockEntry*> map;
  std::vector<std::unique_ptr<SockEntry>> entries;
  for (int fd = 0; fd < n; ++fd) {
    entries.push_back(std::make_unique<SockEntry>(fd));
    map[fd] = entries.back().get();
  }
  const auto order = shuffled(0, n, 1);
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(map.find(order[i]));
    if (++i == order.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

// Every benchmark once per variant, named for it, at N live fds; std::unordered_map as the
// reference.
int register_all() {
  using Fn = void (*)(benchmark::State&, const Variant&);
  const std::pair<const char*, Fn> benchmarks[] = {{"BM_LookupHit", BM_LookupHit},
                                                   {"BM_LookupMiss", BM_LookupMiss},
                                                   {"BM_RemoveInsert", BM_RemoveInsert},
                                                   {"BM_Fill", BM_Fill}};
  for (const auto& [name, fn] : benchmarks) {
    for (const Variant& v : kVariants) {
      auto* b = benchmark::RegisterBenchmark((std::string(name) + "/" + v.name).c_str(), fn, v);
      b->ArgName("n");
      for (long n : {1000L, 10000L, 100000L, 1000000L}) b->Arg(n);
      if (std::string(name) == "BM_Fill") b->Unit(benchmark::kMillisecond);
    }
  }
  benchmark::RegisterBenchmark("BM_UnorderedMapLookupHit", BM_UnorderedMapLookupHit)
      ->ArgName("n")
      ->Arg(1000)
      ->Arg(10000)
      ->Arg(100000)
      ->Arg(1000000);
  return 0;
}
const int registered = register_all();

}  // namespace
}  // namespace msb::detail

BENCHMARK_MAIN();
