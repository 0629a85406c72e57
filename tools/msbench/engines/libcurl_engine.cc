// libcurl (Debian's, or a build given by path: curl_api.h) driven through its multi_socket API on
// msbench's own Loop: the library this design comes from, measured on the same connections, backend
// and histogram.
//  - CURLMOPT_SOCKETFUNCTION lands in Loop::watch() (CURL_POLL_* and msbench's kPoll* have
//    the same values, as have CURL_CSELECT_* and kEvent*), CURLMOPT_TIMERFUNCTION in
//    Loop::set_timer(); curl_multi_assign() marks each socket the first time it is seen,
//    which is how sockets() counts them without a table of its own.
//  - The per-call histogram times curl_multi_socket_action() exactly as Multi times its own
//    socket_action(); curl_multi_info_read() runs outside the timed call, as info_read().
//  - The spec's timeouts and headers map to CURLOPT_TIMEOUT_MS, CONNECTTIMEOUT_MS,
//    LOW_SPEED_LIMIT/TIME (whole seconds, rounded up) and HTTPHEADER.
#include <curl/curl.h>
#include <time.h>

#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "curl_api.h"
#include "engine.h"

namespace msb::cli {

namespace {

static_assert(CURL_POLL_IN == kPollIn && CURL_POLL_OUT == kPollOut &&
              CURL_POLL_INOUT == kPollInOut && CURL_POLL_REMOVE == kPollRemove);
static_assert(CURL_CSELECT_IN == kEventIn && CURL_CSELECT_OUT == kEventOut &&
              CURL_CSELECT_ERR == kEventErr);
static_assert(CURL_SOCKET_TIMEOUT == kSocketTimeout);

std::int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// libcurl's result as msbench's closest code; the comparison runs only expect `ok`, and a
// code with no counterpart shows up as bad_response rather than being dropped.
Result from_curl(CURLcode c) {
  switch (c) {
    case CURLE_OK:
      return Result::ok;
    case CURLE_URL_MALFORMAT:
      return Result::url_malformed;
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Result::unsupported_protocol;
    case CURLE_COULDNT_RESOLVE_HOST:
      return Result::couldnt_resolve;
    case CURLE_COULDNT_CONNECT:
      return Result::couldnt_connect;
    case CURLE_OPERATION_TIMEDOUT:
      return Result::timed_out;
    case CURLE_SEND_ERROR:
      return Result::send_error;
    case CURLE_RECV_ERROR:
      return Result::recv_error;
    case CURLE_GOT_NOTHING:
      return Result::empty_reply;
    case CURLE_PARTIAL_FILE:
      return Result::partial_body;
    case CURLE_WEIRD_SERVER_REPLY:
      return Result::bad_status_line;
    case CURLE_OUT_OF_MEMORY:
      return Result::out_of_memory;
    case CURLE_SSL_CONNECT_ERROR:
      return Result::tls_handshake_failed;
    case CURLE_PEER_FAILED_VERIFICATION:  // curl's one code for untrusted and wrong name
      return Result::tls_cert_untrusted;
    case CURLE_SSL_CACERT_BADFILE:
      return Result::bad_option;
    default:
      return Result::bad_response;
  }
}

class CurlGlobal {
 public:
  explicit CurlGlobal(const CurlApi& api) : api_(api) {
    if (api_.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw std::runtime_error("libcurl: curl_global_init failed");
    }
  }
  ~CurlGlobal() { api_.global_cleanup(); }

 private:
  const CurlApi& api_;
};

class LibcurlEngine final : public ReferenceEngine {
 public:
  LibcurlEngine(const CurlApi& api, Loop& loop, std::string dns_server, const TlsOptions& tls)
      : ReferenceEngine("libcurl"),
        tls_(tls),
        api_(api),
        global_(api),
        loop_(loop),
        dns_server_(std::move(dns_server)),
        multi_(api_.multi_init()) {
    if (!multi_) throw std::runtime_error("libcurl: curl_multi_init failed");
    api_.multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &LibcurlEngine::on_socket_fn);
    api_.multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    api_.multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &LibcurlEngine::on_timer_fn);
    api_.multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    loop_.attach(this);
  }
  ~LibcurlEngine() override {
    for (auto& [id, e] : easies_) {
      api_.multi_remove_handle(multi_, e.easy);
      api_.easy_cleanup(e.easy);
    }
    api_.multi_cleanup(multi_);
  }

  std::uint64_t add(const TransferSpec& spec) override {
    CURL* easy = api_.easy_init();
    if (!easy) throw std::runtime_error("libcurl: curl_easy_init failed");
    const std::uint64_t id = ++last_id_;
    api_.easy_setopt(easy, CURLOPT_URL, spec.url.c_str());
    api_.easy_setopt(easy, CURLOPT_TIMEOUT_MS, long{spec.total_timeout_ms});
    api_.easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, long{spec.connect_timeout_ms});
    if (spec.low_speed_limit && spec.low_speed_time_ms) {
      api_.easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, long{spec.low_speed_limit});
      api_.easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, long{(spec.low_speed_time_ms + 999) / 1000});
    }
    Headers headers(api_);
    for (const auto& h : spec.headers) headers.list = api_.slist_append(headers.list, h.c_str());
    if (headers.list) api_.easy_setopt(easy, CURLOPT_HTTPHEADER, headers.list);
    api_.easy_setopt(easy, CURLOPT_PRIVATE, reinterpret_cast<void*>(id));
    api_.easy_setopt(easy, CURLOPT_WRITEFUNCTION, &LibcurlEngine::discard);
    api_.easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    api_.easy_setopt(easy, CURLOPT_PROXY, "");  // never an environment proxy: loopback only
    if (!tls_.ca_file.empty()) api_.easy_setopt(easy, CURLOPT_CAINFO, tls_.ca_file.c_str());
    if (!tls_.ca_path.empty()) api_.easy_setopt(easy, CURLOPT_CAPATH, tls_.ca_path.c_str());
    api_.easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, tls_.verify_peer ? 1L : 0L);
    api_.easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, tls_.verify_peer ? 2L : 0L);
    api_.easy_setopt(easy, CURLOPT_SSL_SESSIONID_CACHE, tls_.session_resumption ? 1L : 0L);
    api_.easy_setopt(easy, CURLOPT_TLS13_CIPHERS, tls_.tls13_ciphersuites.c_str());
    if (!dns_server_.empty() &&
        api_.easy_setopt(easy, CURLOPT_DNS_SERVERS, dns_server_.c_str()) != CURLE_OK) {
      api_.easy_cleanup(easy);
      throw std::runtime_error(
          "engine 'libcurl': this libcurl cannot use a given DNS server "
          "(CURLOPT_DNS_SERVERS needs a c-ares build): run with names = 0");
    }
    if (api_.multi_add_handle(multi_, easy) != CURLM_OK) {
      api_.easy_cleanup(easy);
      throw std::runtime_error("libcurl: curl_multi_add_handle failed");
    }
    easies_.emplace(id, Easy{easy, std::move(headers)});
    ++stats_.transfers_added;
    return id;
  }

  bool remove(std::uint64_t id) override {
    auto it = easies_.find(id);
    if (it == easies_.end()) return false;
    api_.multi_remove_handle(multi_, it->second.easy);
    api_.easy_cleanup(it->second.easy);
    easies_.erase(it);
    ++stats_.transfers_removed;
    return true;
  }

  std::optional<Done> next_done() override {
    int left = 0;
    while (CURLMsg* msg = api_.multi_info_read(multi_, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      const CURLcode code = msg->data.result;
      void* priv = nullptr;
      api_.easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
      curl_off_t total_us = 0;
      api_.easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &total_us);
      api_.multi_remove_handle(multi_, easy);
      api_.easy_cleanup(easy);
      easies_.erase(reinterpret_cast<std::uint64_t>(priv));
      const Result r = from_curl(code);
      ++stats_.by_result[static_cast<std::size_t>(r)];
      ++stats_.transfers_done;
      Done d;
      d.result = r;
      d.timings.total_us = static_cast<std::int64_t>(total_us);
      return d;
    }
    return std::nullopt;
  }

  std::size_t sockets() const override { return sockets_; }
  std::string version() const override {
    return "libcurl " + api_.version + (api_.path.empty() ? "" : " " + api_.path);
  }
  std::size_t running() const override { return easies_.size(); }

  // LoopTarget: the loop's events, into curl_multi_socket_action.
  void on_socket(int fd, int events) override {
    action(fd, events, stats_.socket_action_socket_ns);
  }
  void on_timeout() override { action(CURL_SOCKET_TIMEOUT, 0, stats_.socket_action_timer_ns); }

 private:
  void action(curl_socket_t fd, int events, Histogram& h) {
    int still_running = 0;
    const std::int64_t t0 = now_ns();
    api_.multi_socket_action(multi_, fd, events, &still_running);
    h.record(static_cast<std::uint64_t>(now_ns() - t0));
    ++stats_.socket_action_calls;
  }

  static int on_socket_fn(CURL*, curl_socket_t fd, int what, void* self_p, void* socketp) {
    auto* self = static_cast<LibcurlEngine*>(self_p);
    ++self->stats_.socket_callbacks;
    if (what == CURL_POLL_REMOVE) {
      if (socketp) --self->sockets_;
    } else if (!socketp) {
      self->api_.multi_assign(self->multi_, fd, self);  // seen: counted once until REMOVE
      ++self->sockets_;
      ++self->stats_.connections_opened;
    }
    return self->loop_.watch(fd, what);
  }
  static int on_timer_fn(CURLM*, long timeout_ms, void* self_p) {
    auto* self = static_cast<LibcurlEngine*>(self_p);
    ++self->stats_.timer_callbacks;
    self->loop_.set_timer(timeout_ms);
    return 0;
  }
  static std::size_t discard(char*, std::size_t size, std::size_t n, void*) { return size * n; }

  // The header list must outlive the easy handle that points at it.
  struct Headers {
    const CurlApi* api;
    curl_slist* list = nullptr;
    explicit Headers(const CurlApi& a) : api(&a) {}
    Headers(Headers&& o) noexcept : api(o.api), list(std::exchange(o.list, nullptr)) {}
    Headers& operator=(Headers&&) = delete;
    ~Headers() { api->slist_free_all(list); }
  };
  struct Easy {
    CURL* easy;
    Headers headers;
  };

  TlsOptions tls_;
  const CurlApi& api_;
  CurlGlobal global_;
  Loop& loop_;
  std::string dns_server_;
  CURLM* multi_;
  std::unordered_map<std::uint64_t, Easy> easies_;  // running transfers by id
  std::uint64_t last_id_ = 0;
  std::size_t sockets_ = 0;
};

}  // namespace

std::unique_ptr<Engine> make_libcurl_engine(Loop& loop, const std::string& dns_server,
                                            const std::string& libcurl, const TlsOptions& tls) {
  return std::make_unique<LibcurlEngine>(curl_api(libcurl), loop, dns_server, tls);
}

}  // namespace msb::cli
