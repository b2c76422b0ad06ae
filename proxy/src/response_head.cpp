// The response side of the proxy's head parsing (http_heads.hpp): the status line and
// fields of a backend's answer, with the hop-by-hop fields removed and Content-Length
// normalised, then the body's framing.
#include "response_head.hpp"

#include "head_reading.hpp"

namespace albsim::proxy {
using namespace head_reading;

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
