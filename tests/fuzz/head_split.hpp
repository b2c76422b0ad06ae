// The property the head harnesses check: parsing a byte stream gives the same messages, verdicts
// and fields whatever the sizes of the reads it arrives in. A splitter turns the fuzz input into
// a sequence of read sizes; the driver feeds the parser the way the proxy's session does (keep
// the unconsumed bytes, append the next read, feed again until it wants more).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace albsim::fuzz {

// Read sizes for a stream of `total` bytes: everything at once, one byte at a time, or sizes
// drawn from `seed` (1 to 64 bytes, sometimes a large read).
std::vector<std::size_t> reads_whole(std::size_t total);
std::vector<std::size_t> reads_bytewise(std::size_t total);
std::vector<std::size_t> reads_seeded(std::size_t total, std::uint64_t seed);

// The bytes of `input` handed out in the given read sizes, the way a socket would.
class read_feed {
 public:
  read_feed(std::string_view input, const std::vector<std::size_t>& reads)
      : input_(input), reads_(reads) {}
  // Appends the next read to `pending`; false once the input is used up.
  bool next(std::string& pending) {
    if (next_ == reads_.size()) return false;
    pending.append(input_.substr(offset_, reads_[next_]));
    offset_ += reads_[next_++];
    return true;
  }

 private:
  std::string_view input_;
  const std::vector<std::size_t>& reads_;
  std::size_t next_ = 0, offset_ = 0;
};

// A stable 64-bit hash of the input (FNV-1a), the seed of the random splits.
std::uint64_t hash_bytes(std::string_view data);

}  // namespace albsim::fuzz

#include <functional>

namespace albsim::fuzz {

// The property itself: `parse(reads)` gives the verdicts for one way of reading `input`; the
// whole input at once, seeded reads and (up to 2 KiB) byte-by-byte reads must agree exactly.
// Aborts (a finding) printing both verdicts otherwise.
void require_split_invariance(
    std::string_view input, const char* what,
    const std::function<std::vector<std::string>(const std::vector<std::size_t>&)>& parse);

}  // namespace albsim::fuzz
