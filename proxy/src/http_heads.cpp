// The request side of the proxy's head parsing (http_heads.hpp) and its error codes; the
// response side is response_head.cpp, what both share head_reading.hpp.
#include "http_heads.hpp"

#include <cctype>
#include <charconv>
#include <optional>

#include "head_reading.hpp"

namespace albsim::proxy {
using namespace head_reading;

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

}  // namespace albsim::proxy
