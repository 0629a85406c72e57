// The floor: the same connections to the same server, but no engine. Each transfer is a
// socket that connects, sends a fixed GET, and then gets one bare recv() per readiness
// event; nothing is parsed, no timer is kept. Its per-event histogram (the time of that
// lookup-and-recv, timed like socket_action) is what an event costs with no engine at all,
// so msbench's figures are read as ratios to it. It reads its per-socket record when the
// event comes, as a plain loop would (no lookahead): an engine that loads its state while
// the sockets before it are in recv() (msbench's Multi::prefetch) can come under it.
//  - Host names are not resolved: the floor connects to literal IPv4 addresses only.
//  - End of stream counts as `ok` (no framing is checked); a refused or failed connect is
//    couldnt_connect, a failed send send_error, any other recv error recv_error.
//  - https:// (the TLS floor): the handshake (with the same CA and verification as msbench),
//    one SSL_write of the request, then one SSL_read per readiness event (records read
//    ahead, as the engine reads them: one recv for what has arrived; more reads only while
//    OpenSSL holds some already, which no poll would announce); a failed handshake is
//    tls_handshake_failed. No session is resumed: the floor's handshakes are all full.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <stdexcept>
#include <unordered_map>

#include "engine.h"

namespace msb::cli {

namespace {

std::int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

struct Target {
  sockaddr_in addr{};
  std::string request;
  std::string host;
  bool tls = false;
};

// "http[s]://A.B.C.D:PORT/path" -> address and request; throws on anything else.
Target parse_target(const std::string& url, const std::vector<std::string>& headers) {
  const bool tls = url.rfind("https://", 0) == 0;
  const std::string scheme = tls ? "https://" : "http://";
  if (url.rfind(scheme, 0) != 0) throw std::runtime_error("floor engine: not http(s)://: " + url);
  const auto slash = url.find('/', scheme.size());
  const std::string authority = url.substr(scheme.size(), slash - scheme.size());
  const std::string path = slash == std::string::npos ? "/" : url.substr(slash);
  const auto colon = authority.rfind(':');
  const std::string host = authority.substr(0, colon);
  Target t;
  t.addr.sin_family = AF_INET;
  t.tls = tls;
  t.host = host;
  t.addr.sin_port = htons(colon == std::string::npos
                              ? (tls ? 443 : 80)
                              : static_cast<std::uint16_t>(std::stoi(authority.substr(colon + 1))));
  if (inet_pton(AF_INET, host.c_str(), &t.addr.sin_addr) != 1) {
    throw std::runtime_error("floor engine: connects to IPv4 literals only, not '" + host +
                             "' (run with names = 0)");
  }
  t.request = "GET " + path + " HTTP/1.1\r\nHost: " + authority + "\r\n";
  for (const auto& h : headers) t.request += h + "\r\n";
  t.request += "\r\n";
  return t;
}

class FloorEngine final : public ReferenceEngine {
 public:
  FloorEngine(Loop& loop, const TlsOptions& tls)
      : ReferenceEngine("floor"), loop_(loop), tls_(tls) {
    loop_.attach(this);
  }
  ~FloorEngine() override {
    for (auto& [id, fd] : fd_by_id_) close_socket(fd);
    SSL_CTX_free(ctx_);
  }

  std::uint64_t add(const TransferSpec& spec) override {
    const Target t = parse_target(spec.url, spec.headers);
    if (t.tls && !ctx_) make_context();
    const std::uint64_t id = ++last_id_;
    ++stats_.transfers_added;
    const std::int64_t start = now_ns();
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      end(start, Result::socket_error);
      return id;
    }
    ++stats_.connections_opened;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&t.addr), sizeof t.addr) != 0 &&
        errno != EINPROGRESS) {
      ::close(fd);
      end(start, Result::couldnt_connect);
      return id;
    }
    const auto i = static_cast<std::size_t>(fd);
    if (i >= conns_.size()) conns_.resize(i + 1);
    if (watch(fd, kPollOut) != 0) {  // select() past FD_SETSIZE
      ::close(fd);
      end(start, Result::watch_failed);
      return id;
    }
    conns_[i] = Conn{id, start, false, t.request, nullptr, t.tls ? t.host : std::string()};
    fd_by_id_.emplace(id, fd);
    return id;
  }

  bool remove(std::uint64_t id) override {
    auto it = fd_by_id_.find(id);
    if (it == fd_by_id_.end()) return false;
    close_socket(it->second);
    fd_by_id_.erase(it);
    ++stats_.transfers_removed;
    return true;
  }

  std::optional<Done> next_done() override {
    if (done_.empty()) return std::nullopt;
    const Done r = done_.front();
    done_.pop_front();
    return r;
  }

  std::size_t sockets() const override { return fd_by_id_.size(); }
  std::size_t running() const override { return fd_by_id_.size(); }

  void on_socket(int fd, int /*events*/) override {
    const std::int64_t t0 = now_ns();
    ++stats_.socket_action_calls;
    Conn& c = conns_[static_cast<std::size_t>(fd)];
    if (!c.connected) {
      connected(fd, c);
    } else if (c.ssl) {
      tls_step(fd, c);
    } else {
      const ssize_t n = ::recv(fd, buffer_, sizeof buffer_, 0);
      if (n == 0) {
        finish(fd, c, Result::ok);
      } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        finish(fd, c, Result::recv_error);
      }
    }
    stats_.socket_action_socket_ns.record(static_cast<std::uint64_t>(now_ns() - t0));
  }
  void on_timeout() override {}  // the floor never sets a timer

 private:
  struct Conn {
    std::uint64_t id = 0;
    std::int64_t start_ns = 0;
    bool connected = false;
    std::string request;  // until sent
    SSL* ssl = nullptr;   // https://
    std::string host;     // https://, until the session is made
    bool handshaken = false;
  };

  void make_context() {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (!ctx_) throw std::runtime_error("floor engine: cannot set up TLS");
    SSL_CTX_set_mode(ctx_, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_read_ahead(ctx_, 1);
    SSL_CTX_set_ciphersuites(ctx_, tls_.tls13_ciphersuites.c_str());
    SSL_CTX_set_verify(ctx_, tls_.verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
    SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_OFF);
    const bool loaded = tls_.ca_file.empty() && tls_.ca_path.empty()
                            ? SSL_CTX_set_default_verify_paths(ctx_) == 1
                            : SSL_CTX_load_verify_locations(
                                  ctx_, tls_.ca_file.empty() ? nullptr : tls_.ca_file.c_str(),
                                  tls_.ca_path.empty() ? nullptr : tls_.ca_path.c_str()) == 1;
    ERR_clear_error();
    if (!loaded)
      throw std::runtime_error("floor engine: cannot load the CA file '" + tls_.ca_file + "'");
  }

  // The handshake, then the request in one write, then one SSL_read per event.
  void tls_step(int fd, Conn& c) {
    if (!c.handshaken) {
      const int r = SSL_do_handshake(c.ssl);
      if (r != 1) {
        const int e = SSL_get_error(c.ssl, r);
        ERR_clear_error();
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
          watch(fd, e == SSL_ERROR_WANT_READ ? kPollIn : kPollOut);
          return;
        }
        return finish(fd, c, Result::tls_handshake_failed);
      }
      c.handshaken = true;
      std::size_t n = 0;
      if (SSL_write_ex(c.ssl, c.request.data(), c.request.size(), &n) != 1 ||
          n != c.request.size()) {
        ERR_clear_error();
        return finish(fd, c, Result::send_error);
      }
      std::string().swap(c.request);
      watch(fd, kPollIn);
      return;
    }
    std::size_t n = 0;
    // SSL_free_buffers as the engine does (tls_transport.cc): what an idle connection holds
    // at the least, not the record buffers a session ticket made OpenSSL allocate again.
    bool read = SSL_read_ex(c.ssl, buffer_, sizeof buffer_, &n) == 1;
    while (read && SSL_has_pending(c.ssl) == 1)
      read = SSL_read_ex(c.ssl, buffer_, sizeof buffer_, &n) == 1;
    if (read) {
      SSL_free_buffers(c.ssl);
      return;
    }
    const int e = SSL_get_error(c.ssl, 0);
    ERR_clear_error();
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      SSL_free_buffers(c.ssl);
      return;
    }
    finish(fd, c, e == SSL_ERROR_ZERO_RETURN ? Result::ok : Result::recv_error);
  }

  void connected(int fd, Conn& c) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      finish(fd, c, Result::couldnt_connect);
      return;
    }
    if (!c.host.empty()) {
      c.ssl = SSL_new(ctx_);
      if (!c.ssl || SSL_set_fd(c.ssl, fd) != 1) return finish(fd, c, Result::out_of_memory);
      SSL_set_connect_state(c.ssl);
      if (tls_.verify_peer) X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c.ssl), c.host.c_str());
      std::string().swap(c.host);
      c.connected = true;
      return tls_step(fd, c);
    }
    // One send: a request that does not fit the empty send buffer of a new connection
    // (only a scenario's padding could make one) is the floor's send_error.
    const ssize_t n = ::send(fd, c.request.data(), c.request.size(), MSG_NOSIGNAL);
    if (n != static_cast<ssize_t>(c.request.size())) {
      finish(fd, c, Result::send_error);
      return;
    }
    c.connected = true;
    std::string().swap(c.request);
    watch(fd, kPollIn);
  }

  void finish(int fd, Conn& c, Result r) {
    fd_by_id_.erase(c.id);
    close_socket(fd);
    end(c.start_ns, r);
  }
  void end(std::int64_t start_ns, Result r) {
    ++stats_.by_result[static_cast<std::size_t>(r)];
    ++stats_.transfers_done;
    Done d;
    d.result = r;
    d.timings.total_us = (now_ns() - start_ns) / 1000;
    done_.push_back(d);
  }
  int watch(int fd, int what) {
    ++stats_.socket_callbacks;
    return loop_.watch(fd, what);
  }
  void close_socket(int fd) {
    Conn& c = conns_[static_cast<std::size_t>(fd)];
    SSL_free(c.ssl);  // no close_notify: the floor does the least
    c.ssl = nullptr;
    ++stats_.socket_callbacks;
    loop_.watch(fd, kPollRemove);  // before close: the fd number may come back at once
    ::close(fd);
  }

  Loop& loop_;
  TlsOptions tls_;
  SSL_CTX* ctx_ = nullptr;                           // made at the first https:// transfer
  std::vector<Conn> conns_;                          // by fd
  std::unordered_map<std::uint64_t, int> fd_by_id_;  // open sockets by transfer id
  std::deque<Done> done_;
  std::uint64_t last_id_ = 0;
  char buffer_[16384];
};

}  // namespace

std::unique_ptr<Engine> make_floor_engine(Loop& loop, const TlsOptions& tls) {
  return std::make_unique<FloorEngine>(loop, tls);
}

}  // namespace msb::cli
