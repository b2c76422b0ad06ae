#include "albsim/link_conditions.hpp"

namespace albsim {

link_shaper::link_shaper(const link_conditions& c, std::shared_ptr<token_bucket> shared_bandwidth)
    : conditions_(c),
      bandwidth_(std::move(shared_bandwidth)),
      rng_state_(c.seed ? c.seed * 0x9E3779B97F4A7C15ULL : 0x9E3779B97F4A7C15ULL) {
  if (!bandwidth_ && c.bandwidth_bytes_per_s > 0) {
    // A burst of 16 KiB lets small exchanges through at once, as a real shaper's queue does.
    bandwidth_ =
        std::make_shared<token_bucket>(static_cast<double>(c.bandwidth_bytes_per_s), 16384.0);
  }
  active_ = c.extra_rtt.count() > 0 || c.loss > 0 || (bandwidth_ && !bandwidth_->unlimited());
}

std::chrono::nanoseconds link_shaper::delay_for(std::size_t bytes) {
  if (!active_) return std::chrono::nanoseconds(0);
  std::chrono::nanoseconds d = conditions_.extra_rtt / 2;
  if (conditions_.loss > 0) {
    rng_state_ ^= rng_state_ >> 12;
    rng_state_ ^= rng_state_ << 25;
    rng_state_ ^= rng_state_ >> 27;
    const std::uint64_t r = rng_state_ * 0x2545F4914F6CDD1DULL;
    const double draw = static_cast<double>(r >> 11) * 0x1.0p-53;  // uniform in [0, 1)
    if (draw < conditions_.loss) d += conditions_.loss_stall;
  }
  if (bandwidth_) d += bandwidth_->take_paced(token_bucket::clock::now(), bytes);
  return d;
}

}  // namespace albsim
