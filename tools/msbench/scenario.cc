#include "scenario.h"

#include "faults.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <sstream>
#include <type_traits>
#include <variant>

#include <arpa/inet.h>

#include "engine.h"
#include "msb/http_syntax.h"
#include "workload.h"

namespace msb::cli {

namespace {

using Value = std::variant<std::int64_t, double, std::string, bool, StringList>;

// Where a value came from, for error messages: "file:line" or "--set".
struct Origin {
  std::string where;
  std::string key;
};

[[noreturn]] void fail(const Origin& o, const std::string& what) {
  throw ScenarioError(o.where + ": key '" + o.key + "': " + what);
}

enum class Kind { integer, number, string, boolean, strings };

// A key's kind follows from its member's type.
Kind kind_of(const ConfigKey& k) {
  const std::string t = key_type(k);
  return t == "integer"   ? Kind::integer
         : t == "number"  ? Kind::number
         : t == "string"  ? Kind::string
         : t == "strings" ? Kind::strings
                          : Kind::boolean;
}

// A body as a scenario gives it: the text, or @file for a file that must be readable.
std::string body_problem(const std::string& body) {
  if (body.empty() || body[0] != '@') return "";
  std::ifstream in(body.substr(1), std::ios::binary);
  return in ? "" : "body file '" + body.substr(1) + "' cannot be read";
}

// A request header as a scenario gives it: one "Name: value" line.
std::string header_problem(const std::string& h) {
  const auto colon = h.find(':');
  if (colon == std::string::npos || !is_token(std::string_view(h).substr(0, colon))) {
    return "'" + h + "' is not a \"Name: value\" header";
  }
  if (h.find_first_of("\r\n") != std::string::npos) return "a header may not hold a line break";
  return "";
}

bool is_ip(const std::string& s) {
  in6_addr a6;
  in_addr a4;
  return inet_pton(AF_INET, s.c_str(), &a4) == 1 || inet_pton(AF_INET6, s.c_str(), &a6) == 1;
}

// A list of strings (headers, source addresses): a TOML array is the value itself, not a
// sweep; source_addresses may also be a count N of 127.0.0.1 .. 127.0.0.N.
StringList read_strings(const ConfigKey& spec, const toml::node& node, const Origin& o) {
  StringList out;
  const std::string name = spec.name;
  if (name == "source_addresses") {
    if (auto n = node.value_exact<std::int64_t>()) {
      if (*n < 1 || *n > 254) fail(o, "a count of loopback addresses is 1 to 254");
      for (int i = 1; i <= *n; ++i) out.push_back("127.0.0." + std::to_string(i));
      return out;
    }
  }
  const toml::array* arr = node.as_array();
  if (!arr)
    fail(o, name == "source_addresses" ? "expected a list of IP addresses or a count"
                                       : "expected a list of strings");
  for (std::size_t i = 0; i < arr->size(); ++i) {
    auto s = arr->get(i)->value_exact<std::string>();
    if (!s) fail(o, "expected a list of strings");
    if (name == "headers") {
      if (const std::string why = header_problem(*s); !why.empty()) fail(o, why);
    } else if (name == "source_addresses" && !is_ip(*s)) {
      fail(o, "'" + *s + "' is not an IP address");
    } else if (name == "targets" && !is_web_url(*s)) {
      fail(o, "'" + *s + "' is not an http:// or https:// URL");
    }
    out.push_back(*s);
  }
  return out;
}

std::int64_t as_int(const Value& v) {
  return std::get<std::int64_t>(v);
}
double as_num(const Value& v) {
  return std::holds_alternative<double>(v) ? std::get<double>(v)
                                           : double(std::get<std::int64_t>(v));
}

constexpr double kMaxInt = 1e15;

// Stores a checked value in the key's member.
void set_key(const ConfigKey& k, RunConfig& c, const Value& v) {
  std::visit(
      [&](auto m) {
        using T = std::remove_cvref_t<decltype(c.*m)>;
        if constexpr (std::is_same_v<T, bool>)
          c.*m = std::get<bool>(v);
        else if constexpr (std::is_integral_v<T>)
          c.*m = static_cast<T>(as_int(v));
        else if constexpr (std::is_floating_point_v<T>)
          c.*m = static_cast<T>(as_num(v));
        else if constexpr (std::is_same_v<T, std::string>)
          c.*m = std::get<std::string>(v);
        else if constexpr (std::is_same_v<T, StringList>)
          c.*m = std::get<StringList>(v);
      },
      k.member);
}

// Scenario-level keys that are not swept.
const std::vector<std::string> kMetaKeys = {"name", "output", "repetitions", "description",
                                            "expect"};

const ConfigKey* find_key(const std::string& name) {
  const ConfigKey* k = find_config_key(name);
  return k && k->scenario ? k : nullptr;
}

std::string known_keys() {
  std::string out;
  for (const auto& k : kMetaKeys) out += (out.empty() ? "" : ", ") + k;
  for (const auto& k : config_keys()) {
    if (k.scenario) out += std::string(", ") + k.name;
  }
  return out;
}

// Converts one TOML scalar to a checked Value for `spec`.
Value to_value(const ConfigKey& spec, const toml::node& node, const Origin& o) {
  Value v;
  switch (kind_of(spec)) {
    case Kind::integer: {
      if (auto i = node.value_exact<std::int64_t>()) {
        v = *i;
      } else if (auto d = node.value_exact<double>();
                 d && std::floor(*d) == *d && std::fabs(*d) < kMaxInt) {
        v = static_cast<std::int64_t>(*d);
      } else {
        fail(o, "expected an integer");
      }
      const double x = double(as_int(v));
      if (x < spec.min || x > spec.max) {
        std::ostringstream m;
        m << "value " << as_int(v) << " is out of range [" << std::int64_t(spec.min) << ", "
          << std::int64_t(spec.max) << "]";
        fail(o, m.str());
      }
      return v;
    }
    case Kind::number: {
      if (auto d = node.value<double>()) {
        v = *d;
      } else {
        fail(o, "expected a number");
      }
      const double x = as_num(v);
      if (!(x >= spec.min && x <= spec.max)) {
        std::ostringstream m;
        m << "value " << x << " is out of range [" << spec.min << ", " << spec.max << "]";
        fail(o, m.str());
      }
      return v;
    }
    case Kind::string: {
      auto s = node.value_exact<std::string>();
      if (!s) fail(o, "expected a string");
      if (spec.choices) {
        const auto choices = spec.choices();
        if (std::find(choices.begin(), choices.end(), *s) == choices.end()) {
          std::string c;
          for (const auto& x : choices) c += (c.empty() ? "" : ", ") + x;
          fail(o, "'" + *s + "' is not one of: " + c);
        }
      }
      if (spec.check) {
        const std::string why = spec.check(*s);
        if (!why.empty()) fail(o, why);
      }
      return *s;
    }
    case Kind::boolean: {
      auto b = node.value_exact<bool>();
      if (!b) fail(o, "expected true or false");
      return *b;
    }
    case Kind::strings:
      return read_strings(spec, node, o);
  }
  return v;
}

nlohmann::json value_json(const Value& v) {
  return std::visit([](const auto& x) { return nlohmann::json(x); }, v);
}

std::string where(const std::string& file, const toml::node& n) {
  return file + ":" + std::to_string(n.source().begin.line);
}

// The [expect] table (see expect.h).
std::vector<Expectation> read_expect(const toml::node& node, const std::string& file) {
  const toml::table* t = node.as_table();
  if (!t) fail(Origin{where(file, node), "expect"}, "expected a table of result = count");
  std::vector<Expectation> out;
  for (auto&& [k, v] : *t) {
    const std::string key(k.str());
    const Origin o{where(file, v), "expect." + key};
    bool known = key == "still_running" || is_status_expectation(key);
    for (int i = 0; i < kResultCount && !known; ++i)
      known = key == result_name(static_cast<Result>(i));
    if (!known) {
      fail(o,
           "not a result code (see `msbench keys`), still_running, a status (\"404\") or a "
           "class (\"5xx\")");
    }
    Expectation e;
    e.what = key;
    e.where = o.where;
    if (auto n = v.value_exact<std::int64_t>(); n && *n >= 0) {
      e.count = static_cast<std::uint64_t>(*n);
    } else if (auto s = v.value_exact<std::string>();
               s && (*s == "all" || *s == "some" || *s == "none")) {
      e.kind = *s == "all"    ? Expectation::Kind::all
               : *s == "some" ? Expectation::Kind::some
                              : Expectation::Kind::none;
    } else {
      fail(o, "expected a count >= 0, \"all\", \"some\" or \"none\"");
    }
    out.push_back(e);
  }
  return out;
}

struct Setting {
  const ConfigKey* spec;
  std::vector<Value> values;  // one, or the list to sweep
  bool is_list = false;
};

// Reads `node` (a scalar or an array of scalars) for key `spec`.
Setting read_setting(const ConfigKey& spec, const toml::node& node, const Origin& o) {
  Setting s{&spec, {}, false};
  if (kind_of(spec) == Kind::strings) {
    s.values.push_back(to_value(spec, node, o));  // the list is the value: not swept
    return s;
  }
  if (const toml::array* arr = node.as_array()) {
    if (arr->empty()) fail(o, "an empty list sweeps nothing");
    s.is_list = true;
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const toml::node& item = *arr->get(i);
      if (item.is_array() || item.is_table()) fail(o, "list items must be plain values");
      s.values.push_back(to_value(spec, item, o));
    }
  } else if (node.is_table()) {
    fail(o, "expected a value or a list of values, not a table");
  } else {
    s.values.push_back(to_value(spec, node, o));
  }
  return s;
}

}  // namespace

const std::vector<ScenarioKey>& scenario_keys() {
  static const std::vector<ScenarioKey> keys = [] {
    std::vector<ScenarioKey> out = {
        {"name", "string", "the scenario's name (default: the file's stem)", {}},
        {"description", "string", "what question the scenario answers", {}},
        {"output", "string", "results file (default: out/<name>.json)", {}},
        {"repetitions", "integer", "times each sweep point runs (1..1000)", {}},
    };
    for (const auto& k : config_keys()) {
      if (k.scenario)
        out.push_back(
            {k.name, key_type(k), k.help, k.choices ? k.choices() : std::vector<std::string>{}});
    }
    return out;
  }();
  return keys;
}

namespace {

// The keys a scenario sets, in the order they were set: the file's, then --set's.
struct Settings {
  std::map<std::string, Setting> by_key;
  std::vector<std::string> order;
  std::map<std::string, Origin> origins;  // where each key was set last

  void set(const std::string& key, Setting s, const Origin& o) {
    by_key[key] = std::move(s);
    origins[key] = o;
    if (std::find(order.begin(), order.end(), key) == order.end()) order.push_back(key);
  }
};

nlohmann::json expect_json(const std::vector<Expectation>& expect) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& e : expect) {
    using K = Expectation::Kind;
    j[e.what] = e.kind == K::exact  ? nlohmann::json(e.count)
                : e.kind == K::all  ? nlohmann::json("all")
                : e.kind == K::some ? nlohmann::json("some")
                                    : nlohmann::json("none");
  }
  return j;
}

// [[request]] tables: each a kind of request of a weighted mix, kept as a compact JSON
// object (url or path, method, headers, body, weight).
StringList read_request_tables(const toml::node& node, const std::string& file) {
  const toml::array* arr = node.as_array();
  const Origin whole{where(file, node), "request"};
  if (!arr || arr->empty()) fail(whole, "expected [[request]] tables");
  StringList out;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const toml::table* t = arr->get(i)->as_table();
    const Origin at{where(file, *arr->get(i)), "request[" + std::to_string(i + 1) + "]"};
    if (!t) fail(at, "expected a table ([[request]])");
    nlohmann::json j = nlohmann::json::object();
    for (auto&& [k, v] : *t) {
      const std::string name(k.str());
      const Origin o{where(file, v), at.key + "." + name};
      auto text = [&, &v = v] {  // clang 14 cannot capture a structured binding by itself
        auto s = v.value_exact<std::string>();
        if (!s) fail(o, "expected a string");
        return *s;
      };
      if (name == "url") {
        j["url"] = text();
        if (!is_web_url(j["url"].get<std::string>())) fail(o, "expected an http(s):// URL");
      } else if (name == "path") {
        j["path"] = text();
        if (j["path"].get<std::string>().rfind('/', 0) != 0) fail(o, "a path starts with /");
      } else if (name == "method") {
        j["method"] = text();
        if (!is_token(j["method"].get<std::string>())) fail(o, "the method is not an HTTP token");
      } else if (name == "headers") {
        const ConfigKey* headers = find_key("headers");
        j["headers"] = read_strings(*headers, v, o);
      } else if (name == "body") {
        j["body"] = text();
        if (const std::string why = body_problem(j["body"]); !why.empty()) fail(o, why);
      } else if (name == "weight") {
        auto w = v.value<double>();
        if (!w || !(*w > 0)) fail(o, "expected a weight > 0");
        j["weight"] = *w;
      } else {
        fail(o, "unknown key (known: url, path, method, headers, body, weight)");
      }
    }
    if (!j.contains("url") && !j.contains("path")) fail(at, "give a url or a path");
    out.push_back(j.dump());
  }
  return out;
}

// The file's keys, in the file's order (toml++ iterates tables in key order).
void read_file_keys(const toml::table& root, const std::string& file, Scenario& sc,
                    Settings& settings) {
  std::vector<std::pair<std::string, const toml::node*>> entries;
  for (auto&& [k, node] : root) entries.emplace_back(std::string(k.str()), &node);
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    const auto& x = a.second->source().begin;
    const auto& y = b.second->source().begin;
    return x.line != y.line ? x.line < y.line : x.column < y.column;
  });
  for (const auto& [key, node_ptr] : entries) {
    const toml::node& node = *node_ptr;
    const Origin o{where(file, node), key};
    if (key == "name" || key == "output" || key == "description") {
      auto s = node.value_exact<std::string>();
      if (!s) fail(o, "expected a string");
      if (key == "name") sc.name = *s;
      if (key == "output") sc.output = *s;
      if (key == "description") sc.resolved["description"] = *s;
    } else if (key == "expect") {
      sc.expect = read_expect(node, file);
      sc.resolved["expect"] = expect_json(sc.expect);
    } else if (key == "repetitions") {
      auto i = node.value_exact<std::int64_t>();
      if (!i || *i < 1 || *i > 1000) fail(o, "expected an integer in [1, 1000]");
      sc.repetitions = int(*i);
    } else if (key == "request") {
      Setting s{find_key("requests"), {read_request_tables(node, file)}, false};
      settings.set("requests", std::move(s), o);
    } else {
      const ConfigKey* spec = find_key(key);
      if (!spec) fail(o, "unknown key (known: " + known_keys() + ")");
      settings.set(key, read_setting(*spec, node, o), o);
    }
  }
}

// --set key=value, in order: the value in TOML syntax (a bare word is taken as a string).
void apply_overrides(const std::vector<std::string>& overrides, Scenario& sc, Settings& settings) {
  for (const std::string& ov : overrides) {
    const auto eq = ov.find('=');
    const std::string key = ov.substr(0, eq);
    const Origin o{"--set " + ov, key};
    if (eq == std::string::npos || key.empty())
      throw ScenarioError("--set " + ov + ": expected key=value");
    const std::string value = ov.substr(eq + 1);
    if (key == "output" || key == "name") {
      (key == "output" ? sc.output : sc.name) = value;
      continue;
    }
    if (key == "repetitions") {
      char* end = nullptr;
      const long n = std::strtol(value.c_str(), &end, 10);
      if (*end || n < 1 || n > 1000) fail(o, "expected an integer in [1, 1000]");
      sc.repetitions = int(n);
      continue;
    }
    const ConfigKey* spec = find_key(key);
    if (!spec) fail(o, "unknown key (known: " + known_keys() + ")");
    toml::table t;
    try {
      t = toml::parse("v = " + value);
    } catch (const toml::parse_error& e) {
      // A bare word is a string; what starts like a list, table or quoted string and does not
      // parse is a typo to name, not a string to pass on.
      if (!value.empty() && std::string_view("[{\"'").find(value[0]) != std::string_view::npos)
        fail(o, "not a TOML value (" + std::string(e.description()) + ")");
      t = toml::table{{"v", value}};
    }
    settings.set(key, read_setting(*spec, *t.get("v"), o), o);
  }
}

// The product of every list, in key order, the last key varying fastest; repetitions
// innermost so that repeated runs of one point follow each other. A swept `engine` is the
// exception: engines alternate inside each repetition (A B C A B C ...), so the runs
// compared pair by pair are neighbours in time and the machine's drift (12-27% from run
// to run here) falls on both alike.
void expand_sweep(Scenario& sc, Settings& settings) {
  RunConfig base;
  for (const auto& key : settings.order) {
    const Setting& s = settings.by_key[key];
    if (!s.is_list) set_key(*s.spec, base, s.values[0]);
    sc.resolved["keys"][key] = s.is_list ? nlohmann::json::array() : value_json(s.values[0]);
    if (s.is_list) {
      for (const auto& v : s.values) sc.resolved["keys"][key].push_back(value_json(v));
      sc.swept.push_back(key);
    }
  }
  std::vector<RunConfig> points{base};
  for (const auto& key : sc.swept) {
    if (key == "engine") continue;
    std::vector<RunConfig> next;
    for (const RunConfig& p : points) {
      for (const Value& v : settings.by_key[key].values) {
        RunConfig c = p;
        set_key(*settings.by_key[key].spec, c, v);
        next.push_back(c);
      }
    }
    points.swap(next);
  }
  const auto engines = settings.by_key.find("engine");
  const bool engines_swept = engines != settings.by_key.end() && engines->second.is_list;
  int pair = 0;
  for (const RunConfig& p : points) {
    for (int r = 0; r < sc.repetitions; ++r, ++pair) {
      RunConfig c = p;
      c.repetition = r;
      c.pair = pair;
      if (!engines_swept) {
        sc.runs.push_back(c);
        continue;
      }
      for (const Value& v : engines->second.values) {
        set_key(*engines->second.spec, c, v);
        sc.runs.push_back(c);
      }
    }
  }
}

}  // namespace

// What a run's keys mean together: refused with the key that does not fit, where it was set.
void check_run(const RunConfig& c, const Settings& settings, const std::string& file) {
  const auto origin = [&](const char* key) {
    const auto o = settings.origins.find(key);
    return o != settings.origins.end() ? o->second : Origin{file, key};
  };
  const auto set = [&](const char* key) { return settings.origins.count(key) > 0; };
  const std::string conflict = engine_backend_conflict(c.engine, c.backend);
  if (!conflict.empty()) fail(origin("engine"), conflict);
  if (!c.targets.empty() && c.target != "builtin")
    fail(origin("targets"), "give target or targets, not both");
  if (!c.builtin() && set("scheme")) {
    for (const std::string& url : c.targets.empty() ? StringList{c.target} : c.targets) {
      if (url.rfind(c.scheme + "://", 0) != 0)
        fail(origin("scheme"), "scheme = \"" + c.scheme + "\" but the target is " + url);
    }
  }
  if (const server::Fault* f = server::find_fault(c.fault);
      f && f->kind == server::FaultKind::tls && c.scheme != "https") {
    fail(origin("fault"), "the TLS fault '" + c.fault + "' needs scheme = \"https\"");
  }
  if (!c.builtin()) {
    for (const auto& k : config_keys()) {
      if (k.builtin_only && set(k.name)) {
        fail(origin(k.name), "applies to the built-in server only, and the target is a URL");
      }
    }
  }
  if (!c.is_load()) {
    for (const char* key : {"method", "headers", "body", "rate", "think_time_ms", "pipeline"}) {
      if (set(key)) {
        fail(origin(key), "applies to a load: give a path, [[request]] tables or a URL target");
      }
    }
    return;
  }
  if (c.engine != "msbench") {
    fail(origin("engine"),
         "a load runs on msbench's own engine; the references (libcurl, floor) "
         "take the trickle workload");
  }
  if (!c.path.empty() && c.path[0] != '/') fail(origin("path"), "a path starts with /");
  if (!c.path.empty() && !c.requests.empty()) {
    fail(origin("path"), "give a path or [[request]] tables, not both");
  }
  if (const std::string why = body_problem(c.body); !why.empty()) fail(origin("body"), why);
  if (c.rate > 0) {
    if (c.pipeline > 1)
      fail(origin("pipeline"), "the open model sends requests one at a time (pipeline = 1)");
    if (c.think_time_ms > 0)
      fail(origin("think_time_ms"),
           "the open model sends at its rate: think time is for the closed model");
  }
  if (c.requests.size() > 1) {
    if (c.effective_requests_per_connection() > 1) {
      fail(origin("requests_per_connection"),
           "with several [[request]] kinds each request is drawn on its own: 0 (keep-alive) or 1");
    }
    if (c.pipeline > 1) fail(origin("pipeline"), "several [[request]] kinds cannot be pipelined");
  }
}

Scenario parse_scenario(const std::string& text, const std::string& file,
                        const std::vector<std::string>& overrides) {
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    throw ScenarioError(file + ":" + std::to_string(e.source().begin.line) + ": " +
                        std::string(e.description()));
  }
  Scenario sc;
  sc.file = file;
  sc.name = std::filesystem::path(file).stem().string();
  Settings settings;
  read_file_keys(root, file, sc, settings);
  apply_overrides(overrides, sc, settings);
  if (sc.output.empty()) sc.output = "out/" + sc.name + ".json";
  expand_sweep(sc, settings);
  for (const RunConfig& c : sc.runs) check_run(c, settings, file);
  sc.resolved["name"] = sc.name;
  sc.resolved["file"] = file;
  sc.resolved["output"] = sc.output;
  sc.resolved["repetitions"] = sc.repetitions;
  sc.resolved["swept"] = sc.swept;
  sc.resolved["overrides"] = overrides;
  sc.resolved["runs"] = sc.runs.size();
  return sc;
}

Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path);
  if (!in) throw ScenarioError(path + ": cannot read the scenario file");
  std::stringstream text;
  text << in.rdbuf();
  return parse_scenario(text.str(), path, overrides);
}

}  // namespace msb::cli
