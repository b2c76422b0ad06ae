// One client connection of the simulated balancer, from accept to its last access-log record
// (client_session.cpp).
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include "listener_endpoint.hpp"
#include "proxy_runtime.hpp"

namespace albsim::proxy {

struct worker;

// Starts serving one accepted connection (runs until the connection ends).
void start_client_session(proxy_runtime& rt, worker& w, const listener_endpoint& ep,
                          boost::asio::ip::tcp::socket socket);

}  // namespace albsim::proxy
