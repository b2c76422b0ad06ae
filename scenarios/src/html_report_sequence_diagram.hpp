// The SVG sequence diagram of one scenario's exchange: three lanes (client, balancer, backend),
// time running down, an arrow per wire event, and a text equivalent of the same events. Time
// is to scale within a stretch; waits longer than k_break_after_s are cut and marked with how
// long they were, and events closer than the minimum spacing are spread so labels stay legible.
#pragma once

#include <string>
#include <vector>

#include "albsim/scenarios/sequence_event.hpp"

namespace albsim::scenarios {

class sequence_diagram {
 public:
  sequence_diagram(std::vector<sequence_event> events, std::string title)
      : events_(std::move(events)), title_(std::move(title)) {}

  // An <svg> element (role="img", with <title> and <desc>) ready to inline in a page.
  std::string svg() const;
  // An ordered list of the same events, for readers who do not see the drawing.
  std::string text_equivalent() const;

 private:
  static constexpr double k_break_after_s = 0.3;
  static constexpr double k_pixels_per_s = 400;
  static constexpr double k_min_row = 30;
  static constexpr double k_break_row = 44;

  std::vector<sequence_event> events_;
  std::string title_;
};

}  // namespace albsim::scenarios
