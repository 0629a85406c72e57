#include "msb/result.h"

#include "msb/transfer.h"

namespace msb {

namespace {
constexpr const char* kNames[] = {
#define MSB_RESULT_NAME(name, message) #name,
    MSB_RESULT_LIST(MSB_RESULT_NAME)
#undef MSB_RESULT_NAME
};
constexpr const char* kMessages[] = {
#define MSB_RESULT_MESSAGE(name, message) message,
    MSB_RESULT_LIST(MSB_RESULT_MESSAGE)
#undef MSB_RESULT_MESSAGE
};
}  // namespace

const char* result_name(Result r) {
  const auto i = static_cast<unsigned>(r);
  return i < static_cast<unsigned>(kResultCount) ? kNames[i] : "unknown";
}

const char* result_message(Result r) {
  const auto i = static_cast<unsigned>(r);
  return i < static_cast<unsigned>(kResultCount) ? kMessages[i] : "unknown result code";
}

const char* expired_name(Expired e) {
  switch (e) {
    case Expired::none:
      return "none";
    case Expired::connect:
      return "connect";
    case Expired::total:
      return "total";
    case Expired::low_speed:
      return "low_speed";
    case Expired::tls_handshake:
      return "tls_handshake";
  }
  return "unknown";
}

}  // namespace msb
