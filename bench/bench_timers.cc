// The timer structures alone: insert, remove, pop-nearest, and the realistic pattern of
// re-arming one transfer's deadline (remove it, insert it later), at N queued timers.
// Counters: rotations per op (splay), steps per op (nodes walked or moved).
//
// Inputs: structure (splay, heap, wheel) x N (1k, 10k, 100k, 1M queued timers).
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "timers/timer_queue.h"

namespace msb::detail {
namespace {

// Each structure by name: benchmark names say which one they measured (BM_Rearm/splay/n:1000).
const std::pair<TimerKind, const char*> kKinds[] = {
    {TimerKind::splay, "splay"}, {TimerKind::heap, "heap"}, {TimerKind::wheel, "wheel"}};

struct Filled {
  std::unique_ptr<TimerQueue> queue;
  std::vector<TimerNode> nodes;
};

// N timers with deadlines spread over 0..N*10 (as transfers started over time).
Filled filled(TimerKind kind, std::size_t n, unsigned seed) {
  Filled f{make_timer_queue(kind), std::vector<TimerNode>(n)};
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int64_t> key(0, static_cast<std::int64_t>(n) * 10);
  for (auto& node : f.nodes) f.queue->insert(&node, key(rng));
  return f;
}

void set_counters(benchmark::State& state, const TimerQueue& q, const TimerStats& before) {
  const TimerStats s = q.stats();
  const double ops = double(s.ops() - before.ops());
  state.counters["rotations_per_op"] = ops ? double(s.rotations - before.rotations) / ops : 0;
  state.counters["steps_per_op"] = ops ? double(s.steps - before.steps) / ops : 0;
}

// The common case in an engine: a transfer's deadline moves later (activity pushed its
// low-speed window, or a new request on a reused connection). `now` advances, so the new
// key is later than most: remove + insert at now + timeout. With `ask_nearest`, also what
// the engine asks after every event (the timer callback's value), which charges the
// wheel's cascades (nearest() does them).
void rearm(benchmark::State& state, TimerKind kind, bool ask_nearest) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  auto f = filled(kind, n, 1);
  std::mt19937 rng(2);
  std::int64_t now = 0;
  const std::int64_t timeout = static_cast<std::int64_t>(n) * 10;
  const TimerStats before = f.queue->stats();
  for (auto _ : state) {
    TimerNode& node = f.nodes[rng() % n];
    f.queue->remove(&node);
    f.queue->insert(&node, now + timeout);
    if (ask_nearest) benchmark::DoNotOptimize(f.queue->nearest());
    ++now;
  }
  set_counters(state, *f.queue, before);
  state.SetItemsProcessed(state.iterations());
}

void BM_Rearm(benchmark::State& state, TimerKind kind) {
  rearm(state, kind, false);
}
void BM_RearmAndNearest(benchmark::State& state, TimerKind kind) {
  rearm(state, kind, true);
}

// Insert then remove one extra node at a random key, N others queued.
void BM_InsertRemove(benchmark::State& state, TimerKind kind) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  auto f = filled(kind, n, 3);
  std::mt19937_64 rng(4);
  std::uniform_int_distribution<std::int64_t> key(0, static_cast<std::int64_t>(n) * 10);
  TimerNode extra;
  const TimerStats before = f.queue->stats();
  for (auto _ : state) {
    f.queue->insert(&extra, key(rng));
    f.queue->remove(&extra);
  }
  set_counters(state, *f.queue, before);
  state.SetItemsProcessed(state.iterations() * 2);
}

// Pop the nearest and queue it again further out: a timer wheel of expiries.
void BM_PopNearest(benchmark::State& state, TimerKind kind) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  auto f = filled(kind, n, 5);
  std::int64_t horizon = static_cast<std::int64_t>(n) * 10;
  const TimerStats before = f.queue->stats();
  for (auto _ : state) {
    TimerNode* node = f.queue->pop_expired(INT64_MAX);
    f.queue->insert(node, ++horizon);
  }
  set_counters(state, *f.queue, before);
  state.SetItemsProcessed(state.iterations());
}

// nearest() as the engine asks it after every socket_action.
void BM_Nearest(benchmark::State& state, TimerKind kind) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  auto f = filled(kind, n, 6);
  for (auto _ : state) benchmark::DoNotOptimize(f.queue->nearest());
  state.SetItemsProcessed(state.iterations());
}

// Every benchmark once per structure, named for it, at N queued timers.
int register_all() {
  using Fn = void (*)(benchmark::State&, TimerKind);
  const std::pair<const char*, Fn> benchmarks[] = {{"BM_Rearm", BM_Rearm},
                                                   {"BM_RearmAndNearest", BM_RearmAndNearest},
                                                   {"BM_InsertRemove", BM_InsertRemove},
                                                   {"BM_PopNearest", BM_PopNearest},
                                                   {"BM_Nearest", BM_Nearest}};
  for (const auto& [name, fn] : benchmarks) {
    for (const auto& [kind, kind_name] : kKinds) {
      auto* b =
          benchmark::RegisterBenchmark((std::string(name) + "/" + kind_name).c_str(), fn, kind);
      b->ArgName("n");
      for (long n : {1000L, 10000L, 100000L, 1000000L}) b->Arg(n);
    }
  }
  return 0;
}
const int registered = register_all();

}  // namespace
}  // namespace msb::detail

BENCHMARK_MAIN();
