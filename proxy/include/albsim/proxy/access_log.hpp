// Access-log records: the balancer's field names and units (../shared/ALB-FACTS.md) plus
// `sim_cause` and `sim_detail`. A record is rendered to one JSON line on the connection's thread
// and handed to a sink; the file sink writes on its own thread, so logging never blocks a
// connection, and flushes everything on shutdown.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace albsim::proxy {

class access_log_sink {
 public:
  virtual ~access_log_sink() = default;
  // Takes one complete JSON object (no trailing newline) and copies it. Must not block for
  // long.
  virtual void write(std::string_view line) = 0;
  // Blocks until everything written so far is delivered.
  virtual void flush() {}
};

// Appends lines to a file ("-" = standard output) from a background thread.
class file_log_sink : public access_log_sink {
 public:
  explicit file_log_sink(const std::string& path);  // throws std::runtime_error
  ~file_log_sink() override;
  void write(std::string_view line) override;
  void flush() override;

 private:
  void run();
  static constexpr std::size_t k_batch_wake = 256 * 1024;  // bytes that wake the writer at once
  static constexpr std::chrono::milliseconds k_batch_interval{20};  // else it writes this often
  static constexpr int k_writer_nice = 10;
  std::FILE* file_;
  bool owns_file_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable drained_;
  std::string pending_;  // whole lines, newline-terminated, not yet handed to the writer
  std::uint64_t written_ = 0, queued_ = 0;
  bool stopping_ = false;
  bool flush_requested_ = false;
  std::thread thread_;
};

// Keeps lines in memory (scenarios, tests), with a bounded wait for a count.
class memory_log_sink : public access_log_sink {
 public:
  void write(std::string_view line) override;
  // Waits until at least `count` lines arrived or `timeout` passed; returns the lines.
  std::vector<std::string> wait_for(std::size_t count, std::chrono::milliseconds timeout);
  std::vector<std::string> lines();

 private:
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<std::string> lines_;
};

// Sends each line to several sinks (e.g. a file and memory).
class tee_log_sink : public access_log_sink {
 public:
  explicit tee_log_sink(std::vector<std::shared_ptr<access_log_sink>> sinks);
  void write(std::string_view line) override;
  void flush() override;

 private:
  std::vector<std::shared_ptr<access_log_sink>> sinks_;
};

}  // namespace albsim::proxy
