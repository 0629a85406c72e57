#include "runner.h"

#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "listen_ports.h"
#include "merge.h"
#include "progress.h"
#include "results_json.h"
#include "dns_server.h"
#include "faults.h"
#include "server_process.h"
#include "worker.h"

namespace msb::cli {

namespace {

std::atomic<bool> g_worker_stop{false};
void worker_on_signal(int) { g_worker_stop = true; }

struct Child {
  pid_t pid = -1;
  int pipe = -1;
  std::string result_file;
  std::string buffer;  // unfinished progress line
  std::string error;
  bool done = false;
};

void write_line(int fd, const std::string& line) {
  std::size_t off = 0;
  while (off < line.size()) {
    const ssize_t n = ::write(fd, line.data() + off, line.size() - off);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

[[noreturn]] void worker_main(const RunConfig& config, const WorkerPlan& plan, int out,
                              const std::string& result_file) {
  struct sigaction sa {};
  sa.sa_handler = worker_on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  try {
    const RunResult r = run_worker(config, plan, g_worker_stop, [out](const Progress& p) {
      write_line(out, format_progress(p));
    });
    write_json(run_json(r), result_file);
    write_line(out, "D\n");
    _exit(0);
  } catch (const std::exception& e) {
    std::string msg = e.what();
    for (char& c : msg) {
      if (c == '\n') c = ' ';
    }
    write_line(out, "E " + msg + "\n");
    _exit(1);
  }
}

}  // namespace

int connections_per_process(const std::string& backend) {
  const long limit = server::raise_fd_limit();
  const BackendInfo* b = find_backend(backend);
  // Room for the process's own descriptors (stdio, the loop, the pipe, c-ares) below the cap.
  if (b && b->fd_cap > 0) return std::max(1, std::min<int>(b->fd_cap - 64, static_cast<int>(limit) - 1000));
  return static_cast<int>(std::max(1000L, limit - 1000));
}

RunResult run_one(const RunConfig& config, const std::atomic<bool>& stop,
                  const RunnerOptions& options) {
  const int capacity = connections_per_process(config.backend);
  int workers = options.workers > 0 ? options.workers : config.workers;
  workers = std::max(workers, (config.connections + capacity - 1) / capacity);
  workers = std::max(1, std::min(workers, config.connections));
  if ((config.connections + workers - 1) / workers > capacity) {
    throw std::runtime_error("run: " + std::to_string(workers) + " workers cannot hold " +
                             std::to_string(config.connections) + " connections with " +
                             config.backend + " (at most " + std::to_string(capacity) +
                             " each): use more workers");
  }

  // Servers first (forked while this process has no threads), one per worker; and for
  // runs by name, one DNS server that knows every name.
  std::unique_ptr<server::Dnsmasq> dns;
  const server::Fault* fault = server::find_fault(config.fault);
  const bool dns_answers_faults = fault && (fault->kind == server::FaultKind::dns_nxdomain ||
                                            fault->kind == server::FaultKind::dns_refused);
  if (config.target == "builtin" && (config.names > 0 || dns_answers_faults)) {
    std::vector<std::pair<std::string, std::string>> records;
    for (int k = 0; k < std::max(config.names, 1); ++k) {
      records.emplace_back("n" + std::to_string(k) + ".msb.test",
                           "127.0.0." + std::to_string(1 + k % config.addresses));
    }
    dns = std::make_unique<server::Dnsmasq>(records);
  }
  std::vector<std::unique_ptr<server::ServerProcess>> servers;
  int listen_ports = 0;  // per address, as the servers report them
  if (config.target == "builtin") {
    server::ServerOptions so;
    so.addresses.clear();
    for (int a = 1; a <= config.addresses; ++a) so.addresses.push_back("127.0.0." + std::to_string(a));
    // A port-exhaustion run wants its few local ports used up against one destination.
    const int most_per_worker = (config.connections + workers - 1) / workers;
    const PortRange range = ephemeral_port_range();
    so.port_count = config.local_ports > 0
                        ? config.ports
                        : listen_ports_needed(most_per_worker, config.addresses, config.ports, range);
    if (so.port_count > config.ports) {
      std::fprintf(stderr,
                   "msbench: servers listen on %d ports per address (%d connections per worker, "
                   "at most %d per destination keeps the kernel's local-port search short)\n",
                   so.port_count, most_per_worker, connections_per_destination(range));
    }
    for (int w = 0; w < workers; ++w) servers.push_back(std::make_unique<server::ServerProcess>(so));
    listen_ports = static_cast<int>(servers[0]->endpoints().size()) / config.addresses;
  }

  std::vector<Child> children(static_cast<std::size_t>(workers));
  for (int w = 0; w < workers; ++w) {
    WorkerPlan plan;
    plan.index = w;
    plan.count = workers;
    plan.connections = config.connections / workers + (w < config.connections % workers ? 1 : 0);
    plan.connect_rate = config.connect_rate / workers;
    if (!servers.empty()) {
      plan.ports_by_address.assign(static_cast<std::size_t>(config.addresses), {});
      for (const auto& e : servers[static_cast<std::size_t>(w)]->endpoints()) {
        plan.bases.push_back("http://" + e.address + ":" + std::to_string(e.port));
        const int a = std::stoi(e.address.substr(e.address.rfind('.') + 1)) - 1;
        plan.ports_by_address[static_cast<std::size_t>(a)].push_back(e.port);
      }
    }
    if (dns) plan.dns_server = dns->server();
    char path[] = "/tmp/msbench-worker-XXXXXX";
    const int tmp = ::mkstemp(path);
    if (tmp < 0) throw std::runtime_error(std::string("mkstemp: ") + std::strerror(errno));
    ::close(tmp);
    int p[2];
    if (::pipe(p) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
      ::close(p[0]);
      for (int i = 0; i < w; ++i) ::close(children[static_cast<std::size_t>(i)].pipe);
      worker_main(config, plan, p[1], path);
    }
    ::close(p[1]);
    children[static_cast<std::size_t>(w)] = Child{pid, p[0], path, "", "", false};
  }

  ProgressView view(stderr, options.tty, options.label, config.connections, workers);
  bool forwarded = false;
  std::size_t open_pipes = children.size();
  std::vector<pollfd> fds;
  while (open_pipes > 0) {
    if (stop && !forwarded) {
      // Ctrl-C on a terminal reaches the workers too; a signal sent to this process alone
      // (kill -INT) must as well.
      for (const auto& c : children) ::kill(c.pid, SIGINT);
      forwarded = true;
    }
    fds.clear();
    for (const auto& c : children) fds.push_back(pollfd{c.done ? -1 : c.pipe, POLLIN, 0});
    ::poll(fds.data(), fds.size(), 250);
    for (std::size_t i = 0; i < children.size(); ++i) {
      Child& c = children[i];
      if (c.done || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[4096];
      const ssize_t n = ::read(c.pipe, buf, sizeof buf);
      if (n <= 0) {
        c.done = true;
        --open_pipes;
        ::close(c.pipe);
        continue;
      }
      c.buffer.append(buf, static_cast<std::size_t>(n));
      std::size_t nl;
      while ((nl = c.buffer.find('\n')) != std::string::npos) {
        std::istringstream line(c.buffer.substr(0, nl));
        c.buffer.erase(0, nl + 1);
        std::string kind;
        line >> kind;
        if (kind == "P") {
          view.update(static_cast<int>(i), parse_progress(line));
        } else if (kind == "E") {
          std::getline(line, c.error);
        }
      }
    }
    view.render();
  }
  view.finish();

  std::vector<RunResult> parts;
  std::string errors;
  for (std::size_t i = 0; i < children.size(); ++i) {
    Child& c = children[i];
    int status = 0;
    while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
    }
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (ok) {
      try {
        parts.push_back(run_from_json(read_json_file(c.result_file)));
      } catch (const std::exception& e) {
        errors += "worker " + std::to_string(i) + ": unreadable result: " + e.what() + "; ";
      }
    } else {
      errors += "worker " + std::to_string(i) + ":" +
                (c.error.empty() ? std::string(" died (status ") + std::to_string(status) + ")"
                                 : c.error) + "; ";
    }
    ::unlink(c.result_file.c_str());
  }
  servers.clear();
  if (!errors.empty()) throw std::runtime_error("run failed: " + errors);
  RunResult merged = merge_runs(parts, workers > 1);
  merged.config = config;
  merged.listen_ports = listen_ports;
  return merged;
}

}  // namespace msb::cli
