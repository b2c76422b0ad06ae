// Relay buffers come and go with every request (a connection gives its buffer back while it
// waits, so idle connections stay small). A worker keeps a few blocks of the usual size for the
// next request instead of going through malloc's slow path for 16 KiB twice per request.
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace albsim::proxy {

// Blocks of one size, kept for reuse on one worker thread (no locking).
class block_pool {
 public:
  block_pool(std::size_t block_size, std::size_t keep) : block_size_(block_size), keep_(keep) {
    free_.reserve(keep);
  }
  ~block_pool() {
    for (char* p : free_) ::operator delete(p);
  }
  block_pool(const block_pool&) = delete;
  block_pool& operator=(const block_pool&) = delete;

  char* take(std::size_t n) {
    if (n == block_size_ && !free_.empty()) {
      char* p = free_.back();
      free_.pop_back();
      return p;
    }
    return static_cast<char*>(::operator new(n));
  }
  void give(char* p, std::size_t n) {
    if (n == block_size_ && free_.size() < keep_) {
      free_.push_back(p);
      return;
    }
    ::operator delete(p);
  }

 private:
  std::size_t block_size_;
  std::size_t keep_;
  std::vector<char*> free_;
};

// A standard allocator over a block_pool (for Beast's flat_buffer).
template <class T>
class pool_allocator {
 public:
  using value_type = T;
  explicit pool_allocator(block_pool& pool) noexcept : pool_(&pool) {}
  template <class U>
  pool_allocator(const pool_allocator<U>& other) noexcept : pool_(other.pool()) {}

  T* allocate(std::size_t n) { return reinterpret_cast<T*>(pool_->take(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept {
    pool_->give(reinterpret_cast<char*>(p), n * sizeof(T));
  }
  block_pool* pool() const noexcept { return pool_; }
  template <class U>
  bool operator==(const pool_allocator<U>& other) const noexcept {
    return pool_ == other.pool();
  }

 private:
  block_pool* pool_;
};

}  // namespace albsim::proxy
