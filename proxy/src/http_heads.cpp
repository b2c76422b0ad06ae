#include "http_heads.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>

#include <cctype>
#include <charconv>
#include <optional>

namespace albsim::proxy {
namespace http = boost::beast::http;
using bsv = boost::beast::string_view;

namespace {

class head_error_category_impl : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "albsim.head"; }
  std::string message(int ev) const override {
    switch (static_cast<head_error>(ev)) {
      case head_error::uri_too_long:
        return "request target too long";
      case head_error::header_line_too_long:
        return "header line too long";
      case head_error::conflicting_framing:
        return "conflicting framing";
      case head_error::transfer_coding_not_chunked:
        return "the final transfer coding is not chunked (RFC 9112 6.3)";
      case head_error::chunked_twice:
        return "chunked is applied more than once (RFC 9112 7)";
      case head_error::transfer_encoding_in_http10:
        return "an HTTP/1.0 request with Transfer-Encoding has faulty framing (RFC 9112 6.1)";
      case head_error::missing_host:
        return "an HTTP/1.1 request without Host (RFC 9112 3.2)";
      case head_error::repeated_host:
        return "more than one Host field line (RFC 9112 3.2)";
      case head_error::invalid_host:
        return "the Host value is not a valid host[:port] (RFC 9112 3.2)";
      case head_error::invalid_absolute_target:
        return "an absolute-form target without a valid authority (RFC 9112 3.2.2)";
      case head_error::head_too_large:
        return "the head grew past its bound without ending";
    }
    return "unknown";
  }
};

// Fields that describe one connection, not the message: never forwarded (RFC 9110 7.6.1).
bool is_hop_by_hop(http::field f) {
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

template <class F>
void for_each_line(const std::string& s, F&& f) {
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t j = s.find('\n', i);
    if (j == std::string::npos) j = s.size();
    f(bsv(s.data() + i, j - i));
    i = j + 1;
  }
}

// RFC 3986 authority characters (reg-name, IP-literal, port): what a Host value may hold.
bool is_host_char(unsigned char c) {
  static constexpr std::string_view extra = "-._~!$&'()*+,;=%:[]";
  return std::isalnum(c) || extra.find(static_cast<char>(c)) != std::string_view::npos;
}
bool valid_host(bsv v) {
  for (unsigned char c : v) {
    if (!is_host_char(c)) return false;
  }
  return v.empty() || v.front() != ':';
}

// Calls `f` for each element of a comma-separated list, trimmed of optional white space.
template <class F>
void for_each_token(bsv list, F&& f) {
  std::size_t i = 0;
  while (i <= list.size()) {
    std::size_t j = list.find(',', i);
    if (j == bsv::npos) j = list.size();
    bsv t = list.substr(i, j - i);
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    if (!t.empty()) f(t);
    i = j + 1;
  }
}

// Removes the lines of `fields` ("Name: value\r\n" each) whose name is in `names` ('\n'-separated).
void drop_named_fields(std::string& fields, const std::string& names) {
  std::string kept;
  std::size_t i = 0;
  while (i < fields.size()) {
    std::size_t eol = fields.find("\r\n", i);
    std::size_t colon = fields.find(':', i);
    bsv name(fields.data() + i, colon - i);
    bool drop = false;
    for_each_line(names, [&](bsv n) { drop = drop || boost::beast::iequals(n, name); });
    if (!drop) kept.append(fields, i, eol + 2 - i);
    i = eol + 2;
  }
  fields.swap(kept);
}

void append_field(std::string& out, bsv name, bsv value) {
  out.append(name.data(), name.size())
      .append(": ")
      .append(value.data(), value.size())
      .append("\r\n");
}

}  // namespace

const boost::system::error_category& head_error_category() {
  static head_error_category_impl c;
  return c;
}

error_code make_error_code(head_error e) {
  return error_code(static_cast<int>(e), head_error_category());
}

bool is_need_more(const error_code& ec) { return ec == http::error::need_more; }

request_failure classify_request_error(const error_code& ec, std::string_view received,
                                       std::uint64_t max_uri, std::string* detail) {
  auto say = [&](std::string s) {
    if (detail) *detail = std::move(s);
  };
  if (ec == head_error::uri_too_long) {
    say("request target over " + std::to_string(max_uri) + " bytes");
    return request_failure::uri_too_long;
  }
  if (ec == head_error::header_line_too_long) {
    say("a header line over the limit");
    return request_failure::header_line_too_long;
  }
  if (ec == head_error::head_too_large) {
    say("the request head grew past its bound without ending");
    return request_failure::header_line_too_long;
  }
  if (ec == http::error::header_limit) {
    // The whole head outgrew its bound before it ended: blame the request line when it alone
    // is over the URI limit (or has not even ended yet), else an over-long header line.
    auto eol = received.find("\r\n");
    std::size_t line = eol == std::string_view::npos ? received.size() : eol;
    if (line > max_uri) {
      say("request line of " + std::to_string(line) + "+ bytes");
      return request_failure::uri_too_long;
    }
    say("the request head grew past its bound without ending");
    return request_failure::header_line_too_long;
  }
  say(ec.message());
  // The length of the message cannot be trusted: Content-Length trouble, or a body whose chunks
  // do not parse. Everything else is a malformed head.
  if (ec == http::error::bad_content_length || ec == http::error::multiple_content_length ||
      ec == head_error::conflicting_framing || ec == http::error::bad_chunk ||
      ec == http::error::bad_chunk_extension || ec == http::error::body_limit ||
      ec == http::error::partial_message) {
    return request_failure::bad_framing;
  }
  return request_failure::invalid_head;
}

namespace {

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

}  // namespace

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

// ---------------------------------------------------------------------------------------------
// A head object is reused for every request of a connection: reset() starts a fresh parser in
// place and keeps the strings' memory, so parsing a request allocates nothing once warm.
struct request_head::impl {
  struct parser : framing_parser<true> {
    impl& h;
    explicit parser(impl& owner) : h(owner) {
      header_limit(static_cast<std::uint32_t>(owner.limits.max_header_block));
      body_limit(owner.limits.max_body);
    }
    void on_request_impl(http::verb v, bsv method_str, bsv t, int ver, error_code& ec) override {
      h.start_line = true;
      h.method.assign(method_str);
      h.version = ver;
      h.trace = v == http::verb::trace;
      h.head = v == http::verb::head;
      if (t.size() > h.limits.max_uri) {
        ec = head_error::uri_too_long;
        return;
      }
      h.target.assign(t);
    }
    void on_response_impl(int, bsv, int, error_code&) override {}
    void on_field_impl(http::field f, bsv name, bsv value, error_code& ec) override {
      if (name.size() + value.size() > h.limits.max_header_line) {
        ec = head_error::header_line_too_long;
        return;
      }
      switch (f) {
        case http::field::host:
          if (++h.host_lines > 1) {
            ec = head_error::repeated_host;
          } else if (!valid_host(value)) {
            ec = head_error::invalid_host;
          }
          h.host.assign(value);
          return;  // written again by the proxy
        case http::field::content_length:
          h.content_length_seen = true;
          return;  // written again, normalised
        case http::field::transfer_encoding:
          // Beast keeps only whether chunked is last in one line; the whole list decides.
          if (!h.codings.empty()) h.codings += ',';
          h.codings.append(value.data(), value.size());
          return;
        case http::field::connection:
          for_each_token(value, [&](bsv t) {
            if (!boost::beast::iequals(t, "close") && !boost::beast::iequals(t, "keep-alive")) {
              h.connection_names.append(t.data(), t.size()).push_back('\n');
            }
          });
          return;
        case http::field::user_agent:
          h.user_agent.assign(value);
          break;
        case http::field::referer:
          h.referer.assign(value);
          break;
        case http::field::expect:
          h.expect_continue = boost::beast::iequals(value, "100-continue");
          break;
        default:
          if (boost::beast::iequals(name, "x-forwarded-for")) {
            if (!h.xff.empty()) h.xff += ", ";
            h.xff.append(value.data(), value.size());
            return;  // rewritten by the proxy
          }
          if (boost::beast::iequals(name, "alicloud-alb-trace")) {
            if (!h.trace_in.empty()) h.trace_in += ", ";
            h.trace_in.append(value.data(), value.size());
            return;  // the proxy appends its own entry
          }
          if (boost::beast::iequals(name, "x-real-ip")) h.x_real_ip.assign(value);
          break;
      }
      if (!is_hop_by_hop(f)) append_field(h.fields, name, value);
    }
    void on_header_impl(error_code& ec) override { h.finish_header(*this, ec); }
  };

  head_limits limits;
  std::optional<parser> p;
  std::string method, target, host, user_agent, referer, xff, x_real_ip, trace_in, fields;
  std::string codings;           // every Transfer-Encoding line, comma-joined
  std::string connection_names;  // fields the Connection header names, '\n'-terminated
  std::string framing;           // the normalised framing field
  int version = 11;
  int host_lines = 0;
  bool start_line = false;
  bool trace = false, head = false, expect_continue = false, content_length_seen = false;
  read_state rs;

  void reset(const head_limits& l) {
    limits = l;
    rs = {};
    start_line = false;
    for (auto* str : {&method, &target, &host, &user_agent, &referer, &xff, &x_real_ip, &trace_in,
                      &fields, &codings, &connection_names, &framing})
      str->clear();
    version = 11;
    host_lines = 0;
    trace = head = expect_continue = content_length_seen = false;
    p.emplace(*this);
  }
  void restart() { reset(head_limits(limits)); }
  bool start_line_done() const { return start_line; }

  // The checks that need the whole head (RFC 9112 3.2, 6.1, 6.3, 7), then the forwarded fields.
  void finish_header(const parser& ps, error_code& ec) {
    if (!codings.empty()) {
      if (version == 10) {
        ec = head_error::transfer_encoding_in_http10;
        return;
      }
      int chunked = 0;
      bool last_chunked = false;
      for_each_token(codings, [&](bsv t) {
        last_chunked = boost::beast::iequals(t, "chunked");
        chunked += last_chunked;
      });
      if (chunked > 1) {
        ec = head_error::chunked_twice;
        return;
      }
      if (!last_chunked) {
        ec = head_error::transfer_coding_not_chunked;
        return;
      }
    }
    if (!absolute_form(ec)) return;
    if (host_lines == 0 && version == 11 && !absolute) {
      ec = head_error::missing_host;
      return;
    }
    if (!connection_names.empty()) drop_named_fields(fields, connection_names);
    if (ps.chunked()) {
      // The codings the client applied, chunked last: dropping one would change the body.
      framing = "Transfer-Encoding: ";
      bool first = true;
      for_each_token(codings, [&](bsv t) {
        framing.append(first ? "" : ", ");
        for (char ch : t)
          framing += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        first = false;
      });
      framing += "\r\n";
    } else if (auto n = ps.content_length(); n && *n > 0) {
      framing.assign("Content-Length: ").append(std::to_string(*n)).append("\r\n");
    } else if (content_length_seen) {
      framing = "Content-Length: 0\r\n";
    }
  }

  // An absolute-form target (RFC 9112 3.2.2) names the host itself: the Host field is ignored
  // and the target forwarded in origin-form.
  bool absolute = false;
  bool absolute_form(error_code& ec) {
    absolute = false;
    std::size_t scheme_end = 0;
    if (target.size() >= 7 && boost::beast::iequals(bsv(target.data(), 7), "http://")) {
      scheme_end = 7;
    } else if (target.size() >= 8 && boost::beast::iequals(bsv(target.data(), 8), "https://")) {
      scheme_end = 8;
    } else {
      return true;
    }
    std::size_t path = target.find_first_of("/?", scheme_end);
    if (path == std::string::npos) path = target.size();
    bsv authority(target.data() + scheme_end, path - scheme_end);
    if (authority.empty() || authority.find('@') != bsv::npos || !valid_host(authority)) {
      ec = head_error::invalid_absolute_target;
      return false;
    }
    absolute = true;
    host.assign(authority.data(), authority.size());
    std::string origin = path < target.size() ? target.substr(path) : std::string("/");
    if (origin.front() == '?') origin.insert(0, "/");
    target.swap(origin);
    return true;
  }
};

request_head::request_head(const head_limits& limits) : impl_(std::make_unique<impl>()) {
  impl_->reset(limits);
}
request_head::~request_head() = default;
void request_head::reset(const head_limits& limits) { impl_->reset(limits); }

namespace {

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

bool continues_line(char c) { return c == ' ' || c == '\t'; }  // obs-fold (RFC 9112 5.2)

// A byte no request or status line and no field line may hold anywhere (Beast refuses each of
// them wherever it meets it): a control other than HTAB, CR and LF, or DEL.
bool is_never_in_head(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

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

}  // namespace

std::size_t request_head::feed(std::string_view data, error_code& ec) {
  std::size_t n = feed_message(*impl_, data, impl_->limits.max_header_block, ec);
  // Over the bound after a valid request line: the fields are to blame. (Told apart here, as
  // the bytes the caller still holds no longer begin with the request line.)
  if (ec == http::error::header_limit && impl_->start_line) ec = head_error::head_too_large;
  // The parser reports Transfer-Encoding after Content-Length as a bad Transfer-Encoding; it is
  // the two together that make the length untrustworthy.
  if (ec == http::error::bad_transfer_encoding && impl_->content_length_seen) {
    ec = head_error::conflicting_framing;
  }
  return n;
}

bool request_head::header_done() const { return impl_->p->is_header_done(); }
bool request_head::done() const { return impl_->p->is_done(); }
bool request_head::keep_alive() const { return impl_->p->keep_alive(); }
bool request_head::chunked() const { return impl_->p->chunked(); }
std::optional<std::uint64_t> request_head::content_length() const {
  auto v = impl_->p->content_length();
  if (!v) return std::nullopt;
  return *v;
}
const std::string& request_head::method() const { return impl_->method; }
const std::string& request_head::target() const { return impl_->target; }
int request_head::version() const { return impl_->version; }
bool request_head::is_trace() const { return impl_->trace; }
bool request_head::is_head() const { return impl_->head; }
const std::string& request_head::host() const { return impl_->host; }
bool request_head::has_host() const { return impl_->host_lines > 0 || impl_->absolute; }
const std::string& request_head::user_agent() const { return impl_->user_agent; }
const std::string& request_head::referer() const { return impl_->referer; }
const std::string& request_head::x_forwarded_for() const { return impl_->xff; }
const std::string& request_head::x_real_ip() const { return impl_->x_real_ip; }
bool request_head::expects_continue() const { return impl_->expect_continue; }
const std::string& request_head::trace() const { return impl_->trace_in; }
const std::string& request_head::forward_fields() const { return impl_->fields; }
std::string_view request_head::framing_field() const { return impl_->framing; }

// ---------------------------------------------------------------------------------------------
struct response_head::impl {
  struct parser : framing_parser<false> {
    impl& h;
    parser(impl& owner, bool head_request, std::uint32_t max_header_block) : h(owner) {
      header_limit(max_header_block);
      body_limit(boost::none);
      skip(head_request);
    }
    void on_request_impl(http::verb, bsv, bsv, int, error_code&) override {}
    void on_response_impl(int code, bsv r, int, error_code&) override {
      h.start_line = true;
      h.status = code;
      h.reason.assign(r);
    }
    void on_field_impl(http::field f, bsv name, bsv value, error_code&) override {
      if (f == http::field::content_length) {
        // Equal values in a list or on several lines (which the parser accepted) go out as one.
        if (h.content_length_seen) return;
        h.content_length_seen = true;
        auto n = content_length();
        if (n) value = h.length_text.assign(std::to_string(*n));
      }
      if (!is_hop_by_hop(f)) append_field(h.fields, name, value);
    }
  };

  std::optional<parser> p;
  int status = 0;
  bool content_length_seen = false;
  bool start_line = false;
  bool head_request = false;
  std::uint32_t max_header_block = 0;
  std::string reason, fields, length_text;
  read_state rs;

  void reset(bool head_req, std::uint32_t max_block) {
    head_request = head_req;
    max_header_block = max_block;
    rs = {};
    start_line = false;
    status = 0;
    content_length_seen = false;
    reason.clear();
    fields.clear();
    p.emplace(*this, head_request, max_header_block);
  }
  void restart() { reset(head_request, max_header_block); }
  bool start_line_done() const { return start_line; }
};

response_head::response_head(bool head_request, std::uint32_t max_header_block)
    : impl_(std::make_unique<impl>()) {
  impl_->reset(head_request, max_header_block);
}
response_head::~response_head() = default;
void response_head::reset(bool head_request, std::uint32_t max_header_block) {
  impl_->reset(head_request, max_header_block);
}

std::size_t response_head::feed(std::string_view data, error_code& ec) {
  return feed_message(*impl_, data, impl_->max_header_block, ec);
}
void response_head::feed_eof(error_code& ec) {
  ec = {};
  impl_->p->put_eof(ec);
}
bool response_head::header_done() const { return impl_->p->is_header_done(); }
bool response_head::done() const { return impl_->p->is_done(); }
bool response_head::keep_alive() const { return impl_->p->keep_alive(); }
bool response_head::need_eof() const { return impl_->p->need_eof(); }
int response_head::status() const { return impl_->status; }
const std::string& response_head::reason() const { return impl_->reason; }
const std::string& response_head::forward_fields() const { return impl_->fields; }

}  // namespace albsim::proxy
