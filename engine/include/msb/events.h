// What the socket callback asks to watch, and what socket_action() is told happened: the
// small vocabulary shared by the engine, its backends and its internals.
#pragma once

namespace msb {

// What the engine wants watched on a socket (the socket callback's `what`).
enum Poll : int { kPollNone = 0, kPollIn = 1, kPollOut = 2, kPollInOut = 3, kPollRemove = 4 };
const char* poll_name(int what);

// What happened on a socket (socket_action's `events`); 0 means "unknown, go and look".
enum Event : int { kEventIn = 1, kEventOut = 2, kEventErr = 4 };

// socket_action's fd for "the timer fired".
inline constexpr int kSocketTimeout = -1;

}  // namespace msb
