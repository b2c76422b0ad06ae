#include "albsim/proxy/access_log.hpp"

#include "albsim/log_throttle.hpp"
#include "albsim/ops_log.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <sys/resource.h>
#include <unistd.h>

namespace albsim::proxy {
namespace {

// A batch this large means the writer woke a dozen times too late (the disk or the CPU is not
// keeping up); records are not lost, they wait in memory.
constexpr std::size_t k_behind_bytes = 4 * 1024 * 1024;

void report_behind(std::size_t bytes) {
  static log_throttle throttle;
  std::uint64_t held = 0;
  if (throttle.allow(held)) {
    ops_log().warn(
        "access log: the writer is behind, {} KiB of records were waiting ({} more "
        "since the last report)",
        bytes / 1024, held);
  }
}

void report_write_error(int error) {
  static log_throttle throttle;
  std::uint64_t held = 0;
  if (throttle.allow(held)) {
    ops_log().error("access log: write failed: {} ({} more since the last report)",
                    std::strerror(error), held);
  }
}

}  // namespace

file_log_sink::file_log_sink(const std::string& path) {
  if (path == "-") {
    file_ = stdout;
    owns_file_ = false;
  } else {
    file_ = std::fopen(path.c_str(), "a");
    if (!file_) {
      throw std::runtime_error("cannot open access log '" + path + "': " + std::strerror(errno));
    }
    owns_file_ = true;
  }
  thread_ = std::thread([this] { run(); });
}

file_log_sink::~file_log_sink() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  if (owns_file_) std::fclose(file_);
}

// Connections only copy the line into one shared buffer under a short lock; the writer wakes
// every few milliseconds (or when the buffer is large) and writes it with one call. A busy proxy
// pays neither a thread wake-up nor an allocation per record, and no memory crosses threads
// (the two buffers are swapped and keep their capacity).
void file_log_sink::write(std::string_view line) {
  bool wake;
  {
    std::lock_guard lock(mutex_);
    const auto before = pending_.size();
    pending_.append(line);
    pending_.push_back('\n');
    ++queued_;
    wake = before < k_batch_wake && pending_.size() >= k_batch_wake;
  }
  if (wake) wake_.notify_one();
}

void file_log_sink::flush() {
  std::unique_lock lock(mutex_);
  const auto target = queued_;
  flush_requested_ = true;
  wake_.notify_one();
  drained_.wait(lock, [&] { return written_ >= target; });
}

void file_log_sink::run() {
  // The writer needs a few percent of a core; at a lower priority it waits for a moment when
  // the proxy's workers leave the CPU, instead of cutting into a request (the buffer absorbs
  // the delay).
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), k_writer_nice);
  std::string batch;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait_for(lock, k_batch_interval, [&] {
      return stopping_ || flush_requested_ || pending_.size() >= k_batch_wake;
    });
    flush_requested_ = false;
    if (pending_.empty()) {
      if (stopping_) break;
      continue;
    }
    batch.swap(pending_);
    const auto upto = queued_;
    lock.unlock();
    if (batch.size() >= k_behind_bytes) report_behind(batch.size());
    const std::size_t written = std::fwrite(batch.data(), 1, batch.size(), file_);
    if (std::fflush(file_) != 0 || written != batch.size()) report_write_error(errno);
    // A burst can grow the buffers a lot; do not keep a burst's worth of memory for ever.
    if (batch.capacity() > 16 * k_batch_wake) std::string().swap(batch);
    batch.clear();
    lock.lock();
    written_ = upto;
    drained_.notify_all();
  }
}

void memory_log_sink::write(std::string_view line) {
  {
    std::lock_guard lock(mutex_);
    lines_.emplace_back(line);
  }
  arrived_.notify_all();
}

std::vector<std::string> memory_log_sink::wait_for(std::size_t count,
                                                   std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  arrived_.wait_for(lock, timeout, [&] { return lines_.size() >= count; });
  return lines_;
}

std::vector<std::string> memory_log_sink::lines() {
  std::lock_guard lock(mutex_);
  return lines_;
}

tee_log_sink::tee_log_sink(std::vector<std::shared_ptr<access_log_sink>> sinks)
    : sinks_(std::move(sinks)) {}

void tee_log_sink::write(std::string_view line) {
  for (auto& s : sinks_) s->write(line);
}

void tee_log_sink::flush() {
  for (auto& s : sinks_) s->flush();
}

}  // namespace albsim::proxy
