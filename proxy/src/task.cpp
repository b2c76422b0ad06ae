#include "task.hpp"

#include <array>
#include <new>

namespace albsim::proxy::task_detail {
namespace {

// Freed frames kept per thread, by size in 64-byte steps up to 32 KiB, at most k_keep per size:
// a busy worker re-creates the same few frames for every request.
class frame_cache {
 public:
  static constexpr std::size_t k_step = 64;
  static constexpr std::size_t k_classes = 512;
  static constexpr std::size_t k_keep = 256;

  ~frame_cache() {
    for (auto& c : classes_) {
      while (c.head) {
        node* n = c.head;
        c.head = n->next;
        ::operator delete(n);
      }
    }
  }

  void* take(std::size_t n) {
    const std::size_t k = (n + k_step - 1) / k_step;
    if (k >= k_classes) return ::operator new(n);
    auto& c = classes_[k];
    if (c.head) {
      node* p = c.head;
      c.head = p->next;
      --c.count;
      return p;
    }
    return ::operator new(k* k_step);
  }

  void give(void* p, std::size_t n) noexcept {
    const std::size_t k = (n + k_step - 1) / k_step;
    if (k >= k_classes) {
      ::operator delete(p);
      return;
    }
    auto& c = classes_[k];
    if (c.count >= k_keep) {
      ::operator delete(p);
      return;
    }
    c.head = ::new (p) node{c.head};
    ++c.count;
  }

 private:
  struct node {
    node* next;
  };
  struct size_class {
    node* head = nullptr;
    std::size_t count = 0;
  };
  std::array<size_class, k_classes> classes_{};
};

frame_cache& cache() {
  thread_local frame_cache c;
  return c;
}

}  // namespace

void* allocate_frame(std::size_t n) { return cache().take(n); }
void free_frame(void* p, std::size_t n) noexcept { cache().give(p, n); }

}  // namespace albsim::proxy::task_detail
