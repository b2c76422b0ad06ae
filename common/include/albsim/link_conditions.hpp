// Simulated link conditions. There is no `tc netem` here, so albsim imposes latency, bandwidth
// caps, loss-like stalls and a path-MTU blackhole itself, at the edges where it reads and writes
// sockets: the proxy on its client edge, the backend on its own link.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "albsim/token_bucket.hpp"

namespace albsim {

struct link_conditions {
  // Extra round-trip time: each chunk read or written waits half of it.
  std::chrono::nanoseconds extra_rtt{0};
  // Bytes per second in each direction; 0 = unlimited.
  std::uint64_t bandwidth_bytes_per_s = 0;
  // Probability (0..1) that a chunk is "lost" and must wait `loss_stall` (a retransmission).
  double loss = 0.0;
  std::chrono::nanoseconds loss_stall{std::chrono::milliseconds(200)};
  // Seed for the loss draw, so a scenario replays identically.
  std::uint64_t seed = 1;
  // Path-MTU blackhole: in one exchange, bytes beyond this many vanish in the direction(s)
  // chosen below (0 = off). After `blackhole_reset_after` the link gives up and resets.
  std::uint64_t mtu_blackhole_bytes = 0;
  std::chrono::nanoseconds blackhole_reset_after{std::chrono::seconds(3)};

  bool any() const {
    return extra_rtt.count() > 0 || bandwidth_bytes_per_s > 0 || loss > 0 ||
           mtu_blackhole_bytes > 0;
  }
};

// Per-connection pacing state for one link. Not thread-safe: one per connection (the
// bandwidth bucket may be shared by passing one in, e.g. an instance-wide cap).
class link_shaper {
 public:
  explicit link_shaper(const link_conditions& c,
                       std::shared_ptr<token_bucket> shared_bandwidth = {});

  // How long to hold a chunk of `bytes` before handing it on (0 when the link is clean).
  std::chrono::nanoseconds delay_for(std::size_t bytes);
  bool active() const { return active_; }
  std::chrono::nanoseconds extra_rtt() const { return conditions_.extra_rtt; }

 private:
  link_conditions conditions_;
  std::shared_ptr<token_bucket> bandwidth_;
  std::uint64_t rng_state_;  // xorshift64*: 8 bytes per connection instead of a 2.5 KB engine
  bool active_;
};

}  // namespace albsim
