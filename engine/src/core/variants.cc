// Names of the engine's pluggable internals, as scenarios and results spell them.
#include "msb/variants.h"

namespace msb {

const char* sockindex_name(SockIndexKind k) {
  switch (k) {
    case SockIndexKind::chained:
      return "chained";
    case SockIndexKind::resizable:
      return "resizable";
    case SockIndexKind::direct:
      return "direct";
  }
  return "unknown";
}

namespace {
constexpr SockIndexKind kSockIndexKinds[] = {SockIndexKind::chained, SockIndexKind::resizable,
                                             SockIndexKind::direct};
constexpr TimerKind kTimerKinds[] = {TimerKind::splay, TimerKind::heap, TimerKind::wheel};
}  // namespace

std::optional<SockIndexKind> parse_sockindex(const std::string& name) {
  for (auto k : kSockIndexKinds) {
    if (name == sockindex_name(k)) return k;
  }
  return std::nullopt;
}

std::vector<std::string> sockindex_names() {
  std::vector<std::string> out;
  for (auto k : kSockIndexKinds) out.push_back(sockindex_name(k));
  return out;
}

const char* timer_name(TimerKind k) {
  switch (k) {
    case TimerKind::splay:
      return "splay";
    case TimerKind::heap:
      return "heap";
    case TimerKind::wheel:
      return "wheel";
  }
  return "unknown";
}

std::optional<TimerKind> parse_timer(const std::string& name) {
  for (auto k : kTimerKinds) {
    if (name == timer_name(k)) return k;
  }
  return std::nullopt;
}

std::vector<std::string> timer_names() {
  std::vector<std::string> out;
  for (auto k : kTimerKinds) out.push_back(timer_name(k));
  return out;
}

}  // namespace msb
