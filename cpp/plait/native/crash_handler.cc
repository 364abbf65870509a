#include "plait/native/crash_handler.h"

#include <execinfo.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

namespace plait::native {
namespace {

constexpr int kSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
constexpr int kMaxFrames = 64;
constexpr std::size_t kPathMax = 4096;

// Everything the handler reads is set up beforehand: no allocation, no locks in it.
std::mutex g_install_mutex;
std::atomic<bool> g_installed{false};
struct sigaction g_previous[NSIG];
// Two buffers so a new crash file can be published without the handler ever reading a
// half-written path.
char g_paths[2][kPathMax];
std::atomic<const char*> g_crash_file{nullptr};
volatile sig_atomic_t g_reporting = 0;

const char* SignalName(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGABRT: return "SIGABRT";
    default: return "signal";
  }
}

// strsignal() is not async-signal-safe; these are glibc's words.
const char* SignalDescription(int sig) {
  switch (sig) {
    case SIGSEGV: return "Segmentation fault";
    case SIGBUS: return "Bus error";
    case SIGFPE: return "Floating point exception";
    case SIGILL: return "Illegal instruction";
    case SIGABRT: return "Aborted";
    default: return "fatal signal";
  }
}

void WriteAll(int fd, const char* s, std::size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return;
    }
    s += w;
    n -= static_cast<std::size_t>(w);
  }
}

void WriteStr(int fd, const char* s) { WriteAll(fd, s, std::strlen(s)); }

void WriteLong(int fd, long v) {
  char buf[24];
  char* p = buf + sizeof(buf);
  bool negative = v < 0;
  unsigned long u = negative ? 0UL - static_cast<unsigned long>(v) : static_cast<unsigned long>(v);
  do {
    *--p = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u != 0);
  if (negative) *--p = '-';
  WriteAll(fd, p, static_cast<std::size_t>(buf + sizeof(buf) - p));
}

// Async-signal-safe: write(), and backtrace_symbols_fd (which does not allocate).
void WriteReport(int fd, int sig, void* const* frames, int n) {
  WriteStr(fd, "*** plait: fatal signal ");
  WriteStr(fd, SignalName(sig));
  WriteStr(fd, " (");
  WriteStr(fd, SignalDescription(sig));
  WriteStr(fd, ") in pid ");
  WriteLong(fd, static_cast<long>(getpid()));
  WriteStr(fd, "; native stack, most recent call first:\n");
  backtrace_symbols_fd(frames, n, fd);
  WriteStr(fd, "*** end of native stack\n");
}

void Handler(int sig, siginfo_t*, void*) {
  int saved_errno = errno;
  // A second fatal signal while reporting (the stack is too broken to walk) skips the
  // report and dies of the first.
  if (!g_reporting) {
    g_reporting = 1;
    void* frames[kMaxFrames];
    int n = backtrace(frames, kMaxFrames);
    WriteReport(STDERR_FILENO, sig, frames, n);
    const char* path = g_crash_file.load(std::memory_order_acquire);
    if (path != nullptr && path[0] != '\0') {
      int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
      if (fd >= 0) {
        WriteReport(fd, sig, frames, n);
        close(fd);
      }
    }
  }
  // Hand the signal on to the action from before us; re-raised, it is delivered when
  // this handler returns (a fault also happens again on the same instruction).
  struct sigaction previous = g_previous[sig];
  if (previous.sa_handler == SIG_IGN) previous.sa_handler = SIG_DFL;  // must not loop
  sigaction(sig, &previous, nullptr);
  errno = saved_errno;
  raise(sig);
}

}  // namespace

Status InstallCrashHandler(const std::string& crash_file) {
  if (crash_file.size() >= kPathMax) {
    return Status::Invalid("crash file path is longer than " + std::to_string(kPathMax - 1) +
                           " bytes: " + crash_file);
  }
  std::lock_guard<std::mutex> lock(g_install_mutex);
  const char* current = g_crash_file.load(std::memory_order_relaxed);
  char* next = current == g_paths[0] ? g_paths[1] : g_paths[0];
  std::memcpy(next, crash_file.c_str(), crash_file.size() + 1);
  g_crash_file.store(next, std::memory_order_release);
  if (g_installed.load()) return Status::OK();
  // The first backtrace() loads libgcc (which allocates): do it now, not in the handler.
  void* warm[1];
  backtrace(warm, 1);
  struct sigaction action;
  std::memset(&action, 0, sizeof(action));
  action.sa_sigaction = Handler;
  sigemptyset(&action.sa_mask);
  // SA_ONSTACK: a thread with an alternate signal stack reports even a stack overflow.
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  for (int sig : kSignals) {
    if (sigaction(sig, &action, &g_previous[sig]) != 0) {
      int err = errno;
      for (int done : kSignals) {
        if (done == sig) break;
        sigaction(done, &g_previous[done], nullptr);
      }
      return Status::Unknown(std::string("sigaction(") + SignalName(sig) +
                             ") failed: " + std::strerror(err));
    }
  }
  g_installed.store(true);
  return Status::OK();
}

bool CrashHandlerInstalled() { return g_installed.load(); }

std::string CrashReportHeader(int sig, long pid) {
  return std::string("*** plait: fatal signal ") + SignalName(sig) + " (" +
         SignalDescription(sig) + ") in pid " + std::to_string(pid) +
         "; native stack, most recent call first:";
}

}  // namespace plait::native
