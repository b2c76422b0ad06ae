#include "response_stream.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

namespace albsim::test {
namespace http = boost::beast::http;

std::string received_response::header(const std::string& name) const {
  for (const auto& [k, v] : fields) {
    if (boost::beast::iequals(k, name)) return v;
  }
  return {};
}

response_stream split_responses(const std::string& raw) {
  response_stream out;
  std::size_t at = 0;
  while (at < raw.size()) {
    http::response_parser<http::string_body> p;
    p.eager(true);
    p.body_limit(boost::none);
    boost::system::error_code ec;
    std::size_t used = p.put(boost::asio::buffer(raw.data() + at, raw.size() - at), ec);
    at += used;
    if (!p.is_done() && p.is_header_done() && p.need_eof() && !ec) {
      p.put_eof(ec);  // a body that runs to the close: everything received is the body
    }
    if (ec == http::error::need_more || (!ec && !p.is_done())) {
      out.incomplete = true;
      return out;
    }
    if (ec) {
      out.trailing_garbage = true;
      return out;
    }
    received_response r;
    r.status = p.get().result_int();
    r.chunked = p.chunked();
    for (const auto& f : p.get()) r.fields.emplace_back(f.name_string(), f.value());
    r.body = p.get().body();
    out.responses.push_back(std::move(r));
    if (used == 0) break;
  }
  return out;
}

}  // namespace albsim::test
