#include "albsim/scenarios/html_report.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "albsim/cause.hpp"
#include "html_report_record_reader.hpp"
#include "html_report_sequence_diagram.hpp"
#include "html_text.hpp"

namespace albsim::scenarios {
namespace {

using json = nlohmann::json;

constexpr const char* k_style = R"css(
:root { --pass: #1b6e20; --fail: #b00020; --ink: #1a1a1a; --muted: #555; --key: #fff1b8; }
body { font: 16px/1.5 system-ui, sans-serif; color: var(--ink); max-width: 70rem; margin: 0 auto;
       padding: 1rem 1.25rem 3rem; }
h1 { font-size: 1.6rem; margin-bottom: .25rem; } h2 { margin-top: 2rem; font-size: 1.25rem; }
nav { border-bottom: 1px solid #ccc; padding-bottom: .5rem; } nav a { margin-right: 1.25rem; }
code, pre { font-family: ui-monospace, monospace; font-size: .9em; }
pre { background: #f4f4f4; padding: .6rem .8rem; overflow-x: auto; white-space: pre-wrap; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border: 1px solid #aaa; padding: .25rem .5rem; vertical-align: top; text-align: left; }
.result { font-weight: bold; border: 2px solid; border-radius: 4px; padding: 0 .35em; }
.pass { color: var(--pass); } .fail { color: var(--fail); }
.matrix { font-size: .85rem; } .matrix a.cause { display: block; font-family: ui-monospace, monospace; }
.matrix small { display: block; color: var(--muted); margin-bottom: .3rem; }
tr.key { background: var(--key); } tr.key th::before { content: "★ "; }
.note { color: var(--muted); font-size: .92em; }
figure { margin: 1rem 0; } figcaption { color: var(--muted); font-size: .92em; }
svg.sequence { max-width: 100%; height: auto; font: 13px system-ui, sans-serif; background: #fff; }
svg.sequence text { fill: #111; } svg text.label { font-size: 12px; }
svg .lane rect { fill: #eef1f8; stroke: #334; } svg .lane line { stroke: #888; stroke-dasharray: 4 4; }
svg .arrow { stroke: #222; stroke-width: 1.6; }
svg .kind-response .arrow { stroke: #1d4e89; }
svg .kind-rst .arrow, svg .kind-refused .arrow { stroke: var(--fail); stroke-width: 2.6; }
svg .kind-fin .arrow { stroke-dasharray: 7 4; }
svg .kind-syn .arrow, svg .kind-syn-retransmit .arrow { stroke-dasharray: 2 3; }
svg .lost { stroke: var(--fail); stroke-width: 2.4; fill: none; }
svg .mark { fill: #fff; stroke: #222; stroke-width: 1.6; } svg .kind-timer .mark { fill: #ffd54f; }
svg text.time, svg text.axis { fill: var(--muted); font-size: 12px; }
svg .break path { fill: none; stroke: #777; }
.sequence-text .at { font-family: ui-monospace, monospace; } .sequence-text .source { color: var(--muted); }
dl.explain dt { font-weight: bold; margin-top: .6rem; } dl.explain dd { margin-left: 1.25rem; }
ul.tree, ul.tree ul { list-style: none; padding-left: 1.4rem; border-left: 2px solid #999; }
ul.tree { border-left: none; padding-left: 0; } ul.tree li { margin: .35rem 0; }
ul.tree .question { font-weight: bold; } ul.tree .answer::before { content: "→ "; }
ul.tree .causes a { font-family: ui-monospace, monospace; margin-right: .6rem; }
.quiz { border: 1px solid #aaa; border-radius: 6px; padding: .5rem 1rem; margin: 1.25rem 0; }
.quiz h2 { margin-top: .5rem; } .quiz pre { columns: 2 24rem; column-gap: 2rem; }
.quiz button { margin: .2rem .4rem .2rem 0; padding: .3rem .6rem; font: inherit; cursor: pointer; }
.quiz button[aria-pressed="true"] { outline: 3px solid #333; }
.feedback.right { color: var(--pass); font-weight: bold; } .feedback.wrong { color: var(--fail); font-weight: bold; }
@media print {
  nav, .quiz button, .no-print { display: none; }
  .answer[hidden] { display: block; }
  body { max-width: none; font-size: 11pt; }
  a { color: inherit; text-decoration: none; }
  tr.key { background: none; } tr.key th { text-decoration: underline; }
  figure, table, .quiz { break-inside: avoid; }
}
)css";

// Plain JavaScript for the practice page: a choice reveals the answer and the explanation.
constexpr const char* k_practice_js = R"js("use strict";
document.querySelectorAll(".quiz").forEach(function (quiz) {
  var answer = quiz.dataset.answer;
  quiz.querySelectorAll("button[data-choice]").forEach(function (button) {
    button.addEventListener("click", function () {
      var choice = button.dataset.choice;
      var right = choice === answer;
      var feedback = quiz.querySelector(".feedback");
      feedback.textContent = right ? "\u2713 Right: " + answer
                                   : "\u2717 Not " + choice + ". The answer is " + answer + ".";
      feedback.className = "feedback " + (right ? "right" : "wrong");
      quiz.querySelectorAll("button[data-choice]").forEach(function (b) {
        b.setAttribute("aria-pressed", b === button ? "true" : "false");
      });
      quiz.querySelector(".answer").hidden = false;
    });
  });
});
)js";

std::string page(const std::string& title, const std::string& body, const std::string& root) {
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    << "<title>" << html_escape(title) << " · albsim</title>\n"
    << "<link rel=\"stylesheet\" href=\"" << root << "style.css\">\n</head>\n<body>\n"
    << "<nav aria-label=\"report\"><a href=\"" << root << "index.html\">All causes</a>"
    << "<a href=\"" << root << "reading.html\">Reading a record</a>"
    << "<a href=\"" << root << "practice.html\">Practice</a></nav>\n<main>\n"
    << body << "\n</main>\n</body>\n</html>\n";
  return o.str();
}

std::string result_badge(const scenario_result& r) {
  return std::string("<span class=\"result ") + (r.passed ? "pass\">PASS" : "fail\">FAIL") +
         "</span>";
}

std::string value_text(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// Whether `word` occurs in `text` as a whole field name (not inside upstream_status for status).
bool mentions(const std::string& text, const std::string& word) {
  auto part_of_name = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  };
  for (auto at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
    bool before = at > 0 && part_of_name(text[at - 1]);
    bool after = at + word.size() < text.size() && part_of_name(text[at + word.size()]);
    if (!before && !after) return true;
  }
  return false;
}

// The first sentence of `text` ("a. b. c") that mentions the field `word`.
std::string sentence_about(const std::string& text, const std::string& word) {
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(". ", start);
    std::string sentence = text.substr(start, end == std::string::npos ? end : end - start + 1);
    if (mentions(sentence, word)) return sentence;
    if (end == std::string::npos) break;
    start = end + 2;
  }
  return {};
}

std::string cause_href(const std::string& id, const std::string& root) {
  return root + "causes/" + id + ".html";
}

void write_file(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

// What the client observed, in one line: the outcome, the status, and the balancer's own
// throttling header when it came (the record does not show headers).
std::string client_view(const json& observations) {
  const json client = observations.value("client", json::object());
  std::string out = client.value("outcome", "?");
  if (client.contains("status"))
    out += ", status " + value_text(client["status"]) + " " + client.value("reason", "");
  if (client.contains("headers") && client["headers"].contains("alb-qps-limited"))
    out += ", header ALB-QPS-Limited: " + value_text(client["headers"]["alb-qps-limited"]);
  if (client.contains("elapsed"))
    out += ", after " + fixed_decimals(client["elapsed"].get<double>(), 3) + " s";
  return out;
}

std::string record_without_cause(const json& record) {
  json shown = record;
  shown.erase("sim_cause");
  shown.erase("sim_detail");
  return shown.dump(2);
}

}  // namespace

html_report::html_report(const std::vector<scenario>& scenarios,
                         const std::vector<scenario_result>& results, double wall_s)
    : scenarios_(scenarios), results_(results), wall_s_(wall_s) {
  if (scenarios_.size() != results_.size())
    throw std::invalid_argument("html_report: scenarios and results do not pair up");
}

void html_report::create_directories(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(dir) / "causes", ec);
  if (ec) throw std::runtime_error("cannot create " + dir + "/causes: " + ec.message());
}

void html_report::write(const std::string& dir) const {
  namespace fs = std::filesystem;
  create_directories(dir);
  write_file(fs::path(dir) / "style.css", k_style);
  write_file(fs::path(dir) / "practice.js", k_practice_js);
  write_file(fs::path(dir) / "index.html", index_page());
  write_file(fs::path(dir) / "reading.html", reading_page());
  write_file(fs::path(dir) / "practice.html", practice_page());
  for (std::size_t i = 0; i < scenarios_.size(); ++i) {
    write_file(fs::path(dir) / "causes" / (scenarios_[i].id + ".html"), cause_page(i));
  }
}

std::string html_report::index_page() const {
  std::map<int, std::vector<std::size_t>> by_status;
  std::size_t passed = 0;
  for (std::size_t i = 0; i < results_.size(); ++i) {
    by_status[results_[i].status].push_back(i);
    passed += results_[i].passed ? 1 : 0;
  }
  std::size_t widest = 0;
  for (const auto& [status, list] : by_status) widest = std::max(widest, list.size());

  std::ostringstream b;
  b << "<h1>albsim: every cause, run for real</h1>\n"
    << "<p>Each page shows one run of a scenario on loopback: who sent what to whom and when, "
       "the access-log record the balancer wrote, and why. <strong>"
    << passed << " of " << results_.size() << "</strong> scenarios passed their checks; "
    << "the run took " << fixed_decimals(wall_s_, 3) << " s (scenarios run in parallel).</p>\n"
    << "<p><a href=\"reading.html\">Reading a record</a> walks from a record's fields to its "
       "cause; <a href=\"practice.html\">Practice</a> asks you to do it.</p>\n"
    << "<table class=\"matrix\">\n<caption>Status codes (rows) × causes: each cell links to "
       "the cause's page, with the run's result and wall time</caption>\n"
    << "<thead><tr><th scope=\"col\">status</th><th scope=\"col\" colspan=\"" << widest
    << "\">causes</th></tr></thead>\n<tbody>\n";
  for (const auto& [status, list] : by_status) {
    b << "<tr><th scope=\"row\">" << status << "</th>";
    for (std::size_t i : list) {
      const auto& r = results_[i];
      b << "<td><a class=\"cause\" href=\"" << cause_href(r.id, "") << "\">" << html_escape(r.id)
        << "</a><small>" << html_escape(r.title) << "</small>" << result_badge(r)
        << " <span class=\"wall\">" << fixed_decimals(r.wall_s, 3) << " s</span></td>";
    }
    for (std::size_t k = list.size(); k < widest; ++k) b << "<td></td>";
    b << "</tr>\n";
  }
  b << "</tbody>\n</table>\n";
  return page("All causes", b.str(), "");
}

std::string html_report::cause_page(std::size_t i) const {
  const scenario& s = scenarios_[i];
  const scenario_result& r = results_[i];
  std::ostringstream b;
  b << "<h1><code>" << html_escape(s.id) << "</code> (" << s.status << ")</h1>\n"
    << "<p>" << html_escape(s.title) << "</p>\n"
    << "<p>This run: " << result_badge(r) << " in " << fixed_decimals(r.wall_s, 3) << " s.</p>\n";
  if (!r.error.empty())
    b << "<p class=\"fail\">Could not run: " << html_escape(r.error) << "</p>\n";

  // The exchange.
  b << "<h2 id=\"diagram\">The exchange</h2>\n<figure>\n"
    << sequence_diagram(r.sequence, s.id + ": the exchange as the run recorded it").svg()
    << "\n<figcaption>Time runs down; each row's time is on the left (seconds since the "
       "scenario started). Vertical spacing is to scale at 400 px per second, except that "
       "events less than 75 ms apart get an even minimum spacing so that their labels stay "
       "legible, and waits longer than 0.3 s are cut at a zig-zag line that gives their length. "
       "Every arrow names its kind (REQ, RESP, SYN, FIN, RST…) in words; RSTs are also drawn "
       "thick, FINs dashed, a lost SYN ends in a cross.";
  if (!r.sequence_scope.empty()) b << " Shown: " << html_escape(r.sequence_scope) << ".";
  b << "</figcaption>\n</figure>\n"
    << "<h3>The same events as text</h3>\n"
    << sequence_diagram(r.sequence, s.id).text_equivalent() << "\n";

  // The record.
  std::map<std::string, const check_result*> checked;
  for (const auto& c : r.checks) {
    if (c.expected.field.rfind("log.", 0) == 0) checked[c.expected.field.substr(4)] = &c;
  }
  b << "<h2 id=\"record\">The access-log record</h2>\n";
  const json log = r.observations.value("log", json());
  if (log.is_object()) {
    b << "<p>Rows marked ★ identify the cause; the note says why.</p>\n"
      << "<table class=\"record\">\n<thead><tr><th scope=\"col\">field</th><th "
         "scope=\"col\">value</th><th scope=\"col\">why it matters</th></tr></thead>\n<tbody>\n";
    // The identifying fields first, then the rest of the record.
    for (bool key : {true, false}) {
      if (!key) {
        b << "<tr><th scope=\"rowgroup\" colspan=\"3\">the other fields of the "
             "record</th></tr>\n";
      }
      for (const auto& [field, value] : log.items()) {
        auto c = checked.find(field);
        if ((c != checked.end()) != key) continue;
        std::string note;
        if (key) {
          note = field == "sim_cause"
                     ? "albsim's own field: the cause ID the balancer decided (the real "
                       "balancer does not write it)."
                     : sentence_about(s.explain.log, field);
          if (note.empty()) note = "Expected " + c->second->expected.matcher.describe() + ".";
        }
        b << "<tr" << (key ? " class=\"key\"" : "") << "><th scope=\"row\"><code>"
          << html_escape(field) << "</code></th><td><code>" << html_escape(value_text(value))
          << "</code></td><td>" << html_escape(note) << "</td></tr>\n";
      }
    }
    b << "</tbody>\n</table>\n";
  } else {
    b << "<p>The balancer wrote no record.</p>\n";
  }

  // The explanation.
  b << "<h2 id=\"explanation\">What happened</h2>\n<dl class=\"explain\">\n";
  auto item = [&](const char* term, const std::string& text) {
    if (!text.empty()) b << "<dt>" << term << "</dt><dd>" << html_escape(text) << "</dd>\n";
  };
  item("At the client", s.explain.client);
  item("At the balancer", s.explain.balancer);
  item("At the backend", s.explain.backend);
  item("In the access log", s.explain.log);
  item("What to check in a real deployment", s.explain.check);
  item("albsim's rule, where the guide is silent", s.explain.rule);
  item("What the simulation shortened or simulated", s.explain.simulation);
  b << "</dl>\n";

  b << "<h2 id=\"checks\">What the run checked</h2>\n<table>\n<thead><tr><th "
       "scope=\"col\">result</th><th scope=\"col\">observation</th><th "
       "scope=\"col\">expected</th><th scope=\"col\">observed</th></tr></thead>\n<tbody>\n";
  for (const auto& c : r.checks) {
    b << "<tr><td>"
      << (c.pass ? "<span class=\"pass\">PASS</span>" : "<span class=\"fail\">FAIL</span>")
      << "</td><td><code>" << html_escape(c.expected.field) << "</code></td><td>"
      << html_escape(c.expected.matcher.describe()) << "</td><td><code>" << html_escape(c.observed)
      << "</code></td></tr>\n";
  }
  b << "</tbody>\n</table>\n";

  b << "<h2 id=\"reproduce\">Reproduce it</h2>\n<pre><code>albsim scenarios run "
    << html_escape(s.id) << "\nalbsim explain " << html_escape(s.id) << "</code></pre>\n";

  b << "<details class=\"no-print\"><summary>The run's full timeline</summary>\n<pre>";
  for (const auto& e : r.timeline) {
    b << fixed_decimals(std::max(0.0, e.at), 3) << "  " << html_escape(e.hop) << "  "
      << html_escape(e.what) << "\n";
  }
  b << "</pre></details>\n";
  return page(s.id, b.str(), "../");
}

std::string html_report::reading_page() const {
  std::set<std::string> have;
  for (const auto& s : scenarios_) have.insert(s.id);
  std::ostringstream b;
  b << "<h1>Reading a record</h1>\n"
    << "<p>Start at the top with one access-log record and answer each question from its "
       "fields. Only fields the real balancer writes are used (never <code>sim_cause</code>). "
       "The questions follow the outcome table (who decided the status, before or after a "
       "backend was chosen, which event ended the exchange). Where the record alone cannot "
       "tell causes apart the leaf lists them all and says what can. The thresholds (100 ms of "
       "RTT, 50 ms, 0.5 s) are albsim's reading aids, not the guide's.</p>\n";
  std::function<void(const decision_node&)> draw = [&](const decision_node& n) {
    if (!n.answer.empty()) b << "<span class=\"answer\">" << html_escape(n.answer) << "</span>";
    if (!n.children.empty()) {
      b << " <span class=\"question\">" << html_escape(n.question) << "</span>\n<ul>\n";
      for (const auto& c : n.children) {
        b << "<li>";
        draw(c);
        b << "</li>\n";
      }
      b << "</ul>\n";
      return;
    }
    b << " <span class=\"causes\">⇒ ";
    for (const auto& id : n.causes) {
      if (have.count(id))
        b << "<a href=\"" << cause_href(id, "") << "\">" << html_escape(id) << "</a>";
      else
        b << "<code>" << html_escape(id) << "</code> ";
    }
    b << "</span>";
    if (!n.hint.empty()) b << " <span class=\"note\">" << html_escape(n.hint) << "</span>";
  };
  record_reader reader;
  b << "<ul class=\"tree\" aria-label=\"decision tree\"><li>";
  draw(reader.root());
  b << "</li></ul>\n";
  return page("Reading a record", b.str(), "");
}

std::string html_report::practice_page() const {
  std::map<int, std::vector<std::string>> causes_of;
  for (const auto& c : cause_catalogue()) causes_of[c.status].push_back(std::string(c.id));
  // One record of each status in turn, so that neighbours do not give each other away.
  std::map<int, std::vector<std::size_t>> of_status;
  for (std::size_t i = 0; i < results_.size(); ++i) {
    // Only causes of the catalogue are questions (a success scenario has nothing to guess).
    if (results_[i].observations.value("log", json()).is_object() && find_cause(results_[i].id))
      of_status[results_[i].status].push_back(i);
  }
  std::vector<std::size_t> order;
  for (std::size_t round = 0;; ++round) {
    std::size_t before = order.size();
    for (const auto& [status, list] : of_status) {
      if (round < list.size()) order.push_back(list[round]);
    }
    if (order.size() == before) break;
  }

  std::ostringstream b;
  b << "<h1>Practice: which cause wrote this record?</h1>\n"
    << "<p>Each record below was written by the balancer in this run, with "
       "<code>sim_cause</code> and <code>sim_detail</code> taken out. Pick the cause; the answer "
       "and the explanation appear. <a href=\"reading.html\">Reading a record</a> helps.</p>\n";
  std::size_t n = 0;
  for (std::size_t i : order) {
    const auto& r = results_[i];
    const auto& s = scenarios_[i];
    ++n;
    b << "<section class=\"quiz\" id=\"q" << n << "\" data-answer=\"" << html_escape(r.id)
      << "\" aria-labelledby=\"q" << n << "-h\">\n<h2 id=\"q" << n << "-h\">Record " << n
      << " (status " << r.status << ")</h2>\n<pre>"
      << html_escape(record_without_cause(r.observations["log"])) << "</pre>\n"
      << "<p class=\"note\">The client saw: " << html_escape(client_view(r.observations))
      << "</p>\n<p>";
    for (const auto& id : causes_of[r.status]) {
      b << "<button type=\"button\" data-choice=\"" << html_escape(id) << "\">" << html_escape(id)
        << "</button>";
    }
    b << "</p>\n<p class=\"feedback\" aria-live=\"polite\"></p>\n"
      << "<div class=\"answer\" hidden><p>The answer: <a href=\"" << cause_href(r.id, "")
      << "\"><code>" << html_escape(r.id) << "</code></a>, " << html_escape(r.title) << ".</p><p>"
      << html_escape(s.explain.log) << "</p></div>\n"
      << "</section>\n";
  }
  b << "<script src=\"practice.js\"></script>\n";
  return page("Practice", b.str(), "");
}

}  // namespace albsim::scenarios
