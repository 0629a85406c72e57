// Result codes of a finished transfer, each with a name and a message.
//
// One list generates the enum and both tables (as libuv's UV_ERRNO_MAP does), so a code can
// never lack its message.
#pragma once

#include <cstdint>

namespace msb {

#define MSB_RESULT_LIST(X)                                                                         \
  X(ok, "the transfer completed")                                                                  \
  X(url_malformed, "the URL could not be parsed")                                                  \
  X(unsupported_protocol, "the URL's scheme is neither http:// nor https://")                      \
  X(couldnt_resolve, "the host name does not exist (NXDOMAIN) or has no address")                  \
  X(resolve_timed_out, "no DNS server answered within the lookup timeout")                         \
  X(resolve_server_failed, "the DNS server failed the lookup (SERVFAIL, REFUSED, bad reply)")      \
  X(couldnt_connect, "the TCP connection could not be established")                                \
  X(socket_error, "a socket could not be created (e.g. out of file descriptors)")                  \
  X(watch_failed, "the event loop refused to watch the socket (e.g. select past FD_SETSIZE)")      \
  X(timed_out, "a connect, total or low-speed timeout expired")                                    \
  X(tls_handshake_failed, "the TLS handshake failed (protocol, cipher or alert from the peer)")    \
  X(tls_cert_untrusted,                                                                            \
    "the server's certificate is not trusted (unknown CA, expired, self-signed)")                  \
  X(tls_name_mismatch, "the server's certificate is not for the host name or address asked for")   \
  X(tls_record_error,                                                                              \
    "a TLS record is malformed (e.g. plain HTTP answered where TLS was expected, or the reverse)") \
  X(tls_truncated,                                                                                 \
    "the server closed the TLS connection without close_notify where the body's end was the "      \
    "close")                                                                                       \
  X(send_error, "sending the request failed")                                                      \
  X(recv_error, "receiving the response failed (e.g. the connection was reset)")                   \
  X(empty_reply, "the server closed the connection without sending anything")                      \
  X(bad_status_line, "the response's status line is not HTTP/1.x with a 3-digit status")           \
  X(bad_header, "a response header line is malformed (bad name, NUL byte, bare CR)")               \
  X(headers_too_large, "the response headers exceed the size limit")                               \
  X(partial_headers, "the server closed the connection before the headers ended")                  \
  X(bad_content_length, "the Content-Length is invalid or conflicting")                            \
  X(bad_chunk, "the chunked body framing is invalid")                                              \
  X(unsupported_coding,                                                                            \
    "the response uses a transfer coding other than chunked, which this client cannot decode")     \
  X(partial_body, "the server closed the connection before the body ended")                        \
  X(bad_response, "the response violates HTTP/1.1 in another way")                                 \
  X(bad_option, "a transfer option is invalid (e.g. a header containing a line break)")            \
  X(out_of_memory, "an allocation failed")

enum class Result : std::uint8_t {
#define MSB_RESULT_ENUM(name, message) name,
  MSB_RESULT_LIST(MSB_RESULT_ENUM)
#undef MSB_RESULT_ENUM
};

constexpr int kResultCount = 0
#define MSB_RESULT_COUNT(name, message) +1
    MSB_RESULT_LIST(MSB_RESULT_COUNT)
#undef MSB_RESULT_COUNT
    ;

// "ok", "timed_out", ...: stable names used in results files.
const char* result_name(Result r);
// A sentence saying what went wrong.
const char* result_message(Result r);

}  // namespace msb
