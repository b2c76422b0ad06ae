#include "albsim/diagnose/log_summary.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <ostream>

#include "albsim/cause.hpp"

namespace albsim::diagnose {
namespace {

// Shares that make a pattern: most of the records on one value.
constexpr double k_dominant_share = 0.8;
constexpr double k_cluster_share = 0.6;
constexpr std::size_t k_top = 3;
constexpr const char* k_top_names[] = {"upstream_addr", "client_ip", "vip_addr", "host", "path"};
constexpr std::string_view k_bars[] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
constexpr std::size_t k_chart_width = 60;

std::string clock_text(double epoch, bool date) {
  std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, date ? "%Y-%m-%d %H:%M:%S" : "%H:%M", &tm);
  return buf;
}

std::string fixed(double v, int decimals) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string share(std::uint64_t part, std::uint64_t whole) {
  return whole ? fixed(100.0 * static_cast<double>(part) / static_cast<double>(whole), 1) + " %"
               : "-";
}

std::string_view path_of(std::string_view uri) {
  auto q = uri.find('?');
  return q == std::string_view::npos ? uri : uri.substr(0, q);
}

bool throttled_503(const log_record& r) {
  return r.status() == 503 && !r.has(field::upstream_status) && !r.has(field::upstream_addr);
}

}  // namespace

void top_counter::add(std::string_view value) {
  ++total_;
  if (auto it = counts_.find(value); it != counts_.end()) {
    ++it->second;
  } else if (counts_.size() < k_cap) {
    counts_.emplace(std::string(value), 1);
  } else {
    ++others_;
  }
}

std::vector<std::pair<std::string, std::uint64_t>> top_counter::top(std::size_t n) const {
  std::vector<std::pair<std::string, std::uint64_t>> all(counts_.begin(), counts_.end());
  const auto k = std::min(n, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(k), all.end(),
                    [](const auto& a, const auto& b) {
                      return a.second != b.second ? a.second > b.second : a.first < b.first;
                    });
  all.resize(k);
  return all;
}

void log_summary::cluster::add(double seconds) {
  ++total;
  if (by_10ms.size() < 100'000 || by_10ms.count(std::llround(seconds * 100)))
    ++by_10ms[std::llround(seconds * 100)];
}

std::pair<double, double> log_summary::cluster::mode() const {
  if (by_10ms.empty()) return {0, 0};
  auto best = std::max_element(by_10ms.begin(), by_10ms.end(),
                               [](const auto& a, const auto& b) { return a.second < b.second; });
  const double at = static_cast<double>(best->first) / 100.0;
  std::uint64_t near = 0;
  for (auto it = by_10ms.lower_bound(std::llround(at * 0.95 * 100));
       it != by_10ms.end() && static_cast<double>(it->first) <= at * 1.05 * 100; ++it)
    near += it->second;
  return {at, static_cast<double>(near) / static_cast<double>(total)};
}

int log_summary::label_key(const ranking& k) {
  if (k.kind != verdict::cause) return 10'000 + static_cast<int>(k.kind);
  if (k.set) return 5'000 + static_cast<int>(k.set - ambiguity_sets().data());
  return k.top().rule;
}

void log_summary::add(const log_record& r, const ranking& k) {
  ++records_;
  seen_ |= r.present();
  ++statuses_[r.status()];
  const int key = label_key(k);
  auto [it, fresh] = labels_.try_emplace(key);
  per_label& l = it->second;
  if (fresh) {
    l.name = verdict_label(k);
    l.error = k.kind != verdict::not_an_error;
  }
  ++l.count;
  const std::hash<std::string_view> hash;
  if (r.has(field::upstream_addr) && upstreams_.size() < k_max_distinct)
    upstreams_.insert(hash(r.text(field::upstream_addr)));
  if (r.has(field::vip_addr) && vips_.size() < k_max_distinct)
    vips_.insert(hash(r.text(field::vip_addr)));
  if (l.error) {
    const field tops[] = {field::upstream_addr, field::client_ip, field::vip_addr, field::host};
    for (std::size_t i = 0; i < 4; ++i) {
      if (r.has(tops[i])) l.tops[i].add(r.text(tops[i]));
    }
    if (r.has(field::request_uri)) l.tops[4].add(path_of(r.text(field::request_uri)));
  }
  const int status = r.status();
  if (status == 502 && r.has(field::upstream_addr))
    bad_gateway_upstreams_.add(r.text(field::upstream_addr));
  if (throttled_503(r)) {
    ++throttled_;
    if (r.has(field::vip_addr)) throttled_vips_.add(r.text(field::vip_addr));
    if (r.has(field::client_ip)) throttled_clients_.add(r.text(field::client_ip));
  }
  // A 504 of the balancer's own: upstream_status "-" (a connect timeout, or a request the
  // backend stopped taking) or 504 (a response timeout; albsim's rule, docs/status-rules.md).
  // The request-timeout cluster leaves out the connect timeouts, whose upstream_response_time
  // is the connect's.
  if (status == 504 && (!r.has(field::upstream_status) || r.upstream_status() == 504)) {
    const auto connect = r.number(field::upstream_connect_time);
    if (connect && !r.has(field::upstream_status)) connect_504_.add(*connect);
    const bool at_connect_timeout =
        connect && *connect >= 0.9 * limit_of(limit::connect_timeout_s).value;
    if (auto t = r.number(field::upstream_response_time); t && !at_connect_timeout)
      timeout_504_.add(*t);
  }
  if (status == 499) {
    if (auto t = r.number(field::request_time)) leave_499_.add(*t);
  }
  auto t = r.epoch_seconds();
  if (!t) {
    ++untimed_;
    return;
  }
  if (!timed_) first_time_ = last_time_ = *t;
  timed_ = true;
  first_time_ = std::min(first_time_, *t);
  last_time_ = std::max(last_time_, *t);
  const auto minute = static_cast<std::int64_t>(std::floor(*t / 60));
  if (l.error && (minutes_.size() < k_max_minutes || minutes_.count(minute)))
    ++minutes_[minute][key];
  // Logs are mostly in time order: count runs of the same second, then store them.
  const auto second = static_cast<std::int64_t>(std::floor(*t));
  if (second != run_second_) {
    flush_second();
    run_second_ = second;
  }
  ++run_count_;
}

void log_summary::flush_second() {
  if (run_count_ == 0) return;
  if (seconds_.size() < k_max_seconds || seconds_.count(run_second_))
    seconds_[run_second_] += run_count_;
  run_count_ = 0;
}

std::map<std::string, std::uint64_t> log_summary::by_label() const {
  std::map<std::string, std::uint64_t> out;
  for (const auto& [key, l] : labels_) out[l.name] += l.count;
  return out;
}

std::vector<std::string> log_summary::patterns(const redactor& redact) const {
  std::vector<std::string> out;
  // 503 #3: one client pinned to one VIP while throttled.
  if (throttled_ > 0 && vips_.size() >= 2) {
    auto top = throttled_vips_.top(1);
    if (!top.empty() && top[0].second >= k_dominant_share * static_cast<double>(throttled_)) {
      std::string s = "one VIP takes the throttling: " + share(top[0].second, throttled_) +
                      " of the " + std::to_string(throttled_) +
                      " throttled 503s (upstream_status -, no upstream_addr) are on vip_addr " +
                      redact.address(top[0].first) + " while the log shows " +
                      std::to_string(vips_.size()) + " VIPs";
      auto client = throttled_clients_.top(1);
      if (!client.empty())
        s += "; client " + redact.address(client[0].first) + " sends " +
             share(client[0].second, throttled_) + " of them";
      s += ". Clients pinned to one VIP (an IP instead of the domain name, a stale DNS answer) "
           "meet that VIP's share of the limit: 503-single-vip (guide 503 #3)";
      out.push_back(s);
    }
  }
  // 502 #3 and on: one backend carrying the 502s.
  if (bad_gateway_upstreams_.total() >= 2 && upstreams_.size() >= 2) {
    auto top = bad_gateway_upstreams_.top(1);
    if (!top.empty() &&
        top[0].second >= k_dominant_share * static_cast<double>(bad_gateway_upstreams_.total())) {
      out.push_back("one backend carries the 502s: " + redact.address(top[0].first) + " has " +
                    share(top[0].second, bad_gateway_upstreams_.total()) + " of the " +
                    std::to_string(bad_gateway_upstreams_.total()) + " 502s while the log shows " +
                    std::to_string(upstreams_.size()) +
                    " backends; check that server first: is it healthy, does it listen, does "
                    "the handshake succeed (guide 502 #3)");
    }
  }
  // 504 #3: 504s clustered at the request timeout; 504 #2: at the connect timeout.
  if (timeout_504_.total >= 2) {
    auto [at, part] = timeout_504_.mode();
    if (part >= k_cluster_share && at >= limit_of(limit::min_request_timeout_s).value) {
      out.push_back(share(static_cast<std::uint64_t>(part * 1000), 1000) +
                    " of the 504s with upstream_status - or 504 (no connect timeout) have "
                    "upstream_response_time ≈ " +
                    fixed(at, 2) + " s: the listener's request timeout is likely " + fixed(at, 0) +
                    " s (the default is " + fixed(limit_of(limit::request_timeout_s).value, 0) +
                    " s); the backend takes longer than that (guide 504 #3), unless its own "
                    "access log shows these 504s");
    }
  }
  if (connect_504_.total >= 2) {
    auto [at, part] = connect_504_.mode();
    const double connect = limit_of(limit::connect_timeout_s).value;
    if (part >= k_cluster_share && std::fabs(at - connect) <= 0.1 * connect) {
      out.push_back(share(static_cast<std::uint64_t>(part * 1000), 1000) +
                    " of the 504s have upstream_connect_time ≈ " + fixed(at, 2) +
                    " s, the connect timeout: the backend does not complete the handshake "
                    "(guide 504 #2)");
    }
  }
  // 499 #4: 499s clustered at one client timeout value.
  if (leave_499_.total >= 2) {
    auto [at, part] = leave_499_.mode();
    if (part >= k_cluster_share && at >= limit_of(limit::quick_leave_s).value) {
      out.push_back(share(static_cast<std::uint64_t>(part * 1000), 1000) +
                    " of the 499s have request_time ≈ " + fixed(at, 2) +
                    " s: the clients give up at one timeout value; compare it with the "
                    "backend's usual latency (guide 499 #4)");
    }
  }
  return out;
}

void log_summary::print(std::ostream& out, const redactor& redact) const {
  std::uint64_t malformed = 0, lines = 0, without = 0;
  for (const auto& in : inputs_) {
    malformed += in.malformed;
    lines += in.lines;
    without += in.without_fields;
    out << in.path << ": " << in.records << " records (" << in.format << "), " << in.lines
        << " lines";
    if (in.malformed) out << ", " << in.malformed << " malformed";
    if (in.without_fields) out << ", " << in.without_fields << " without any access-log field";
    out << "\n";
    for (const auto& [line, why] : in.first_malformed)
      out << "  " << in.path << ":" << line << ": " << why << "\n";
    if (in.malformed > in.first_malformed.size())
      out << "  ... and " << in.malformed - in.first_malformed.size() << " more malformed lines\n";
  }
  if (records_ == 0) {
    out << "no records\n";
    return;
  }
  std::vector<std::string> missing;
  for (auto f : {field::upstream_status, field::upstream_addr, field::request_time,
                 field::upstream_connect_time, field::upstream_response_time, field::request_length,
                 field::body_bytes_sent, field::tcpinfo_rtt, field::scheme, field::ssl_protocol,
                 field::vip_addr, field::client_ip, field::time}) {
    if (!seen_.test(static_cast<std::size_t>(f)) &&
        !(f == field::time && seen_.test(static_cast<std::size_t>(field::log_time))))
      missing.emplace_back(field_name(f));
  }
  if (!missing.empty()) {
    out << "never present (\"-\" or no such field): ";
    for (std::size_t i = 0; i < missing.size(); ++i) out << (i ? ", " : "") << missing[i];
    out << "\n  rules that read these fields could not apply; candidates they would separate "
           "stay tied\n";
  }
  if (timed_) {
    const double span = last_time_ - first_time_;
    out << "time: " << clock_text(first_time_, true) << " to " << clock_text(last_time_, true)
        << " UTC (" << fixed(span / 60, 1) << " min)";
    std::uint64_t peak = 0;
    std::int64_t peak_at = 0;
    for (const auto& [sec, n] : seconds_) {
      if (n > peak || (n == peak && sec < peak_at)) peak = n, peak_at = sec;
    }
    out << "; requests per second from the log: mean "
        << fixed(static_cast<double>(records_ - untimed_) / std::max(1.0, span + 1), 1) << ", peak "
        << peak << " at " << clock_text(static_cast<double>(peak_at), true)
        << " (guide 503 #2: monitoring is per minute, the log is per request)\n";
  }
  out << "\nstatus   records   share\n";
  for (const auto& [status, n] : statuses_) {
    char buf[80];
    std::snprintf(buf, sizeof buf, "  %-5s %9llu %8s\n",
                  status ? std::to_string(status).c_str() : "-", static_cast<unsigned long long>(n),
                  share(n, records_).c_str());
    out << buf;
  }
  std::vector<const per_label*> order;
  for (const auto& [key, l] : labels_) order.push_back(&l);
  std::stable_sort(order.begin(), order.end(),
                   [](const per_label* a, const per_label* b) { return a->count > b->count; });
  out << "\ndiagnosis (first candidate, or the set the log cannot split)      records   share\n";
  for (const auto* l : order) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "  %-62s %9llu %8s\n", l->name.c_str(),
                  static_cast<unsigned long long>(l->count), share(l->count, records_).c_str());
    out << buf;
  }
  if (!minutes_.empty()) {
    const auto first = minutes_.begin()->first, last = minutes_.rbegin()->first;
    const auto span = last - first + 1;
    const auto per_column = std::max<std::int64_t>(1, (span + k_chart_width - 1) / k_chart_width);
    out << "\nper minute (one column = " << per_column << " min, "
        << clock_text(first * 60.0, false) << " to " << clock_text(last * 60.0 + 59, false)
        << " UTC)\n";
    for (const auto& [key, l] : labels_) {
      if (!l.error) continue;
      std::vector<std::uint64_t> columns(
          static_cast<std::size_t>((span + per_column - 1) / per_column));
      for (const auto& [minute, counts] : minutes_) {
        if (auto it = counts.find(key); it != counts.end())
          columns[static_cast<std::size_t>((minute - first) / per_column)] += it->second;
      }
      const auto peak = *std::max_element(columns.begin(), columns.end());
      if (peak == 0) continue;
      std::string bars;
      for (auto c : columns) bars += k_bars[c == 0 ? 0 : (c * 8 + peak - 1) / peak];
      char head[80];
      std::snprintf(head, sizeof head, "  %-34.34s |", l.name.c_str());
      out << head << bars << "| max " << peak << "\n";
    }
  }
  out << "\ntop values per diagnosis\n";
  for (const auto* l : order) {
    if (!l->error) continue;
    out << "  " << l->name << " (" << l->count << ")\n";
    for (std::size_t i = 0; i < 5; ++i) {
      auto top = l->tops[i].top(k_top);
      if (top.empty()) continue;
      out << "    " << k_top_names[i] << ":";
      for (const auto& [value, n] : top) {
        const std::string shown = i <= 2   ? redact.address(value)
                                  : i == 4 ? redact.uri(value)
                                           : value;
        out << " " << shown << " " << share(n, l->tops[i].total());
      }
      if (l->tops[i].others()) out << " (counts are lower bounds: too many distinct values)";
      out << "\n";
    }
  }
  auto found = patterns(redact);
  out << "\npatterns the guide describes\n";
  if (found.empty()) out << "  none found\n";
  for (const auto& p : found) out << "  - " << p << "\n";
  out << "\nnext: albsim diagnose --records FILE (each record, its evidence), albsim reproduce "
         "FILE:LINE, albsim explain ID\n";
}

nlohmann::json log_summary::to_json(const redactor& redact) const {
  nlohmann::json j;
  j["records"] = records_;
  nlohmann::json inputs = nlohmann::json::array();
  for (const auto& in : inputs_) {
    nlohmann::json bad = nlohmann::json::array();
    for (const auto& [line, why] : in.first_malformed)
      bad.push_back({{"line", line}, {"reason", why}});
    inputs.push_back({{"path", in.path},
                      {"format", in.format},
                      {"lines", in.lines},
                      {"records", in.records},
                      {"malformed", in.malformed},
                      {"first_malformed", bad},
                      {"without_fields", in.without_fields}});
  }
  j["inputs"] = inputs;
  nlohmann::json statuses = nlohmann::json::object();
  for (const auto& [status, n] : statuses_) statuses[status ? std::to_string(status) : "-"] = n;
  j["statuses"] = statuses;
  nlohmann::json labels = nlohmann::json::object();
  for (const auto& [key, l] : labels_) {
    nlohmann::json tops = nlohmann::json::object();
    for (std::size_t i = 0; i < 5; ++i) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& [value, n] : l.tops[i].top(k_top))
        list.push_back({{"value", i <= 2   ? redact.address(value)
                                  : i == 4 ? redact.uri(value)
                                           : value},
                        {"count", n}});
      tops[k_top_names[i]] = list;
    }
    nlohmann::json minutes = nlohmann::json::object();
    for (const auto& [minute, counts] : minutes_) {
      if (auto it = counts.find(key); it != counts.end())
        minutes[clock_text(minute * 60.0, true)] = it->second;
    }
    labels[l.name] = {{"count", l.count}, {"top", tops}, {"per_minute", minutes}};
  }
  j["diagnoses"] = labels;
  if (timed_) {
    std::uint64_t peak = 0;
    for (const auto& [sec, n] : seconds_) peak = std::max<std::uint64_t>(peak, n);
    j["time"] = {{"first", clock_text(first_time_, true)},
                 {"last", clock_text(last_time_, true)},
                 {"mean_rps", static_cast<double>(records_ - untimed_) /
                                  std::max(1.0, last_time_ - first_time_ + 1)},
                 {"peak_rps", peak}};
  }
  j["patterns"] = patterns(redact);
  return j;
}

}  // namespace albsim::diagnose
