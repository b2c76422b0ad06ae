#include "scripted_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>

#include "albsim/yaml_cursor.hpp"
#include "tls_request.hpp"

namespace albsim::scenarios {
namespace {

using clock = std::chrono::steady_clock;
using std::chrono::duration;
using std::chrono::milliseconds;

enum class io { ok, eof, reset, refused, timeout, error };

int remaining_ms(clock::time_point deadline) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

io from_errno(int e) {
  if (e == ECONNRESET || e == EPIPE) return io::reset;
  if (e == ECONNREFUSED) return io::refused;
  return io::error;
}

// A parsed response head and how much of the body arrived.
struct response {
  int status = 0;
  std::string reason;
  nlohmann::json headers = nlohmann::json::object();  // lower-case names
  std::uint64_t body_bytes = 0;
  bool complete = false;
};

class connection {
 public:
  ~connection() { close(); }

  io connect(const std::string& address, std::uint16_t port, clock::time_point deadline) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0) return io::error;
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    if (::inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1) return io::error;
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) return io::ok;
    if (errno != EINPROGRESS) return from_errno(errno);
    pollfd p{fd_, POLLOUT, 0};
    int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n == 0) return io::timeout;
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    return err == 0 ? io::ok : from_errno(err);
  }

  std::uint16_t local_port() const {
    sockaddr_in sa{};
    socklen_t len = sizeof sa;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    return ntohs(sa.sin_port);
  }

  // Sends `bytes`; stops early (returning ok) when the peer has something to say, so that an
  // early answer (400, 408) is read instead of writing into a closed connection.
  io send(std::string_view bytes, clock::time_point deadline, bool stop_on_input = true) {
    while (!bytes.empty()) {
      pollfd p{fd_, static_cast<short>(POLLOUT | (stop_on_input ? POLLIN : 0)), 0};
      int n = ::poll(&p, 1, remaining_ms(deadline));
      if (n == 0) return io::timeout;
      if (p.revents & POLLIN) return io::ok;
      ssize_t w = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EAGAIN || errno == EINTR) continue;
        return from_errno(errno);
      }
      sent_ += static_cast<std::uint64_t>(w);
      bytes.remove_prefix(static_cast<std::size_t>(w));
    }
    return io::ok;
  }

  bool input_waiting() const {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
  }

  // Reads one response (head, then a Content-Length or chunked body, or until close). Bytes
  // beyond it stay in `buffer_` for the next call.
  io read_response(response& r, clock::time_point deadline,
                   std::optional<clock::time_point>* first_byte = nullptr) {
    r = response{};
    std::size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      io e = fill(deadline);
      if (first_byte && !*first_byte && !buffer_.empty()) *first_byte = clock::now();
      if (e != io::ok) return e;
    }
    std::string head = buffer_.substr(0, head_end);
    buffer_.erase(0, head_end + 4);
    std::size_t eol = head.find("\r\n");
    std::string status_line = head.substr(0, eol);
    if (status_line.size() >= 12 && status_line.compare(0, 5, "HTTP/") == 0) {
      r.status = std::atoi(status_line.c_str() + 9);
      r.reason = status_line.size() > 13 ? status_line.substr(13) : "";
    }
    std::optional<std::uint64_t> length;
    bool chunked = false;
    std::size_t pos = eol == std::string::npos ? head.size() : eol + 2;
    while (pos < head.size()) {
      std::size_t end = head.find("\r\n", pos);
      if (end == std::string::npos) end = head.size();
      std::string line = head.substr(pos, end - pos);
      pos = end + 2;
      auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      while (!value.empty() && value.back() == ' ') value.pop_back();
      r.headers[name] = value;
      if (name == "content-length") length = std::strtoull(value.c_str(), nullptr, 10);
      if (name == "transfer-encoding" && value.find("chunked") != std::string::npos) {
        chunked = true;
      }
    }
    if (chunked) {
      // Chunk sizes are not decoded: the body is counted (approximately) up to the last chunk.
      for (;;) {
        auto last = buffer_.find("0\r\n\r\n");
        if (last != std::string::npos) {
          r.body_bytes += last;
          buffer_.erase(0, last + 5);
          r.complete = true;
          return io::ok;
        }
        // Keep only what could be the start of the terminator: memory stays bounded.
        if (buffer_.size() > 4) {
          r.body_bytes += buffer_.size() - 4;
          buffer_.erase(0, buffer_.size() - 4);
        }
        io e = fill(deadline);
        if (e != io::ok) return e;
      }
    }
    if (length) {
      for (;;) {
        std::uint64_t take = std::min<std::uint64_t>(buffer_.size(), *length - r.body_bytes);
        r.body_bytes += take;
        buffer_.erase(0, take);
        if (r.body_bytes >= *length) {
          r.complete = true;
          return io::ok;
        }
        io e = fill(deadline);
        if (e != io::ok) return e;
      }
    }
    if (r.status == 204 || r.status == 304) {
      r.complete = true;
      return io::ok;
    }
    for (;;) {
      r.body_bytes += buffer_.size();
      buffer_.clear();
      io e = fill(deadline);
      if (e == io::eof) {
        r.complete = true;
        return io::ok;
      }
      if (e != io::ok) return e;
    }
  }

  bool has_buffered() const { return !buffer_.empty(); }
  std::uint64_t sent() const { return sent_; }
  std::uint64_t received() const { return received_; }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  io fill(clock::time_point deadline) {
    pollfd p{fd_, POLLIN, 0};
    int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n == 0) return io::timeout;
    char buf[65536];
    ssize_t r = ::recv(fd_, buf, sizeof buf, 0);
    if (r == 0) return io::eof;
    if (r < 0) {
      if (errno == EAGAIN || errno == EINTR) return io::ok;
      return from_errno(errno);
    }
    received_ += static_cast<std::uint64_t>(r);
    // Bodies are counted, not kept: keep at most what a head and a chunk trailer need.
    buffer_.append(buf, static_cast<std::size_t>(r));
    return io::ok;
  }

  int fd_ = -1;
  std::string buffer_;
  std::uint64_t sent_ = 0;
  std::uint64_t received_ = 0;
};

const char* to_text(io e) {
  switch (e) {
    case io::ok:
      return "ok";
    case io::eof:
      return "closed";
    case io::reset:
      return "reset";
    case io::refused:
      return "refused";
    case io::timeout:
      return "timeout";
    case io::error:
      return "error";
  }
  return "?";
}

class recorder {
 public:
  recorder(client_run& run, clock::time_point origin) : run_(run), origin_(origin) {}
  void operator()(const std::string& what) {
    run_.events.push_back({duration<double>(clock::now() - origin_).count(), "client", what});
  }
  // One arrow of the sequence diagram, as this socket saw it.
  void arrow(lane from, lane to, const char* kind, std::string label,
             clock::time_point when = clock::now()) {
    run_.sequence.push_back({duration<double>(when - origin_).count(), from, to, kind,
                             std::move(label), "client socket"});
  }

 private:
  client_run& run_;
  clock::time_point origin_;
};

std::string build_head(const client_script& s, std::uint64_t body_bytes) {
  std::string target = s.path;
  if (s.target_bytes > target.size()) target.append(s.target_bytes - target.size(), 'a');
  std::string head = s.method + " " + target + " HTTP/1.1\r\nHost: albsim.test\r\n";
  head += "User-Agent: albsim-scenario\r\n";
  for (const auto& [name, value] : s.headers) head += name + ": " + value + "\r\n";
  if (s.header_line_bytes > 0) {
    std::string name = "X-Oversized: ";
    std::uint64_t value = s.header_line_bytes > name.size() ? s.header_line_bytes - name.size() : 1;
    head += name + std::string(value, 'h') + "\r\n";
  }
  if (body_bytes > 0) head += "Content-Length: " + std::to_string(body_bytes) + "\r\n";
  head += "Connection: close\r\n\r\n";
  return head;
}

std::string describe_size(std::uint64_t n) {
  if (n >= 1024 * 1024 && n % 1024 == 0) return std::to_string(n / 1024) + " KiB";
  return std::to_string(n) + " bytes";
}

struct endpoint {
  std::string address;
  std::uint16_t port = 0;
};

std::vector<endpoint> endpoints_of(const proxy::proxy_config& config,
                                   const std::vector<proxy::bound_listener>& bound,
                                   std::size_t index) {
  std::vector<endpoint> out;
  const std::string& name = config.listeners.at(index).name;
  for (const auto& vip : config.instance.vips) {
    for (const auto& b : bound) {
      if (b.name == name && b.address == vip) out.push_back({b.address, b.port});
    }
  }
  if (out.empty()) {
    for (const auto& b : bound) {
      if (b.name == name) out.push_back({b.address, b.port});
    }
  }
  return out;
}

void put_response(nlohmann::json& obs, const response& r) {
  obs["status"] = r.status;
  obs["reason"] = r.reason;
  obs["headers"] = r.headers;
  obs["body_bytes"] = r.body_bytes;
}

// One request of a burst: connect, send, read; returns the response when one arrived.
std::optional<response> quick_request(const endpoint& ep, const std::string& request,
                                      clock::time_point deadline) {
  connection c;
  if (c.connect(ep.address, ep.port, deadline) != io::ok) return std::nullopt;
  if (c.send(request, deadline) != io::ok) return std::nullopt;
  response r;
  if (c.read_response(r, deadline) != io::ok || r.status == 0) return std::nullopt;
  return r;
}

bool throttled(const response& r) {
  auto it = r.headers.find("alb-qps-limited");
  return r.status == 503 && it != r.headers.end() && *it == "Limited";
}

// Sends `count` requests at `rate` per second (0 = back to back), to the endpoints in turn.
nlohmann::json run_series(const client_script& s, const std::vector<endpoint>& eps,
                          const std::string& label, recorder& note, response* first_throttled,
                          std::optional<response>* last) {
  std::uint32_t responses = 0, throttled_n = 0, ok = 0, none = 0;
  std::string request = build_head(s, 0);
  auto start = clock::now();
  for (std::uint32_t i = 0; i < s.count; ++i) {
    if (s.rate > 0) {
      std::this_thread::sleep_until(
          start + std::chrono::duration_cast<clock::duration>(duration<double>(i / s.rate)));
    }
    const endpoint& ep = eps[i % eps.size()];
    auto r = quick_request(ep, request, clock::now() + s.timeout);
    if (!r) {
      ++none;
      continue;
    }
    ++responses;
    if (r->status >= 200 && r->status < 300) ++ok;
    if (throttled(*r)) {
      if (throttled_n == 0 && first_throttled) {
        *first_throttled = *r;
        note(label + "request " + std::to_string(i + 1) + " to " + ep.address +
             " throttled: 503 with ALB-QPS-Limited: Limited");
      }
      ++throttled_n;
    }
    if (last) *last = r;
  }
  note(label + std::to_string(s.count) + " requests sent: " + std::to_string(ok) +
       " answered 2xx, " + std::to_string(throttled_n) + " throttled (503 + ALB-QPS-Limited), " +
       std::to_string(none) + " without a response");
  return {{"sent", s.count},
          {"responses", responses},
          {"throttled", throttled_n},
          {"ok", ok},
          {"no_response", none}};
}

void run_single(const client_script& s, const endpoint& ep, client_run& run, recorder& note) {
  nlohmann::json& obs = run.observation;
  auto start = clock::now();
  auto deadline = start + s.timeout;
  run.exchanges = 1;
  connection c;
  note("connect to " + ep.address + ":" + std::to_string(ep.port));
  io e = c.connect(ep.address, ep.port, deadline);
  if (e != io::ok) {
    note(std::string("connect failed: ") + to_text(e));
    if (e == io::refused) note.arrow(lane::balancer, lane::client, "refused", "connection refused");
    obs["outcome"] = to_text(e);
    obs["elapsed"] = duration<double>(clock::now() - start).count();
    return;
  }
  note("connected from port " + std::to_string(c.local_port()));
  note.arrow(lane::client, lane::balancer, "connect",
             "handshake from port " + std::to_string(c.local_port()));

  // What goes on the wire.
  std::string head, body, tail;
  std::uint64_t body_to_send = 0;
  switch (s.action) {
    case client_action::invalid_framing:
      switch (s.framing) {
        case framing_fault::conflicting_length:
          head = "POST " + s.path +
                 " HTTP/1.1\r\nHost: albsim.test\r\nContent-Length: 5\r\n"
                 "Content-Length: 6\r\n\r\n";
          body = "hello!";
          break;
        case framing_fault::length_and_chunked:
          head = "POST " + s.path +
                 " HTTP/1.1\r\nHost: albsim.test\r\nContent-Length: 5\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n";
          body = "5\r\nhello\r\n0\r\n\r\n";
          break;
        case framing_fault::non_numeric_length:
          head =
              "POST " + s.path + " HTTP/1.1\r\nHost: albsim.test\r\nContent-Length: five\r\n\r\n";
          body = "hello";
          break;
        case framing_fault::surplus_bytes:
          head = "POST " + s.path + " HTTP/1.1\r\nHost: albsim.test\r\nContent-Length: 5\r\n\r\n";
          body = "hello";
          tail = "these surplus bytes are no request\r\n\r\n";
          break;
        case framing_fault::transfer_coding_not_chunked:
          head = "POST " + s.path +
                 " HTTP/1.1\r\nHost: albsim.test\r\nTransfer-Encoding: xchunked\r\n\r\n";
          body = "5\r\nhello\r\n0\r\n\r\n";
          break;
        case framing_fault::missing_host:
          head = "GET " + s.path + " HTTP/1.1\r\nUser-Agent: albsim-scenario\r\n\r\n";
          break;
      }
      break;
    case client_action::partial_then_close: {
      std::string full = build_head(s, 0);
      head = full.substr(0, full.find("\r\n", full.find("\r\n") + 2) + 2) + "X-Partial: ";
      break;
    }
    default:
      head = build_head(s, s.body_bytes);
      body_to_send = s.send_body_bytes.value_or(s.body_bytes);
      break;
  }

  e = c.send(head, deadline);
  note("sent the request head (" + describe_size(head.size()) + ")" +
       (s.action == client_action::partial_then_close ? ", cut off inside a header line" : ""));
  note.arrow(lane::client, lane::balancer, "request",
             s.method + " " + s.path.substr(0, 40) + ": head, " + describe_size(head.size()) +
                 (s.action == client_action::partial_then_close ? ", cut off" : ""));
  bool answered_early = false;
  if (e == io::ok && body_to_send > 0) {
    std::uint64_t chunk =
        s.upload_rate > 0 ? std::max<std::uint64_t>(1, s.upload_rate / 10) : std::uint64_t{65536};
    std::string block(static_cast<std::size_t>(std::min<std::uint64_t>(chunk, 65536)), 'b');
    std::uint64_t left = body_to_send;
    auto pace_start = clock::now();
    std::uint64_t done = 0;
    if (s.upload_rate > 0)
      note("uploading " + describe_size(body_to_send) + " at " + std::to_string(s.upload_rate) +
           " bytes/s");
    while (left > 0 && e == io::ok && !c.input_waiting()) {
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, block.size()));
      if (s.upload_rate > 0) {
        auto due = pace_start + std::chrono::duration_cast<clock::duration>(
                                    duration<double>(static_cast<double>(done) / s.upload_rate));
        if (due > deadline) break;
        std::this_thread::sleep_until(due);
      }
      e = c.send(std::string_view(block).substr(0, n), deadline);
      done += n;
      left -= n;
    }
    answered_early = left > 0 && c.input_waiting();
    note.arrow(lane::client, lane::balancer, "request",
               "body: " + describe_size(c.sent() - head.size()) + " written of " +
                   describe_size(s.body_bytes) +
                   (s.upload_rate > 0 ? " at " + std::to_string(s.upload_rate) + " B/s" : ""));
    note("sent " + describe_size(c.sent() - head.size()) + " of the body" +
         (answered_early ? " (the balancer answered before the body was complete)" : ""));
  } else if (e == io::ok && !body.empty()) {
    e = c.send(body + tail, deadline);
    note("sent the body" + std::string(tail.empty() ? "" : " and surplus bytes after it"));
    note.arrow(lane::client, lane::balancer, "request",
               "body" + std::string(tail.empty() ? "" : " + surplus bytes"));
  }
  if (body_to_send == 0 && s.body_bytes > 0) {
    note("withholds the " + describe_size(s.body_bytes) + " body announced by Content-Length");
  }
  obs["sent_bytes"] = c.sent();
  if (e != io::ok && e != io::timeout) note(std::string("sending failed: ") + to_text(e));

  if (s.action == client_action::abort_after_send) {
    c.close();
    note("closes the connection right after sending, without waiting for the answer");
    note.arrow(lane::client, lane::balancer, "fin", "the client closes");
    obs["outcome"] = "client-closed";
    obs["elapsed"] = duration<double>(clock::now() - start).count();
    return;
  }

  // Read responses until the connection ends (a pipelined surplus may get a second answer).
  std::uint32_t responses = 0;
  std::optional<clock::time_point> first_byte;
  io last = io::ok;
  for (;;) {
    response r;
    last = c.read_response(r, deadline, &first_byte);
    if (first_byte && responses == 0) {
      note("first response byte after " +
           std::to_string(duration<double>(*first_byte - start).count()).substr(0, 5) + " s");
    }
    if (r.status > 0) {
      ++responses;
      put_response(obs, r);
      note("response " + std::to_string(r.status) + " " + r.reason +
           (r.complete ? "" : " (incomplete)") + ", " + std::to_string(r.body_bytes) +
           " body bytes");
      note.arrow(lane::balancer, lane::client, "response",
                 std::to_string(r.status) + " " + r.reason + ", " + std::to_string(r.body_bytes) +
                     " body bytes" + (r.complete ? "" : " (incomplete)"),
                 responses == 1 && first_byte ? *first_byte : clock::now());
    }
    if (last != io::ok || !r.complete) break;
    if (s.action != client_action::invalid_framing && !c.has_buffered()) break;
  }
  obs["responses"] = responses;
  obs["elapsed"] = duration<double>(clock::now() - start).count();
  if (last == io::timeout) {
    c.close();
    note(s.action == client_action::partial_then_close
             ? "gives up on the request after " + format_duration(s.timeout) + " and closes"
             : "its own timeout (" + format_duration(s.timeout) + ") fired; closes the connection");
    note.arrow(lane::client, lane::client, "timer",
               "client timeout " + format_duration(s.timeout) + " fired");
    note.arrow(lane::client, lane::balancer, "fin", "the client closes");
    obs["outcome"] = s.action == client_action::partial_then_close ? "client-closed" : "timeout";
    return;
  }
  if (responses > 0) {
    obs["outcome"] = "response";
  } else {
    obs["outcome"] = to_text(last);
    note(last == io::eof     ? "the balancer closed the connection without a response byte"
         : last == io::reset ? "the connection was reset without a response"
                             : std::string("reading failed: ") + to_text(last));
    if (last == io::eof)
      note.arrow(lane::balancer, lane::client, "fin", "closed without a response byte");
    if (last == io::reset)
      note.arrow(lane::balancer, lane::client, "rst", "reset without a response");
  }
}

}  // namespace

client_run run_client(const client_script& s, const proxy::proxy_config& config,
                      const std::vector<proxy::bound_listener>& listeners,
                      clock::time_point origin) {
  client_run run;
  recorder note(run, origin);
  auto eps = endpoints_of(config, listeners, s.listener);
  if (eps.empty()) {
    note("no bound listener to talk to");
    run.observation["outcome"] = "error";
    return run;
  }
  if (s.warmup > 0) {
    client_script w;
    w.path = s.warmup_path;
    std::string request = build_head(w, 0);
    std::string statuses;
    for (std::uint32_t i = 0; i < s.warmup; ++i) {
      auto t = clock::now();
      auto r = quick_request(eps.front(), request, t + std::chrono::seconds(5));
      statuses += (statuses.empty() ? "" : ", ") +
                  (r ? std::to_string(r->status) : std::string("no response")) + " in " +
                  std::to_string(duration<double>(clock::now() - t).count()).substr(0, 5) + " s";
    }
    note("warm-up: " + std::to_string(s.warmup) + " GET " + s.warmup_path + " → " + statuses);
  }
  auto start = clock::now();
  if (s.action == client_action::burst) {
    run.exchanges = s.count;
    response first;
    std::optional<response> last;
    note("burst of " + std::to_string(s.count) + " requests to " + eps.front().address + ":" +
         std::to_string(eps.front().port) +
         (s.rate > 0 ? " at " + std::to_string(s.rate).substr(0, 6) + "/s" : " back to back"));
    auto counts = run_series(s, {eps.front()}, "", note, &first, &last);
    run.observation.update(counts);
    if (first.status)
      put_response(run.observation, first);
    else if (last)
      put_response(run.observation, *last);
    run.observation["outcome"] =
        counts["responses"].get<std::uint32_t>() > 0 ? "response" : "closed";
  } else if (s.action == client_action::vip_pinned_vs_spread) {
    run.exchanges = 2u * s.count;
    response first;
    // The spreading client goes first, so that the pinned one does not leave a VIP's bucket
    // drained for it.
    std::string all;
    for (const auto& ep : eps) all += (all.empty() ? "" : ", ") + ep.address;
    note("spreading client: " + std::to_string(s.count) + " requests over every VIP (" + all + ")");
    run.observation["spread"] = run_series(s, eps, "spread: ", note, nullptr, nullptr);
    note("pinned client: " + std::to_string(s.count) + " requests, all to VIP " +
         eps.front().address);
    run.observation["pinned"] = run_series(s, {eps.front()}, "pinned: ", note, &first, nullptr);
    if (first.status) put_response(run.observation, first);
    run.observation["outcome"] = "response";
  } else if (s.tls) {
    run_tls_request(s, eps.front().address, eps.front().port, run, origin);
  } else {
    run_single(s, eps.front(), run, note);
  }
  run.exchanges += s.warmup;
  if (!run.observation.contains("elapsed")) {
    run.observation["elapsed"] = duration<double>(clock::now() - start).count();
  }
  return run;
}

}  // namespace albsim::scenarios
