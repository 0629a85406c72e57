// What the tables (msb/fields.h) are for: results files both ways, merging parts of a run,
// and the measured phase's deltas, each written once for every record.
//
// A row's name is its path in the record's JSON object ("counts/socket_action_calls" is
// j["counts"]["socket_action_calls"]). Histograms are written bucket by bucket with their
// exact sum, min and max, plus percentiles for readers, so that a histogram read back merges
// exactly. Reading names the path that is missing or malformed.
#pragma once

#include <nlohmann/json.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "msb/fields.h"
#include "msb/result.h"

namespace msb::cli {

nlohmann::json histogram_json(const Histogram& h);
Histogram histogram_from_json(const nlohmann::json& j);

namespace detail {

// j at `path`, made as needed.
nlohmann::json& at_path(nlohmann::json& j, const char* path);
// j at `path`, or null if absent.
const nlohmann::json* find_path(const nlohmann::json& j, const char* path);

template <class T>
nlohmann::json to_json(const T& v) {
  if constexpr (std::is_same_v<T, Histogram>) {
    return histogram_json(v);
  } else if constexpr (std::is_same_v<T, ResultCounts>) {
    nlohmann::json o = nlohmann::json::object();
    for (int i = 0; i < kResultCount; ++i)
      o[result_name(static_cast<Result>(i))] = v[static_cast<std::size_t>(i)];
    return o;
  } else if constexpr (std::is_same_v<T, ResultHistograms>) {
    nlohmann::json o = nlohmann::json::object();
    for (const auto& [code, h] : v) o[result_name(static_cast<Result>(code))] = histogram_json(h);
    return o;
  } else if constexpr (std::is_same_v<T, StatusCounts>) {
    nlohmann::json o = nlohmann::json::object();
    for (const auto& [status, n] : v) o[std::to_string(status)] = n;
    return o;
  } else if constexpr (std::is_same_v<T, ReasonCounts>) {
    return v.empty() ? nlohmann::json::object() : nlohmann::json(v);
  } else {
    return nlohmann::json(v);
  }
}

template <class T>
void from_json(const nlohmann::json& j, T& v) {
  if constexpr (std::is_same_v<T, Histogram>) {
    v = histogram_from_json(j);
  } else if constexpr (std::is_same_v<T, ResultCounts>) {
    v.fill(0);
    for (int i = 0; i < kResultCount; ++i) {
      const char* name = result_name(static_cast<Result>(i));
      if (j.contains(name)) v[static_cast<std::size_t>(i)] = j.at(name).get<std::uint64_t>();
    }
  } else if constexpr (std::is_same_v<T, ResultHistograms>) {
    v.clear();
    for (int i = 0; i < kResultCount; ++i) {
      const char* name = result_name(static_cast<Result>(i));
      if (j.contains(name)) v[i] = histogram_from_json(j.at(name));
    }
  } else if constexpr (std::is_same_v<T, StatusCounts>) {
    v.clear();
    for (const auto& [status, n] : j.items())
      v[std::stoi(status)] = n.template get<std::uint64_t>();
  } else if constexpr (std::is_same_v<T, ReasonCounts>) {
    v = j.get<ReasonCounts>();
  } else {
    v = j.get<T>();
  }
}

template <class T>
void merge_value(T& into, const T& from, Rule rule, const char* name) {
  if constexpr (std::is_same_v<T, Histogram>) {
    into.merge(from);
  } else if constexpr (std::is_same_v<T, ResultHistograms>) {
    for (const auto& [code, h] : from) into[code].merge(h);
  } else if constexpr (std::is_same_v<T, StatusCounts>) {
    for (const auto& [status, n] : from) into[status] += n;
  } else if constexpr (std::is_same_v<T, ReasonCounts>) {
    for (const auto& [reason, n] : from) into[reason] += n;
  } else if constexpr (std::is_same_v<T, StringList>) {
    if (rule != Rule::label)
      throw std::logic_error(std::string(name) + ": a list can only be a label");
  } else if constexpr (std::is_same_v<T, ResultCounts>) {
    for (std::size_t i = 0; i < into.size(); ++i) into[i] += from[i];
  } else if constexpr (std::is_same_v<T, std::vector<std::uint64_t>>) {
    if (into.size() < from.size()) into.resize(from.size(), 0);
    for (std::size_t i = 0; i < from.size(); ++i) into[i] += from[i];
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (rule != Rule::label)
      throw std::logic_error(std::string(name) + ": a string can only be a label");
    if (into.empty()) into = from;  // a label the first part did not have
  } else if constexpr (std::is_same_v<T, bool>) {
    if (rule == Rule::any) into = into || from;
  } else {
    switch (rule) {
      case Rule::measured:
      case Rule::total:
        into += from;
        break;
      case Rule::max:
        into = std::max(into, from);
        break;
      case Rule::min:
        if (from != 0 && (into == 0 || from < into)) into = from;
        break;
      case Rule::any:
      case Rule::label:
      case Rule::histogram:
        break;
    }
  }
}

}  // namespace detail

// Writes every row of `table` for `r` into the object `j`.
template <class R, class Table>
void write_fields(nlohmann::json& j, const R& r, const Table& table) {
  for (const auto& f : table) {
    std::visit([&](auto m) { detail::at_path(j, f.name) = detail::to_json(r.*m); }, f.member);
  }
}

// Reads every row of `table` present in `j` into `r`; a row absent from `j` keeps r's value
// (files written before the field existed). Throws std::runtime_error naming a malformed one.
template <class R, class Table>
void read_fields(const nlohmann::json& j, R& r, const Table& table) {
  for (const auto& f : table) {
    const nlohmann::json* v = detail::find_path(j, f.name);
    if (!v) continue;
    std::visit(
        [&](auto m) {
          try {
            detail::from_json(*v, r.*m);
          } catch (const std::exception& e) {
            throw std::runtime_error(std::string("field '") + f.name +
                                     "' is malformed: " + e.what());
          }
        },
        f.member);
  }
}

// Adds `from` into `into`, row by row, by each row's rule.
template <class R, class Table>
void merge_fields(R& into, const R& from, const Table& table) {
  for (const auto& f : table) {
    std::visit([&](auto m) { detail::merge_value(into.*m, from.*m, f.rule, f.name); }, f.member);
  }
}

// The measured phase: each `measured` row becomes end minus start; the rest stay as `end`.
template <class R, class Table>
void subtract_measured(R& end, const R& start, const Table& table) {
  for (const auto& f : table) {
    if (f.rule != Rule::measured) continue;
    std::visit(
        [&](auto m) {
          using T = std::remove_cvref_t<decltype(end.*m)>;
          if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>)
            end.*m -= start.*m;
          else
            throw std::logic_error(std::string(f.name) + ": only numbers can be measured");
        },
        f.member);
  }
}

// The rows (labels, or any rule the caller names) where `a` and `b` differ, as
// "name: a vs b", for refusing a merge of parts that do not belong together.
template <class R, class Table, class Pick>
std::vector<std::string> differing_fields(const R& a, const R& b, const Table& table, Pick pick) {
  std::vector<std::string> out;
  for (const auto& f : table) {
    if (!pick(f)) continue;
    std::visit(
        [&](auto m) {
          if (!(a.*m == b.*m)) {
            out.push_back(std::string(f.name) + ": " + detail::to_json(a.*m).dump() + " vs " +
                          detail::to_json(b.*m).dump());
          }
        },
        f.member);
  }
  return out;
}

}  // namespace msb::cli
