#include "http_heads.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>

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
  return request_failure::bad_framing;
}

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
          h.host.assign(value);
          break;
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
          if (boost::beast::iequals(name, "x-real-ip")) h.x_real_ip.assign(value);
          break;
      }
      if (!is_hop_by_hop(f)) append_field(h.fields, name, value);
    }
  };

  head_limits limits;
  std::optional<parser> p;
  std::string method, target, host, user_agent, referer, xff, x_real_ip, fields;
  int version = 11;
  bool trace = false, head = false, expect_continue = false;

  void reset(const head_limits& l) {
    limits = l;
    for (auto* str : {&method, &target, &host, &user_agent, &referer, &xff, &x_real_ip, &fields})
      str->clear();
    version = 11;
    trace = head = expect_continue = false;
    p.emplace(*this);
  }
};

request_head::request_head(const head_limits& limits) : impl_(std::make_unique<impl>()) {
  impl_->reset(limits);
}
request_head::~request_head() = default;
void request_head::reset(const head_limits& limits) { impl_->reset(limits); }

std::size_t request_head::feed(std::string_view data, error_code& ec) {
  ec = {};
  std::size_t n = impl_->p->put(boost::asio::const_buffer(data.data(), data.size()), ec);
  if (ec == http::error::need_more) ec = {};
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
const std::string& request_head::user_agent() const { return impl_->user_agent; }
const std::string& request_head::referer() const { return impl_->referer; }
const std::string& request_head::x_forwarded_for() const { return impl_->xff; }
const std::string& request_head::x_real_ip() const { return impl_->x_real_ip; }
bool request_head::expects_continue() const { return impl_->expect_continue; }
const std::string& request_head::forward_fields() const { return impl_->fields; }

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
      h.status = code;
      h.reason.assign(r);
    }
    void on_field_impl(http::field f, bsv name, bsv value, error_code&) override {
      if (!is_hop_by_hop(f)) append_field(h.fields, name, value);
    }
  };

  std::optional<parser> p;
  int status = 0;
  std::string reason, fields;

  void reset(bool head_request, std::uint32_t max_header_block) {
    status = 0;
    reason.clear();
    fields.clear();
    p.emplace(*this, head_request, max_header_block);
  }
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
  ec = {};
  std::size_t n = impl_->p->put(boost::asio::const_buffer(data.data(), data.size()), ec);
  if (ec == http::error::need_more) ec = {};
  return n;
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
