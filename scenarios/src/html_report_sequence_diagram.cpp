#include "html_report_sequence_diagram.hpp"

#include <algorithm>
#include <sstream>

#include "html_text.hpp"

namespace albsim::scenarios {
namespace {

constexpr double k_width = 820;
constexpr double k_top = 64;       // below the lane heads
constexpr double k_time_col = 86;  // the time axis on the left

double lane_x(lane l) {
  switch (l) {
    case lane::client:
      return 190;
    case lane::balancer:
      return 460;
    case lane::backend:
      return 730;
  }
  return 0;
}

const char* lane_title(lane l) {
  switch (l) {
    case lane::client:
      return "client";
    case lane::balancer:
      return "balancer (albsim)";
    case lane::backend:
      return "backend";
  }
  return "?";
}

// A word that names the arrow's kind in the drawing itself, so that the kind never rests on
// colour or dash pattern alone.
std::string kind_word(const std::string& kind) {
  if (kind == "rst" || kind == "refused") return "RST";
  if (kind == "fin") return "FIN";
  if (kind == "syn" || kind == "syn-retransmit") return "SYN";
  if (kind == "connect") return "TCP";
  if (kind == "timer") return "TIMER";
  if (kind == "log") return "LOG";
  if (kind == "response") return "RESP";
  if (kind == "request") return "REQ";
  return kind;
}

std::string shorten(const std::string& s, std::size_t n) {
  if (s.size() <= n) return s;
  return s.substr(0, n - 1) + "…";
}

std::string seconds(double at) { return fixed_decimals(std::max(0.0, at), 4) + " s"; }

}  // namespace

std::string sequence_diagram::svg() const {
  // Rows: the y of every event, with breaks where a long wait is cut.
  struct row {
    double y;
    bool after_break;
    double gap;
  };
  std::vector<row> rows;
  double y = k_top + 24;
  for (std::size_t i = 0; i < events_.size(); ++i) {
    double gap = i == 0 ? 0 : events_[i].at - events_[i - 1].at;
    bool cut = gap > k_break_after_s;
    if (i > 0) y += cut ? k_break_row + k_min_row : std::max(k_min_row, gap * k_pixels_per_s);
    rows.push_back({y, cut, gap});
  }
  double height = y + 40;

  std::ostringstream o;
  o << "<svg class=\"sequence\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " << k_width
    << " " << height << "\" width=\"" << k_width << "\" height=\"" << height
    << "\" role=\"img\" aria-labelledby=\"seq-title seq-desc\">\n"
    << "<title id=\"seq-title\">" << html_escape(title_) << "</title>\n"
    << "<desc id=\"seq-desc\">Sequence diagram with three lanes, client, balancer and backend; "
    << events_.size() << " events, listed in order in the text below the figure.</desc>\n"
    << "<defs>"
    << "<marker id=\"head\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"8\" "
       "markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" "
       "fill=\"context-stroke\"/></marker>"
    << "</defs>\n";
  // Lanes.
  for (lane l : {lane::client, lane::balancer, lane::backend}) {
    double x = lane_x(l);
    o << "<g class=\"lane\" data-lane=\"" << to_string(l) << "\">"
      << "<rect x=\"" << x - 80 << "\" y=\"12\" width=\"160\" height=\"32\" rx=\"4\"/>"
      << "<text x=\"" << x << "\" y=\"33\" text-anchor=\"middle\">" << lane_title(l) << "</text>"
      << "<line x1=\"" << x << "\" y1=\"44\" x2=\"" << x << "\" y2=\"" << height - 12
      << "\"/></g>\n";
  }
  o << "<text class=\"axis\" x=\"8\" y=\"33\">time</text>\n";
  for (std::size_t i = 0; i < events_.size(); ++i) {
    const auto& e = events_[i];
    const row& r = rows[i];
    if (r.after_break) {
      double by = r.y - k_min_row - k_break_row / 2;
      o << "<g class=\"break\"><path d=\"M" << k_time_col << "," << by;
      for (double x = k_time_col; x < k_width - 10; x += 24) {
        o << " L" << x + 12 << "," << by - 6 << " L" << x + 24 << "," << by;
      }
      o << "\"/><text x=\"8\" y=\"" << by + 4 << "\">⋯ " << fixed_decimals(r.gap, 3)
        << " s</text></g>\n";
    }
    double x1 = lane_x(e.from), x2 = lane_x(e.to);
    o << "<g class=\"event kind-" << e.kind << "\" data-kind=\"" << e.kind << "\" data-from=\""
      << to_string(e.from) << "\" data-to=\"" << to_string(e.to) << "\">";
    o << "<title>" << html_escape(seconds(e.at) + ": " + e.label + " (" + e.source + ")")
      << "</title>";
    o << "<text class=\"time\" x=\"8\" y=\"" << r.y + 4 << "\">" << seconds(e.at) << "</text>";
    std::string label = kind_word(e.kind) + " " + e.label;
    if (x1 == x2) {
      // Something that happened at one hop: a marker on the lane and the label beside it.
      o << "<rect class=\"mark\" x=\"" << x1 - 7 << "\" y=\"" << r.y - 7
        << "\" width=\"14\" height=\"14\" rx=\"" << (e.kind == "timer" ? 7 : 2) << "\"/>";
      bool right = e.from != lane::backend;
      o << "<text class=\"label\" x=\"" << (right ? x1 + 14 : x1 - 14) << "\" y=\"" << r.y + 4
        << "\" text-anchor=\"" << (right ? "start" : "end") << "\">"
        << html_escape(shorten(label, 48)) << "</text>";
    } else {
      bool lost = e.kind == "syn" && e.label.find("dropped") != std::string::npos;
      lost = lost || e.kind == "syn-retransmit";
      double end = lost ? x1 + (x2 - x1) * 0.72 : x2 + (x2 > x1 ? -2 : 2);
      o << "<line class=\"arrow\" x1=\"" << x1 << "\" y1=\"" << r.y << "\" x2=\"" << end
        << "\" y2=\"" << r.y << "\"" << (lost ? "" : " marker-end=\"url(#head)\"") << "/>";
      if (lost) {
        o << "<path class=\"lost\" d=\"M" << end - 6 << "," << r.y - 6
          << " l12,12 m0,-12 l-12,12\"/>";
      }
      o << "<text class=\"label\" x=\"" << (x1 + x2) / 2 << "\" y=\"" << r.y - 6
        << "\" text-anchor=\"middle\">" << html_escape(shorten(label, 46)) << "</text>";
    }
    o << "</g>\n";
  }
  o << "</svg>";
  return o.str();
}

std::string sequence_diagram::text_equivalent() const {
  std::ostringstream o;
  o << "<ol class=\"sequence-text\">\n";
  for (const auto& e : events_) {
    o << "<li><span class=\"at\">" << seconds(e.at) << "</span> ";
    if (e.from == e.to) {
      o << "at the " << to_string(e.from) << ": ";
    } else {
      o << to_string(e.from) << " → " << to_string(e.to) << ": ";
    }
    o << "<strong>" << html_escape(kind_word(e.kind)) << "</strong> " << html_escape(e.label)
      << " <span class=\"source\">(" << html_escape(e.source) << ")</span></li>\n";
  }
  o << "</ol>";
  return o.str();
}

}  // namespace albsim::scenarios
