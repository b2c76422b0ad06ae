#include "tls_request.hpp"

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <cctype>

namespace albsim::scenarios {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using clock = std::chrono::steady_clock;
using error_code = boost::system::error_code;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// The bound of the closing TLS shutdown: the response is complete by then, so a peer that does
// not answer the close_notify must not hold the scenario.
constexpr auto k_shutdown_bound = std::chrono::milliseconds(500);
// Bodies are kept in memory here (the plain client counts them instead); scenarios over TLS
// need no more.
constexpr std::uint64_t k_body_limit = 64ULL << 20;

// The client's view of a failed step, in the words of the observations (docs/scenarios.md).
const char* outcome_of(const error_code& ec) {
  if (ec == beast::error::timeout) return "timeout";
  if (ec == asio::error::connection_refused) return "refused";
  if (ec == asio::error::connection_reset || ec == asio::error::broken_pipe) return "reset";
  if (ec == http::error::end_of_stream || ec == asio::error::eof ||
      ec == asio::ssl::error::stream_truncated) {
    return "closed";
  }
  return "error";
}

class tls_exchange {
 public:
  tls_exchange(const client_script& s, client_run& run, clock::time_point origin)
      : script_(s), run_(run), origin_(origin) {}

  asio::awaitable<void> run(asio::ssl::context& ctx, asio::ip::tcp::endpoint to) {
    beast::ssl_stream<beast::tcp_stream> stream(co_await asio::this_coro::executor, ctx);
    auto& tcp = beast::get_lowest_layer(stream);
    tcp.expires_after(script_.timeout);
    note("connect to " + to.address().to_string() + ":" + std::to_string(to.port()));
    auto [ec] = co_await tcp.async_connect(to, use_tuple);
    if (ec) co_return fail("connect failed", ec);
    std::tie(ec) = co_await stream.async_handshake(asio::ssl::stream_base::client, use_tuple);
    if (ec) co_return fail("TLS handshake failed", ec);
    const std::string protocol = SSL_get_version(stream.native_handle());
    const char* cipher = SSL_get_cipher_name(stream.native_handle());
    obs()["tls_protocol"] = protocol;
    obs()["tls_cipher"] = cipher ? cipher : "";
    note("TLS handshake done: " + protocol + ", " + (cipher ? cipher : "?"));

    std::size_t sent = 0;
    std::tie(ec, sent) = co_await http::async_write(stream, request(), use_tuple);
    obs()["sent_bytes"] = sent;
    if (ec) co_return fail("sending failed", ec);
    note("sent the request (" + std::to_string(sent) + " bytes)");

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(k_body_limit);
    std::tie(ec, std::ignore) = co_await http::async_read(stream, buffer, parser, use_tuple);
    if (ec) co_return fail("reading the response failed", ec);
    observe(parser.get());
    tcp.expires_after(k_shutdown_bound);
    co_await stream.async_shutdown(use_tuple);
  }

 private:
  nlohmann::json& obs() { return run_.observation; }

  void note(const std::string& what) {
    run_.events.push_back(
        {std::chrono::duration<double>(clock::now() - origin_).count(), "client", what});
  }

  void finish(const char* outcome) {
    obs()["outcome"] = outcome;
    obs()["elapsed"] = std::chrono::duration<double>(clock::now() - start_).count();
  }

  void fail(const std::string& step, const error_code& ec) {
    note(step + ": " + ec.message());
    finish(outcome_of(ec));
  }

  http::request<http::string_body> request() const {
    http::request<http::string_body> req;
    req.method_string(script_.method);
    req.target(script_.path);
    req.version(11);
    req.set(http::field::host, "albsim.test");
    req.set(http::field::user_agent, "albsim-scenario");
    for (const auto& [name, value] : script_.headers) req.insert(name, value);
    req.set(http::field::connection, "close");
    if (script_.body_bytes > 0) {
      req.body().assign(static_cast<std::size_t>(script_.body_bytes), 'b');
      req.prepare_payload();
    }
    return req;
  }

  void observe(const http::response<http::string_body>& res) {
    nlohmann::json headers = nlohmann::json::object();
    for (const auto& field : res) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      headers[name] = std::string(field.value());
    }
    obs()["status"] = res.result_int();
    obs()["reason"] = std::string(res.reason());
    obs()["headers"] = headers;
    obs()["body_bytes"] = res.body().size();
    obs()["responses"] = 1;
    note("response " + std::to_string(res.result_int()) + " " + std::string(res.reason()) + ", " +
         std::to_string(res.body().size()) + " body bytes");
    finish("response");
  }

  const client_script& script_;
  client_run& run_;
  clock::time_point origin_;
  clock::time_point start_ = clock::now();
};

}  // namespace

void run_tls_request(const client_script& s, const std::string& address, std::uint16_t port,
                     client_run& run, clock::time_point origin) {
  run.exchanges = 1;
  error_code ec;
  auto ip = asio::ip::make_address(address, ec);
  if (ec) {
    run.observation["outcome"] = "error";
    run.events.push_back({0, "client", "not an IP address: " + address});
    return;
  }
  asio::io_context io;
  // The listener's certificate is self-signed (generated at start): the client does not verify
  // it, like `curl -k`.
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_verify_mode(asio::ssl::verify_none);
  tls_exchange exchange(s, run, origin);
  asio::co_spawn(io, exchange.run(ctx, asio::ip::tcp::endpoint(ip, port)), asio::detached);
  io.run();
}

}  // namespace albsim::scenarios
