// The fatal-signal handler, in forked children (gtest death tests): it reports, then the
// process dies of the signal (or the handler from before runs).
#include "plait/native/crash_handler.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace plait::native {
namespace {

// Not per pid: a "threadsafe" death test re-runs the test body in a new process.
std::string TempPath(const char* name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/plait-crash-handler-test-" + name +
         ".crash";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

[[gnu::noinline]] void DereferenceNull() {
  volatile int* p = nullptr;
  *p = 1;
}

TEST(CrashHandlerTest, InstallsForEveryFatalSignal) {
  ASSERT_TRUE(InstallCrashHandler("").ok());
  EXPECT_TRUE(CrashHandlerInstalled());
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) {
    struct sigaction now;
    ASSERT_EQ(sigaction(sig, nullptr, &now), 0);
    EXPECT_TRUE(now.sa_flags & SA_SIGINFO) << "signal " << sig;
  }
  EXPECT_TRUE(InstallCrashHandler("").ok());  // again: fine
}

TEST(CrashHandlerTest, RejectsAnOverlongPath) {
  EXPECT_FALSE(InstallCrashHandler(std::string(5000, 'x')).ok());
}

TEST(CrashHandlerDeathTest, SegfaultIsReportedThenKillsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  std::string path = TempPath("segv");
  std::remove(path.c_str());  // (the child re-runs this too, before it crashes)
  EXPECT_EXIT(
      {
        if (!InstallCrashHandler(path).ok()) std::_Exit(3);
        DereferenceNull();
      },
      testing::KilledBySignal(SIGSEGV),
      "fatal signal SIGSEGV \\(Segmentation fault\\)(.|\n)*end of native stack");
  std::string report = ReadFile(path);
  std::remove(path.c_str());
  EXPECT_NE(report.find("*** plait: fatal signal SIGSEGV (Segmentation fault) in pid "),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("*** end of native stack"), std::string::npos) << report;
  // One line per frame, at least the handler's caller and the faulting function.
  EXPECT_GE(std::count(report.begin(), report.end(), '\n'), 4) << report;
}

TEST(CrashHandlerDeathTest, AbortIsReportedAsSigabrt) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        if (!InstallCrashHandler("").ok()) std::_Exit(3);
        std::abort();
      },
      testing::KilledBySignal(SIGABRT), "fatal signal SIGABRT \\(Aborted\\)");
}

void PreviousHandler(int) {
  const char msg[] = "previous handler ran\n";
  (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
  _exit(42);
}

TEST(CrashHandlerDeathTest, HandsTheSignalOnToThePreviousHandler) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        signal(SIGFPE, PreviousHandler);
        if (!InstallCrashHandler("").ok()) std::_Exit(3);
        raise(SIGFPE);
      },
      testing::ExitedWithCode(42), "fatal signal SIGFPE(.|\n)*previous handler ran");
}

TEST(CrashHandlerTest, HeaderNamesTheSignal) {
  EXPECT_EQ(CrashReportHeader(SIGBUS, 7),
            "*** plait: fatal signal SIGBUS (Bus error) in pid 7; native stack, most recent "
            "call first:");
}

}  // namespace
}  // namespace plait::native
