// Status and Result<T>: how every fallible plait C++ function reports failure.
//
// The codec and the SDK never throw and never abort on bad input: a malformed object, a
// value of the wrong type or a failed host call comes back as a Status, so the same code
// serves the Python bridge (which raises), user code (which may throw plait::Exception
// through the SDK's convenience calls) and tests.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace plait {

struct ErrorInfo;  // plait/codec/value.h: a failure as the runtime describes it

class Status {
 public:
  enum class Code : std::uint8_t {
    kOk = 0,
    kInvalid = 1,       // malformed input (a rejected object, a bad argument value)
    kTypeError = 2,     // a value of the wrong type for the requested C++ type
    kRefused = 3,       // a valid value this language cannot represent (Python-only)
    kNotFound = 4,      // unknown function, class or method
    kHostError = 5,     // the hosting runtime failed a Put/Get/submit
    kUnknown = 6,
  };

  Status() = default;
  static Status OK() { return Status(); }
  static Status Invalid(std::string msg) { return Status(Code::kInvalid, std::move(msg)); }
  static Status TypeError(std::string msg) {
    return Status(Code::kTypeError, std::move(msg));
  }
  static Status Refused(std::string msg) { return Status(Code::kRefused, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status HostError(std::string msg) {
    return Status(Code::kHostError, std::move(msg));
  }
  static Status Unknown(std::string msg) { return Status(Code::kUnknown, std::move(msg)); }
  // A failure the runtime reported as an Error value (a failed remote task, a host call
  // that raised, a timed-out Get): a HostError that keeps the Error itself, so callers
  // see its type name, language, message and stack (error_info(), plait::Exception).
  static Status HostError(std::string msg, std::shared_ptr<const ErrorInfo> error) {
    Status st(Code::kHostError, std::move(msg));
    st.error_info_ = std::move(error);
    return st;
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  // Empty for an OK status.
  const std::string& message() const { return message_; }
  // The runtime's Error behind this status (see HostError above), else null.
  const std::shared_ptr<const ErrorInfo>& error_info() const { return error_info_; }

  // The same failure with `context` in front of the message ("argument 2 of saxpy: ...").
  Status WithContext(const std::string& context) const {
    if (ok()) return *this;
    Status st(code_, context + ": " + message_);
    st.error_info_ = error_info_;
    return st;
  }

  // "Invalid: message", for logs and test failures.
  std::string ToString() const;
  // The error type name a caller in another language sees for this status
  // ("plait::TypeError", ...).
  const char* TypeName() const;

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  Code code_ = Code::kOk;
  std::string message_;
  std::shared_ptr<const ErrorInfo> error_info_;
};

inline const char* Status::TypeName() const {
  switch (code_) {
    case Code::kOk: return "plait::OK";
    case Code::kInvalid: return "plait::Invalid";
    case Code::kTypeError: return "plait::TypeError";
    case Code::kRefused: return "plait::Refused";
    case Code::kNotFound: return "plait::NotFound";
    case Code::kHostError: return "plait::HostError";
    default: return "plait::Unknown";
  }
}

inline std::string Status::ToString() const {
  static const char* const kNames[] = {"OK",       "Invalid",   "TypeError", "Refused",
                                       "NotFound", "HostError", "Unknown"};
  std::string out = kNames[static_cast<int>(code_)];
  if (!message_.empty()) out += ": " + message_;
  return out;
}

// A value or the Status saying why there is none. Constructing a Result from an OK
// Status is a programming error; it is turned into an Unknown status instead of UB.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit like arrow::Result
  Result(Status status)                          // NOLINT
      : status_(status.ok() ? Status::Unknown("Result built from an OK Status")
                            : std::move(status)) {}

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  // Only when ok().
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T&& operator*() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T ValueOr(T fallback) && { return ok() ? std::move(*value_) : std::move(fallback); }
  T MoveValueUnsafe() { return std::move(*value_); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace plait

#define PLAIT_CONCAT_INNER_(a, b) a##b
#define PLAIT_CONCAT_(a, b) PLAIT_CONCAT_INNER_(a, b)

// Variadic so that template arguments with commas need no extra parentheses.
#define PLAIT_RETURN_NOT_OK(...)                   \
  do {                                             \
    ::plait::Status plait_status_ = (__VA_ARGS__); \
    if (!plait_status_.ok()) return plait_status_; \
  } while (false)

#define PLAIT_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(*tmp)

// PLAIT_ASSIGN_OR_RETURN(auto x, MakeX()); or PLAIT_ASSIGN_OR_RETURN(x, MakeX());
#define PLAIT_ASSIGN_OR_RETURN(lhs, ...) \
  PLAIT_ASSIGN_OR_RETURN_IMPL_(PLAIT_CONCAT_(plait_result_, __LINE__), lhs, (__VA_ARGS__))
