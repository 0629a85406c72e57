// One request/response exchange: the engine's per-transfer state.
//
// Kept small on purpose (the target is < 1 KiB of user-space memory per idle connection):
// the receive buffer is shared by the whole Multi, the parser keeps only an unfinished line,
// and the request text and resolved addresses are freed as soon as they have served.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "core/address.h"
#include "core/clock.h"
#include "http1/http1_parser.h"
#include "http1/url.h"
#include "memory/block_pool.h"
#include "msb/transfer.h"
#include "timers/timer_queue.h"

namespace msb::detail {

struct SockEntry;
class Transport;
struct IoResult;
}  // namespace msb::detail

struct ssl_st;  // OpenSSL's SSL, kept out of the engine's headers

namespace msb::detail {

// A connection to an origin; it outlives a transfer when kept alive in the cache.
struct Connection {
  int fd = -1;
  Transport* transport = nullptr;  // how its bytes move (plain TCP, TLS)
  std::string origin;  // "host:port": the cache's and TLS sessions' key, spelled when needed
  SockEntry* watch = nullptr;  // the socket index entry while the engine watches fd
  // TLS only (tls_transport.h): the session, and why it failed (copied into the Done).
  ssl_st* tls = nullptr;
  unsigned long tls_error = 0;
  int tls_verify = 0;
  bool tls_broken = false;                // a fatal TLS error: no close_notify may follow
  BlockPool<Connection>* pool = nullptr;  // the Multi's, which made it (see PoolPtr)
};
using ConnectionPtr = PoolPtr<Connection>;

// The states, in the order a transfer passes them. set_state() is the only way between
// them, and what entering each requires is done there (see transfer_machine.cc).
enum class TransferState : std::uint8_t {
  init,
  resolving,
  connecting,
  handshaking,  // TLS, once the TCP connection is up
  sending,
  receiving,
  thinking,  // a loop between a response and its next request
  done
};
inline constexpr int kTransferStates = 8;
const char* state_name(TransferState s);

// A transfer's deadlines. Only the nearest one sits in the Multi's timer queue.
enum ExpireId : std::uint8_t {
  kExpireConnect,
  kExpireTotal,
  kExpireLowSpeed,
  kExpireThink,
  kExpireCount
};

// What a transfer asks beyond one GET or HEAD with the default headers: another method, a
// body, a source address, a request loop. Allocated only for such transfers, so that the
// many idle ones a benchmark holds stay small.
struct RequestPlan {
  std::string method;  // as given; "" for GET
  // A body too large to be copied into the request text (see enter_sending), sent after it.
  std::shared_ptr<const std::string> body;
  std::string source_address;
  std::uint32_t requests = 1;  // 0: until removed
  std::uint32_t pipeline = 1;
  std::uint32_t think_time_ms = 0;
  bool reuse_connection = true;
  bool has_host = false;    // the extra headers carry a Host
  bool has_length = false;  // ... a Content-Length or Transfer-Encoding

  // Progress of the loop.
  std::uint32_t batch = 1;         // requests in the batch being sent or read
  std::uint32_t batch_done = 0;    // its responses complete
  std::uint32_t conn_batches = 0;  // batches completed on the current connection
  std::size_t unit = 0;            // bytes of one request (text and body)
  bool body_merged = false;        // the body is copied into the request text
};

// Field order matters: the transfer is cold when its socket fires, so every field an event
// on an established connection reads comes first, and with the struct aligned to a cache
// line (640 bytes, ten lines) those are its first two lines and no others
// (tools/lines-per-event.sh counts the lines an event touches; see also the `compare`
// scenario's ratio to the bare-recv floor).
struct alignas(64) Transfer {
  // Hot: every event.
  TransferId id = 0;
  std::uint32_t slot = 0;
  TransferState state = TransferState::init;
  bool head = false;         // a HEAD request: its response has no body
  bool reused = false;       // the current connection came from the cache
  bool retried = false;      // already re-sent once after a cached connection turned out dead
  bool out_of_step = false;  // bytes followed the response: the connection is not reused
  bool turned = false;       // a TLS read waits for writable: watch for readable again after
  // Asked on every read, so kept on this line rather than read where they live (timings,
  // sink): an event on an established connection then touches the transfer's first two
  // cache lines only (this one and the parser's counters).
  bool first_byte_seen = false;  // timings.first_byte_us is set
  bool has_sink = false;         // sink is set: body bytes are handed on
  Result result = Result::ok;
  Expired expired = Expired::none;
  Transport* io = nullptr;  // conn->transport, here so that an event need not load conn
  ConnectionPtr conn;
  std::uint64_t received = 0;  // raw bytes read from the socket
  Http1Parser parser;
  Timings timings;
  std::int64_t first_byte_ns = 0;  // of the response being read
  DataSink sink;

  // Cold: set up, deadlines, teardown.
  TimerNode timer;
  std::array<std::int64_t, kExpireCount> deadline{kNever, kNever, kNever, kNever};
  static_assert(kExpireCount == 4, "every deadline starts as kNever");
  std::uint64_t window_received = 0;  // `received` when the low-speed window began
  std::int64_t window_start_ns = 0;
  std::int64_t start_ns = 0;

  Url url;
  std::string extra_headers;  // preformatted "Name: value\r\n" lines
  void* user = nullptr;
  std::uint32_t connect_timeout_ms = 0;
  std::uint32_t total_timeout_ms = 0;
  std::uint32_t low_speed_limit = 0;
  std::uint32_t low_speed_time_ms = 0;

  std::unique_ptr<RequestPlan> plan;  // null: one GET/HEAD, default headers, no body
  std::uint32_t answered = 0;         // responses complete
  int os_error = 0;                   // with `result`, once finished
  std::uint64_t body_total = 0;       // over all responses
  std::uint64_t header_total = 0;
  std::int64_t sent_ns = 0;           // the request (batch) began to go out
  bool new_connection = false;        // the current connection was opened for this request
  bool tls_resumed = false;           // it resumed an earlier session
  std::uint32_t next_address = 0;     // of `addresses`, the next to try
  std::int64_t connect_start_ns = 0;  // when its connect() was called
  std::int64_t connect_ns = 0;        // how long it took to establish
  std::int64_t tls_start_ns = 0;      // TLS: when the handshake began (TCP established)
  std::int64_t tls_ns = 0;            // how long it took

  std::vector<ResolvedAddress> addresses;  // candidates while connecting
  // While sending (a loop keeps it for the next batch); a plain request's is shared.
  std::shared_ptr<const std::string> request;
  std::size_t request_sent = 0;  // bytes of the batch sent (text and body)
  // The Multi's list this transfer waits in: added and not started yet (init), or waiting
  // for a name (resolving). Intrusive, so that joining and leaving is O(1) and allocates
  // nothing, whatever the storm.
  Transfer* wait_prev = nullptr;
  Transfer* wait_next = nullptr;
  Transfer* undelivered_next = nullptr;  // finished, waiting for info_read (see finish())
  BlockPool<Transfer>* pool = nullptr;   // the Multi's, which made it (see PoolPtr)
};

}  // namespace msb::detail
