// The coroutine type of one client connection's code, and the completion token that lets it
// wait for Asio operations.
//
// Asio's own awaitable carries an executor, a cancellation state and a "thread" of frames
// through every suspension; a connection of this proxy needs none of that (it lives on one
// worker thread and cancels by closing or cancelling its sockets). Per request that machinery
// cost more than the proxy's own logic, so the session uses this smaller shape instead:
// - `task<T>` starts when awaited and hands control back to its awaiter when it ends
//   (symmetric transfer, no trip through the scheduler);
// - `co_await op(..., use_task)` starts an Asio operation whose completion handler stores the
//   results and resumes the coroutine directly; Asio never runs a handler inside the call that
//   starts the operation, so this cannot resume too early;
// - frames come from a per-thread cache by size (every request re-creates the same few).
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <coroutine>
#include <cstddef>
#include <exception>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

namespace albsim::proxy {

namespace task_detail {
void* allocate_frame(std::size_t n);
void free_frame(void* p, std::size_t n) noexcept;

struct frame_memory {
  static void* operator new(std::size_t n) { return allocate_frame(n); }
  static void operator delete(void* p, std::size_t n) noexcept { free_frame(p, n); }
};
}  // namespace task_detail

template <class T = void>
class task;

namespace task_detail {

struct promise_base : frame_memory {
  std::coroutine_handle<> continuation;
  std::exception_ptr error;

  std::suspend_always initial_suspend() noexcept { return {}; }
  struct final_awaiter {
    bool await_ready() noexcept { return false; }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> h) noexcept {
      auto c = h.promise().continuation;
      return c ? c : std::noop_coroutine();
    }
    void await_resume() noexcept {}
  };
  final_awaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { error = std::current_exception(); }
};

template <class T>
struct promise : promise_base {
  std::optional<T> value;
  task<T> get_return_object() noexcept;
  template <class U>
  void return_value(U&& v) {
    value.emplace(std::forward<U>(v));
  }
};

template <>
struct promise<void> : promise_base {
  task<void> get_return_object() noexcept;
  void return_void() noexcept {}
};

}  // namespace task_detail

template <class T>
class [[nodiscard]] task {
 public:
  using promise_type = task_detail::promise<T>;

  explicit task(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
  task(task&& other) noexcept : h_(std::exchange(other.h_, {})) {}
  task& operator=(task&&) = delete;
  ~task() {
    if (h_) h_.destroy();
  }

  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
    h_.promise().continuation = awaiting;
    return h_;
  }
  T await_resume() {
    auto& p = h_.promise();
    if (p.error) std::rethrow_exception(p.error);
    if constexpr (!std::is_void_v<T>) return std::move(*p.value);
  }

 private:
  std::coroutine_handle<promise_type> h_;
};

namespace task_detail {
template <class T>
task<T> promise<T>::get_return_object() noexcept {
  return task<T>(std::coroutine_handle<promise<T>>::from_promise(*this));
}
inline task<void> promise<void>::get_return_object() noexcept {
  return task<void>(std::coroutine_handle<promise<void>>::from_promise(*this));
}
}  // namespace task_detail

// The root of a connection: starts at once and frees itself when it ends. `handle` lets the
// owner destroy a root that can never finish (its I/O is gone with a stopped io_context).
struct root_task {
  struct promise_type : task_detail::frame_memory {
    root_task get_return_object() noexcept {
      return {std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
  std::coroutine_handle<promise_type> handle;
};

// Lets the work already queued on an io_context run first, then resumes.
struct yield_to {
  boost::asio::io_context::executor_type ex;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    boost::asio::post(ex, [h] { h.resume(); });
  }
  void await_resume() const noexcept {}
};

// Gives a coroutine its own handle without suspending.
struct this_coroutine {
  std::coroutine_handle<> h;
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> self) noexcept {
    h = self;
    return false;
  }
  std::coroutine_handle<> await_resume() const noexcept { return h; }
};

// The completion token: `co_await socket.async_read_some(buffer, use_task)` gives a tuple of
// the handler's arguments (error_code first), never throws for an I/O error.
struct use_task_t {};
inline constexpr use_task_t use_task{};

namespace task_detail {
template <class Initiation, class ArgsTuple, class... Results>
class op_awaiter {
 public:
  op_awaiter(Initiation init, ArgsTuple args) : init_(std::move(init)), args_(std::move(args)) {}

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    std::apply(
        [&](auto&&... a) {
          std::move(init_)(completion{this, h}, std::move(a)...);
        },
        std::move(args_));
  }
  std::tuple<std::decay_t<Results>...> await_resume() { return std::move(*results_); }

 private:
  struct completion {
    op_awaiter* self;
    std::coroutine_handle<> h;
    void operator()(Results... r) {
      self->results_.emplace(std::move(r)...);
      h.resume();
    }
  };
  Initiation init_;
  ArgsTuple args_;
  std::optional<std::tuple<std::decay_t<Results>...>> results_;
};
}  // namespace task_detail

}  // namespace albsim::proxy

template <class... Results>
class boost::asio::async_result<albsim::proxy::use_task_t, void(Results...)> {
 public:
  template <class Initiation, class... Args>
  static auto initiate(Initiation&& init, albsim::proxy::use_task_t, Args&&... args) {
    return albsim::proxy::task_detail::op_awaiter<std::decay_t<Initiation>,
                                                  std::tuple<std::decay_t<Args>...>, Results...>(
        std::forward<Initiation>(init),
        std::tuple<std::decay_t<Args>...>(std::forward<Args>(args)...));
  }
};
