// The body type of the backend's request parser (session.hpp): the backend never needs a
// request body's bytes, only their number (the echo route reports it), so a connection's memory
// stays bounded whatever size a client uploads.
#pragma once

#include <boost/beast/http/parser.hpp>

#include <cstdint>

namespace albsim::backend {

// A request body type that counts and drops the bytes: memory stays bounded whatever the size.
struct discard_body {
  using value_type = std::uint64_t;

  class reader {
   public:
    template <bool is_request, class Fields>
    reader(boost::beast::http::header<is_request, Fields>&, value_type& count) : count_(count) {}
    void init(const boost::optional<std::uint64_t>&, boost::system::error_code& ec) { ec = {}; }
    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
      std::size_t n = boost::asio::buffer_size(buffers);
      count_ += n;
      ec = {};
      return n;
    }
    void finish(boost::system::error_code& ec) { ec = {}; }

   private:
    value_type& count_;
  };
};

using request_parser = boost::beast::http::request_parser<discard_body>;

}  // namespace albsim::backend
