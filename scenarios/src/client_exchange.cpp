// One scripted exchange on one connection (client_exchange.hpp): what goes on the wire for
// each client action, and what the client observes coming back.
#include "client_exchange.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string_view>
#include <thread>

#include "albsim/yaml_cursor.hpp"

namespace albsim::scenarios {
namespace {

using clock = std::chrono::steady_clock;
using std::chrono::duration;

std::string describe_size(std::uint64_t n) {
  if (n >= 1024 * 1024 && n % 1024 == 0) return std::to_string(n / 1024) + " KiB";
  return std::to_string(n) + " bytes";
}

}  // namespace

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

void put_response(nlohmann::json& obs, const response& r) {
  obs["status"] = r.status;
  obs["reason"] = r.reason;
  obs["headers"] = r.headers;
  obs["body_bytes"] = r.body_bytes;
}

void run_single(const client_script& s, const endpoint& ep, client_run& run,
                client_recorder& note) {
  nlohmann::json& obs = run.observation;
  auto start = clock::now();
  auto deadline = start + s.timeout;
  run.exchanges = 1;
  client_connection c;
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

}  // namespace albsim::scenarios
