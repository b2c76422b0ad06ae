// Sending one buffer on a TCP socket without a trip through the event loop when the socket
// takes it at once (the common case for heads and small bodies).
#pragma once

#include <string_view>

#include <boost/asio/ip/tcp.hpp>

#include "task.hpp"

namespace albsim::proxy {

// What the socket takes at once goes straight out with send() (cheaper in the kernel than
// sendmsg() with two pieces); only a full socket buffer makes it wait, through Asio as usual.
task<boost::system::error_code> send_all(boost::asio::ip::tcp::socket& socket,
                                         std::string_view data);

}  // namespace albsim::proxy
