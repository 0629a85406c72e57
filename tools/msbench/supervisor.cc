#include "supervisor.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "results_json.h"
#include "worker.h"

namespace msb::cli {

namespace {

std::atomic<bool> g_worker_stop{false};
void worker_on_signal(int) {
  g_worker_stop = true;
}

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

// A worker process: progress as "P ..." lines, then "D" (the result is in its file) or
// "E message".
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

Child spawn(const RunConfig& config, const WorkerPlan& plan, const std::vector<Child>& earlier) {
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
    for (const Child& c : earlier) ::close(c.pipe);
    worker_main(config, plan, p[1], path);
  }
  ::close(p[1]);
  return Child{pid, p[0], path, "", "", false};
}

// Reads what a worker wrote: progress lines go to the view, an error is kept.
void read_child(Child& c, int index, ProgressView& view, std::size_t& open_pipes) {
  char buf[4096];
  const ssize_t n = ::read(c.pipe, buf, sizeof buf);
  if (n <= 0) {
    c.done = true;
    --open_pipes;
    ::close(c.pipe);
    return;
  }
  c.buffer.append(buf, static_cast<std::size_t>(n));
  std::size_t nl;
  while ((nl = c.buffer.find('\n')) != std::string::npos) {
    std::istringstream line(c.buffer.substr(0, nl));
    c.buffer.erase(0, nl + 1);
    std::string kind;
    line >> kind;
    if (kind == "P") {
      view.update(index, parse_progress(line));
    } else if (kind == "E") {
      std::getline(line, c.error);
    }
  }
}

}  // namespace

std::vector<RunResult> supervise(const RunConfig& config, const std::vector<WorkerPlan>& plans,
                                 const std::atomic<bool>& stop, ProgressView& view) {
  std::vector<Child> children;
  for (const WorkerPlan& plan : plans) children.push_back(spawn(config, plan, children));

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
      if (children[i].done || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      read_child(children[i], static_cast<int>(i), view, open_pipes);
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
                                 : c.error) +
                "; ";
    }
    ::unlink(c.result_file.c_str());
  }
  if (!errors.empty()) throw std::runtime_error("run failed: " + errors);
  return parts;
}

}  // namespace msb::cli
