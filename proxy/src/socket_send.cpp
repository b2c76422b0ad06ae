// Sending one buffer on a TCP socket (socket_send.hpp).
#include "socket_send.hpp"

#include <sys/socket.h>
#include <cerrno>

#include <boost/asio/write.hpp>

namespace albsim::proxy {

task<boost::system::error_code> send_all(boost::asio::ip::tcp::socket& socket,
                                         std::string_view data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::send(socket.native_handle(), data.data() + done, data.size() - done,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    } else {
      co_return boost::system::error_code(errno, boost::system::system_category());
    }
  }
  if (done == data.size()) co_return boost::system::error_code{};
  auto [ec, n] = co_await boost::asio::async_write(
      socket, boost::asio::buffer(data.data() + done, data.size() - done), use_task);
  co_return ec;
}

}  // namespace albsim::proxy
