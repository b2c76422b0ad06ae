// How the proxy's two head parsers (request_head in http_heads.cpp, response_head in
// response_head.cpp) read bytes: the state of reading a head line by line, the Beast parser base
// whose body callbacks accept every byte, and the feed functions both heads share. Internal to
// those two files (it includes Beast).
#pragma once

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>

#include <string>
#include <string_view>

#include "http_heads.hpp"

namespace albsim::proxy::head_reading {
namespace http = boost::beast::http;
using bsv = boost::beast::string_view;

// Fields that describe one connection, not the message: never forwarded (RFC 9110 7.6.1).
inline bool is_hop_by_hop(http::field f) {
  switch (f) {
    case http::field::connection:
    case http::field::keep_alive:
    case http::field::proxy_connection:
    case http::field::te:
    case http::field::trailer:
    case http::field::upgrade:
      return true;
    default:
      return false;
  }
}

inline void append_field(std::string& out, bsv name, bsv value) {
  out.append(name.data(), name.size())
      .append(": ")
      .append(value.data(), value.size())
      .append("\r\n");
}

constexpr std::size_t k_npos = std::string_view::npos;

// The state of reading one head line by line (see put_some), and of the chunk line check.
struct read_state {
  bool line_by_line = false;        // the head did not arrive whole
  std::size_t taken = 0;            // head bytes the parser consumed so far (line by line)
  std::size_t scanned = 0;          // head bytes looked at for line ends and bytes never valid
  std::size_t cut = 0;              // head offset just past the last line certainly ended, plus one
  error_code bad;                   // a byte no head may hold has arrived (the refusal to give)
  std::uint64_t body_taken = 0;     // body bytes consumed (where the pending chunk line starts)
  std::uint64_t chunk_line_at = 0;  // the body offset of the chunk line last checked
  std::size_t chunk_line_searched = 0;  // bytes of it known to hold no CR
  bool chunk_line_ok = false;           // it ended and its extensions are closed
};

// ---------------------------------------------------------------------------------------------
// The body callbacks of both parsers: accept every byte (the proxy forwards the raw bytes the
// parser consumed; the parser only checks the framing).
template <bool is_request>
struct framing_parser : http::basic_parser<is_request> {
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(boost::optional<std::uint64_t> const&, error_code&) override {}
  std::size_t on_body_impl(bsv body, error_code&) override { return body.size(); }
  void on_chunk_header_impl(std::uint64_t, bsv, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, bsv body, error_code&) override {
    return body.size();
  }
  void on_finish_impl(error_code&) override {}
};

// A fresh basic_parser judges a head line by line, but once it has asked for more bytes with
// three or more of them unparsed it only looks again when "\r\n\r\n" has arrived: a head that
// its next line already shows to be malformed (a bare LF, say) would wait for the header bound
// or the timeout when it trickles in, and be refused at once when it comes in one read
// (docs/robustness.md, finding F1). So a head that does not arrive whole is read the other
// way: Beast is given only lines that have certainly ended (plus at most two bytes of the
// next line, too few for that wait to start), and the verdict no longer depends on the reads.
template <class Parser>
std::size_t put_some(Parser& p, std::string_view data, std::size_t from, std::size_t to,
                     error_code& ec) {
  std::size_t n = p.put(boost::asio::const_buffer(data.data() + from, to - from), ec);
  if (ec == http::error::need_more) ec = {};
  return n;
}

inline bool continues_line(char c) { return c == ' ' || c == '\t'; }  // obs-fold (RFC 9112 5.2)

// A byte no request or status line and no field line may hold anywhere (Beast refuses each of
// them wherever it meets it): a control other than HTAB, CR and LF, or DEL.
inline bool is_never_in_head(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

// Reads the head in `data` line by line. `limit` is the header bound: the head must end
// within its first `limit` bytes, as one put() of a fresh parser requires.
template <class Head>
std::size_t feed_lines(Head& h, std::string_view data, std::uint32_t limit, error_code& ec) {
  auto& p = *h.p;
  read_state& s = h.rs;
  ec = {};
  const std::size_t start = s.taken;  // the head offset of data[0] (a line start)
  const std::size_t budget = limit > start ? limit - start : 0;
  const std::string_view w = data.substr(0, std::min(data.size(), budget));
  // Line ends and bytes that are never valid, looking at each byte once.
  std::size_t i = s.scanned > start ? s.scanned - start : 0;
  for (; i < w.size() && !s.bad; ++i) {
    const char c = w[i];
    if (c == '\n') {
      if (i == 0 || w[i - 1] != '\r') {
        s.bad = http::error::bad_line_ending;  // a bare LF
      } else if (i + 1 == w.size()) {
        break;  // the next byte tells whether the line goes on
      } else if (!continues_line(w[i + 1])) {
        s.cut = start + i + 2;
      }
    } else if (c == '\r') {
      if (i + 1 == w.size()) break;  // CR must be followed by LF: wait for the next byte
      if (w[i + 1] != '\n') s.bad = http::error::bad_line_ending;
    } else if (is_never_in_head(static_cast<unsigned char>(c))) {
      s.bad = http::error::bad_value;
    }
  }
  s.scanned = start + i;

  // Beast judges the ended lines, then at most two bytes of the next one (enough for the empty
  // line that ends the head).
  std::size_t n = 0;
  if (s.cut > start) {
    const std::size_t end = s.cut - start;
    n = put_some(p, data, 0, end, ec);
    if (!ec && !p.is_header_done() && end - n >= 3) {
      // It wants more of a line that has ended: a request or status line cut short inside its
      // fixed-width part ("HTTP/1.1", the status code) by the line end. Never valid.
      ec = h.start_line_done() ? http::error::bad_field : http::error::bad_version;
    }
    if (ec || p.is_header_done()) return n;
  }
  if (const std::size_t end = std::min(w.size(), n + 2); end > n) {
    n += put_some(p, data, n, end, ec);
    if (ec || p.is_header_done()) return n;
  }
  s.taken += n;
  if (s.bad) {
    ec = s.bad;
  } else if (data.size() >= budget) {
    ec = http::error::header_limit;  // the head has not ended within its bound
  }
  return n;
}

// The body phase: one put() stops after each step (a chunk header, a piece of a chunk); the
// caller wants everything `data` holds, so it goes on until the parser takes nothing more.
//
// Beast lets the quoted value of a chunk extension run past the line's CRLF: with the whole
// body at hand it waits for a closing quote (forever, if there is none), in reads it fails or
// even charges the chunk to the body limit again on every look (finding F3). RFC 9112 7.1.1
// allows no CR or LF inside a quoted-string, so a chunk line whose quote is still open at its
// CRLF is malformed: it is refused as soon as that CRLF has arrived, however the bytes came.
template <class Parser>
std::size_t feed_body(Parser& p, read_state& s, std::string_view data, error_code& ec) {
  ec = {};
  std::size_t total = 0;
  bool need_more = false;
  do {
    std::size_t n = p.put(boost::asio::const_buffer(data.data() + total, data.size() - total), ec);
    total += n;
    if (ec == http::error::need_more) {
      ec = {};
      need_more = true;
      break;
    }
    if (ec || n == 0) break;
  } while (total < data.size() && !p.is_done());
  s.body_taken += total;
  if (need_more && p.chunked() && !p.is_done()) {
    // Only a chunk line (after the CRLF ending the previous chunk's data) can be pending here.
    if (s.chunk_line_at != s.body_taken) {
      s.chunk_line_at = s.body_taken;
      s.chunk_line_searched = 0;
      s.chunk_line_ok = false;
    }
    if (!s.chunk_line_ok) {
      std::string_view line = data.substr(total);
      if (line.substr(0, 2) == "\r\n") line.remove_prefix(2);
      const std::size_t cr = line.find('\r', s.chunk_line_searched);
      s.chunk_line_searched = cr == k_npos ? line.size() : cr;  // each byte searched once
      if (cr != k_npos && cr + 1 < line.size()) {
        bool quoted = false;
        for (std::size_t i = 0; i < cr; ++i) {
          if (line[i] == '"') {
            quoted = !quoted;
          } else if (quoted && line[i] == '\\') {
            ++i;  // a quoted-pair
          }
        }
        if (quoted) {
          ec = http::error::bad_chunk_extension;
        } else {
          s.chunk_line_ok = true;  // it ended and is closed: the parser waits for trailers
        }
      }
    }
  }
  return total;
}

// The head: one put() first (a head that arrives whole costs nothing more); if the head has
// not ended there, it starts again line by line (feed_lines), which is the verdict from then on.
template <class Head>
std::size_t feed_message(Head& h, std::string_view data, std::uint32_t limit, error_code& ec) {
  read_state& s = h.rs;
  if (h.p->is_header_done()) return feed_body(*h.p, s, data, ec);
  if (data.empty()) {
    ec = {};
    return 0;  // nothing arrived yet: keep the one-put path for the first bytes
  }
  if (!s.line_by_line) {
    ec = {};
    std::size_t n = h.p->put(boost::asio::const_buffer(data.data(), data.size()), ec);
    // Beast bounds the request or status line and then the fields each by the limit on their
    // own; the bound is on the whole head (from its first byte, as feed_lines counts it).
    if (!ec && h.p->is_header_done() && n <= limit) return n;
    h.restart();  // a fresh parser and fields: nothing of this head was kept by the caller
    h.rs.line_by_line = true;
  }
  return feed_lines(h, data, limit, ec);
}

}  // namespace albsim::proxy::head_reading
