#include "albsim/proxy/access_log.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace albsim::proxy {

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

// Connections only append to a vector under a short lock; the writer wakes every few
// milliseconds (or when a batch is large) and writes the batch at once, so a busy proxy does not
// pay a thread wake-up per record.
void file_log_sink::write(std::string line) {
  bool wake;
  {
    std::lock_guard lock(mutex_);
    pending_.push_back(std::move(line));
    ++queued_;
    wake = pending_.size() == k_batch_wake;
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
  std::vector<std::string> batch;
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
    lock.unlock();
    for (const auto& l : batch) {
      std::fwrite(l.data(), 1, l.size(), file_);
      std::fputc('\n', file_);
    }
    std::fflush(file_);
    const auto n = batch.size();
    batch.clear();
    lock.lock();
    written_ += n;
    drained_.notify_all();
  }
}

void memory_log_sink::write(std::string line) {
  {
    std::lock_guard lock(mutex_);
    lines_.push_back(std::move(line));
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

void tee_log_sink::write(std::string line) {
  for (std::size_t i = 0; i + 1 < sinks_.size(); ++i) sinks_[i]->write(line);
  if (!sinks_.empty()) sinks_.back()->write(std::move(line));
}

void tee_log_sink::flush() {
  for (auto& s : sinks_) s->flush();
}

}  // namespace albsim::proxy
