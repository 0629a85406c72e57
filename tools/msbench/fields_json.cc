#include "fields_json.h"

namespace msb::cli {

using nlohmann::json;

namespace {
double us(std::uint64_t ns) {
  return double(ns) / 1000.0;
}
}  // namespace

json histogram_json(const Histogram& h) {
  json buckets = json::array();
  for (auto [low, n] : h.buckets()) buckets.push_back({low, n});
  return {
      {"count", h.count()},
      {"sum_ns", h.sum()},
      {"min_ns", h.min()},
      {"max_ns", h.max()},
      {"mean_us", h.mean() / 1000.0},
      {"min_us", us(h.min())},
      {"p50_us", us(h.quantile(0.5))},
      {"p90_us", us(h.quantile(0.9))},
      {"p99_us", us(h.quantile(0.99))},
      {"p999_us", us(h.quantile(0.999))},
      {"max_us", us(h.max())},
      {"buckets_ns", buckets},
  };
}

Histogram histogram_from_json(const json& j) {
  Histogram::Buckets buckets;
  for (const auto& b : j.at("buckets_ns")) {
    buckets.emplace_back(b.at(0).get<std::uint64_t>(), b.at(1).get<std::uint64_t>());
  }
  const auto h =
      Histogram::restore(buckets, j.at("sum_ns").get<std::uint64_t>(),
                         j.at("min_ns").get<std::uint64_t>(), j.at("max_ns").get<std::uint64_t>());
  if (h.count() != j.at("count").get<std::uint64_t>()) {
    throw std::runtime_error("histogram buckets do not add up to its count");
  }
  return h;
}

namespace detail {

json& at_path(json& j, const char* path) {
  json* at = &j;
  std::string_view p(path);
  while (true) {
    const auto slash = p.find('/');
    at = &(*at)[std::string(p.substr(0, slash))];
    if (slash == std::string_view::npos) return *at;
    p.remove_prefix(slash + 1);
  }
}

const json* find_path(const json& j, const char* path) {
  const json* at = &j;
  std::string_view p(path);
  while (true) {
    const auto slash = p.find('/');
    const std::string key(p.substr(0, slash));
    if (!at->is_object() || !at->contains(key)) return nullptr;
    at = &at->at(key);
    if (slash == std::string_view::npos) return at;
    p.remove_prefix(slash + 1);
  }
}

}  // namespace detail

}  // namespace msb::cli
