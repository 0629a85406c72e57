// The timer structures alone: insert, remove, pop-nearest, and the realistic pattern of
// re-arming one transfer's deadline (remove it, insert it later), at N queued timers.
// Counters: rotations per op (splay), steps per op (nodes walked or moved).
//
// Inputs: structure (splay, heap, wheel) x N (1k, 10k, 100k, 1M queued timers).
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "timers/timer_queue.h"

namespace msb::detail {
namespace {

const TimerKind kKinds[] = {TimerKind::splay, TimerKind::heap, TimerKind::wheel};

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
void rearm(benchmark::State& state, bool ask_nearest) {
  const std::size_t n = static_cast<std::size_t>(state.range(1));
  auto f = filled(kKinds[state.range(0)], n, 1);
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

void BM_Rearm(benchmark::State& state) {
  rearm(state, false);
}
void BM_RearmAndNearest(benchmark::State& state) {
  rearm(state, true);
}

// Insert then remove one extra node at a random key, N others queued.
void BM_InsertRemove(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(1));
  auto f = filled(kKinds[state.range(0)], n, 3);
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
void BM_PopNearest(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(1));
  auto f = filled(kKinds[state.range(0)], n, 5);
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
void BM_Nearest(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(1));
  auto f = filled(kKinds[state.range(0)], n, 6);
  for (auto _ : state) benchmark::DoNotOptimize(f.queue->nearest());
  state.SetItemsProcessed(state.iterations());
}

void kinds_by_n(benchmark::internal::Benchmark* b) {
  b->ArgNames({"kind", "n"});
  for (int k = 0; k < 3; ++k) {
    for (long n : {1000L, 10000L, 100000L, 1000000L}) b->Args({k, n});
  }
}

}  // namespace

// kind: 0 splay, 1 heap, 2 wheel
BENCHMARK(BM_Rearm)->Apply(kinds_by_n);
BENCHMARK(BM_RearmAndNearest)->Apply(kinds_by_n);
BENCHMARK(BM_InsertRemove)->Apply(kinds_by_n);
BENCHMARK(BM_PopNearest)->Apply(kinds_by_n);
BENCHMARK(BM_Nearest)->Apply(kinds_by_n);

}  // namespace msb::detail

BENCHMARK_MAIN();
