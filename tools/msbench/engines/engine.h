// What a worker drives: msbench's own engine, or one of the references it is measured
// against in the same run (#8):
//  - "msbench": msb::Multi through its socket/timer callbacks;
//  - "libcurl": Debian's libcurl multi_socket API (curl_multi_socket_action,
//    CURLMOPT_SOCKETFUNCTION/TIMERFUNCTION, curl_multi_assign) on the same Loop;
//  - "floor": no engine at all: connect, send the request, then one bare recv() per ready
//    socket. Its per-event time is what the kernel alone costs here and now.
// Every engine fills the same MultiStats fields the results need: the per-call histogram
// (socket_action_socket_ns: time inside the engine's socket_action or the floor's recv),
// call and callback counts, and transfers by result, so accounting is identical.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "msb/backend.h"
#include "msb/loop.h"
#include "msb/multi.h"
#include "run_config.h"

namespace msb::cli {

class Engine {
 public:
  virtual ~Engine() = default;
  // Starts one transfer: a connection requesting spec.url, with spec's headers and (for
  // the engines that keep time; the floor keeps none) its timeouts. Throws
  // std::runtime_error when the engine refuses the request itself (a bad URL); failures on
  // the wire end as results.
  virtual std::uint64_t add(const TransferSpec& spec) = 0;
  // Ends a transfer still running (teardown); false if it had already ended.
  virtual bool remove(std::uint64_t id) = 0;
  // Ends a request loop after what it already sent (Multi::end_loop); the references run
  // no loops.
  virtual bool end_loop(std::uint64_t id) { return remove(id); }
  // The next ended transfer, as info_read() gives it (the references fill in what they
  // know: the result and the total time).
  virtual std::optional<Done> next_done() = 0;
  virtual std::size_t sockets() const = 0;  // sockets watched now
  virtual std::size_t running() const = 0;  // transfers not yet ended
  virtual MultiStats stats() const = 0;
  virtual void reset_timing_stats() = 0;  // phase change: empty the per-call histograms
  // The library a reference engine runs ("libcurl 8.22.0-DEV /opt/curl/lib/libcurl.so.4");
  // "" for msbench's own engine and the floor.
  virtual std::string version() const { return ""; }
};

// What the reference engines (libcurl, floor) share: they take the loop's events
// themselves and keep the MultiStats fields the results need in `stats_`.
class ReferenceEngine : public Engine, public LoopTarget {
 public:
  MultiStats stats() const override {
    MultiStats s = stats_;
    s.running = running();
    return s;
  }
  void reset_timing_stats() override {
    stats_.socket_action_socket_ns.reset();
    stats_.socket_action_timer_ns.reset();
  }

 protected:
  // `name` stands for the socket index and timer variants, which a reference has none of.
  explicit ReferenceEngine(const char* name) {
    stats_.sockindex.variant = name;
    stats_.timers.variant = name;
  }
  MultiStats stats_;
};

// Names accepted by `engine =`, and whether this build has each.
std::vector<std::string> engine_names();
bool engine_built(const std::string& name);
// Whether `engine` can run on `backend` ("" if yes, else why not).
std::string engine_backend_conflict(const std::string& engine, const std::string& backend);

// `options` carries the msbench engine's settings (the references ignore what they lack);
// `dns_server` is the resolver for host names, "" for the system's; `libcurl` the libcurl
// build the libcurl engine loads ("" the linked one).
std::unique_ptr<Engine> make_engine(const std::string& name, Backend& backend,
                                    const MultiOptions& options, const std::string& dns_server,
                                    const std::string& libcurl = "");

std::unique_ptr<Engine> make_msbench_engine(Backend& backend, const MultiOptions& options);
// `libcurl`: the path of the libcurl build to load, "" for the linked one (curl_api.h).
// `tls`: https:// with the same CA and verification as msbench's engine.
std::unique_ptr<Engine> make_libcurl_engine(Loop& loop, const std::string& dns_server,
                                            const std::string& libcurl, const TlsOptions& tls);
std::unique_ptr<Engine> make_floor_engine(Loop& loop, const TlsOptions& tls);

}  // namespace msb::cli
