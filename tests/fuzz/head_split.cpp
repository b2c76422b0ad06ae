#include "head_split.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace albsim::fuzz {

std::vector<std::size_t> reads_whole(std::size_t total) { return {total}; }

std::vector<std::size_t> reads_bytewise(std::size_t total) {
  return std::vector<std::size_t>(total, 1);
}

std::vector<std::size_t> reads_seeded(std::size_t total, std::uint64_t seed) {
  std::vector<std::size_t> reads;
  std::uint64_t state = seed | 1;
  while (total > 0) {
    // xorshift64: cheap, deterministic for a given input (a finding must replay).
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    std::size_t n = (state % 8 == 0) ? 1 + state % 4096 : 1 + (state >> 8) % 64;
    n = std::min(n, total);
    reads.push_back(n);
    total -= n;
  }
  return reads;
}

std::uint64_t hash_bytes(std::string_view data) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace albsim::fuzz

namespace albsim::fuzz {

void require_split_invariance(
    std::string_view input, const char* what,
    const std::function<std::vector<std::string>(const std::vector<std::size_t>&)>& parse) {
  auto whole = parse(reads_whole(input.size()));
  std::vector<std::vector<std::size_t>> others{reads_seeded(input.size(), hash_bytes(input))};
  if (input.size() <= 2048) others.push_back(reads_bytewise(input.size()));
  for (const auto& reads : others) {
    auto split = parse(reads);
    if (split == whole) continue;
    std::fprintf(stderr, "%s: the verdict depends on the reads\n", what);
    for (std::size_t i = 0; i < whole.size() || i < split.size(); ++i) {
      std::fprintf(stderr, "  whole[%zu]: %s\n  split[%zu]: %s\n", i,
                   i < whole.size() ? whole[i].c_str() : "-", i,
                   i < split.size() ? split[i].c_str() : "-");
    }
    std::abort();
  }
}

}  // namespace albsim::fuzz
