// The C++ worker's fatal-signal handler: a crash in user C++ code (SIGSEGV, SIGBUS, SIGFPE,
// SIGILL, SIGABRT) leaves a report naming the signal and the native stack, on stderr and
// in a crash file the raylet reads when it reaps the worker (worker_pool.py), before the
// process dies of the signal as it would have without the handler.
#pragma once

#include <string>

#include "plait/codec/status.h"

namespace plait::native {

// Installs the handler for the fatal signals (once per process; later calls only change
// the crash file). `crash_file` is created (appended to) when a crash happens; "" writes
// the report to stderr only. After the report the signal goes on to the action that was
// installed before (the default, which ends the process, or e.g. Python's faulthandler).
Status InstallCrashHandler(const std::string& crash_file);

bool CrashHandlerInstalled();

// The report's first line for `sig`, e.g. "*** plait: fatal signal SIGSEGV (Segmentation
// fault) in pid 12; native stack, most recent call first:" (what tests look for).
std::string CrashReportHeader(int sig, long pid);

}  // namespace plait::native
