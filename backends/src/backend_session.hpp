// One accepted connection of the faulty backend: parses requests (bodies streamed and
// discarded), asks the router what to do, and does it on the real socket.
#pragma once

#include <boost/asio/ip/tcp.hpp>

namespace albsim::backend {

struct server_context;

// Serves `socket` on its executor until the connection ends; a failure stays on this
// connection. `ctx` must outlive the io_context the socket belongs to.
void start_session(boost::asio::ip::tcp::socket socket, server_context& ctx);

}  // namespace albsim::backend
