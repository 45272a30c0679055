/// @file
/// @brief Executor that calls any C++ callable; for programs that need no plugins.
#pragma once

#include <exception>
#include <functional>
#include <type_traits>
#include <utility>

#include "queuectl/concepts.hpp"

namespace queuectl {

/// @brief Wraps a callable taking `(const job&)` or `(const job&, const execution_context&)`
/// and returning `attempt_result`, `bool` (success), or `void` (success unless it throws).
/// An exception becomes a failed attempt whose error is the exception's message.
template <class F>
class function_executor {
 public:
  explicit function_executor(F f) : f_(std::move(f)) {}

  attempt_result execute(const job& j, const execution_context& ctx) {
    try {
      return to_result(invoke(j, ctx));
    } catch (const std::exception& e) {
      return failure(e.what());
    } catch (...) {
      return failure("unknown exception");
    }
  }

 private:
  struct void_tag {};
  decltype(auto) invoke(const job& j, const execution_context& ctx) {
    if constexpr (std::is_invocable_v<F&, const job&, const execution_context&>) {
      if constexpr (std::is_void_v<std::invoke_result_t<F&, const job&, const execution_context&>>) {
        f_(j, ctx);
        return void_tag{};
      } else {
        return f_(j, ctx);
      }
    } else {
      static_assert(std::is_invocable_v<F&, const job&>,
                    "function_executor needs a callable taking (const job&) or (const job&, const execution_context&)");
      if constexpr (std::is_void_v<std::invoke_result_t<F&, const job&>>) {
        f_(j);
        return void_tag{};
      } else {
        return f_(j);
      }
    }
  }
  static attempt_result to_result(void_tag) { return attempt_result::ok(); }
  static attempt_result to_result(bool ok) {
    return ok ? attempt_result::ok() : attempt_result::failure("function returned false");
  }
  static attempt_result to_result(attempt_result r) { return r; }
  static attempt_result failure(const char* what) { return attempt_result::failure(what); }

  F f_;
};

template <class F>
function_executor(F) -> function_executor<F>;

/// Executor that succeeds immediately; for benchmarks and tests.
struct noop_executor {
  attempt_result execute(const job&, const execution_context&) { return attempt_result::ok(); }
};

static_assert(executor_policy<noop_executor>);
static_assert(executor_policy<function_executor<bool (*)(const job&)>>);

}  // namespace queuectl
