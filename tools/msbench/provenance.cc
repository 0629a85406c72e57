#include "provenance.h"

#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "version.h"
#if MSB_HAVE_LIBCURL
#include <curl/curl.h>
#endif

namespace msb::cli {

using nlohmann::json;

namespace {

std::vector<std::string> g_command_line;
std::chrono::system_clock::time_point g_started = std::chrono::system_clock::now();

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(colon + 2);
    }
  }
  return "unknown";
}

// The first line of a /proc or /sys file, or "unavailable" (a container may hide it).
std::string first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return "unavailable";
  for (char& c : line)
    if (c == '\t') c = ' ';
  return line;
}

std::string utc(std::chrono::system_clock::time_point t) {
  const std::time_t s = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

void record_invocation(int argc, const char* const* argv) {
  g_command_line.assign(argv, argv + argc);
  g_started = std::chrono::system_clock::now();
}

json machine_facts() {
  utsname u{};
  uname(&u);
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  return {
      {"host", u.nodename},
      {"cpu", cpu_model()},
      {"cores", sysconf(_SC_NPROCESSORS_ONLN)},
      {"memory_bytes", static_cast<double>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE)},
      {"kernel", std::string(u.sysname) + " " + u.release},
      {"cpu_governor", first_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")},
      {"compiler", std::string("gcc-compatible ") + __VERSION__},
      {"build_type", kVersionBuildType},
      {"git_commit", kVersionCommit},
      // What bounds connections on this host: descriptors per process and for everything,
      // ephemeral ports per destination, the accept backlog, TIME_WAIT reuse.
      {"tunables",
       {{"open_files_soft", static_cast<double>(files.rlim_cur)},
        {"open_files_hard", static_cast<double>(files.rlim_max)},
        {"fs.file-max", first_line("/proc/sys/fs/file-max")},
        {"fs.nr_open", first_line("/proc/sys/fs/nr_open")},
        {"net.ipv4.ip_local_port_range", first_line("/proc/sys/net/ipv4/ip_local_port_range")},
        {"net.core.somaxconn", first_line("/proc/sys/net/core/somaxconn")},
        {"net.ipv4.tcp_tw_reuse", first_line("/proc/sys/net/ipv4/tcp_tw_reuse")}}},
  };
}

json invocation_facts() {
#if MSB_HAVE_LIBCURL
  const std::string libcurl = curl_version_info(CURLVERSION_NOW)->version;
#else
  const std::string libcurl = "not built";
#endif
  return {
      {"started_at", utc(g_started)},        {"written_at", utc(std::chrono::system_clock::now())},
      {"msbench_version", kVersionDescribe}, {"dirty_tree", kVersionDirty},
      {"command_line", g_command_line},      {"libcurl_version", libcurl},
  };
}

}  // namespace msb::cli
