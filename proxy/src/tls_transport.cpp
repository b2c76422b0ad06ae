#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <stdexcept>

#include "client_transport.hpp"

namespace albsim::proxy {
namespace {

class tls_transport final : public client_transport {
 public:
  tls_transport(tcp::socket s, asio::ssl::context& ctx) : stream_(std::move(s), ctx) {}

  task<std::tuple<error_code, std::size_t>> read_some(asio::mutable_buffer b) override {
    co_return co_await stream_.async_read_some(b, use_task);
  }
  task<std::tuple<error_code, std::size_t>> write(
      std::array<asio::const_buffer, 2> buffers) override {
    co_return co_await asio::async_write(stream_, buffers, use_task);
  }
  task<error_code> handshake() override {
    auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server, use_task);
    co_return ec;
  }
  task<void> shutdown() override {
    // A peer that has gone makes close_notify fail (or "stream truncated"): a normal end here.
    // The caller's deadline bounds this wait.
    co_await stream_.async_shutdown(use_task);
    error_code ec;
    stream_.next_layer().close(ec);
  }
  tcp::socket& socket() override { return stream_.next_layer(); }
  std::string ssl_protocol() const override { return SSL_get_version(stream_.native_handle()); }
  std::string ssl_cipher() const override {
    const char* c = SSL_get_cipher_name(stream_.native_handle());
    return c ? c : "";
  }

 private:
  mutable asio::ssl::stream<tcp::socket> stream_;
};

// A throwaway self-signed certificate: EC P-256, valid for localhost and 127.0.0.1.
void install_self_signed(asio::ssl::context& ctx) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  if (!key || !cert) throw std::runtime_error("cannot generate a TLS key");
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600L * 24 * 365);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("albsim"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* san =
      X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
  if (san) {
    X509_add_ext(cert, san, -1);
    X509_EXTENSION_free(san);
  }
  X509_sign(cert, key, EVP_sha256());
  SSL_CTX* native = ctx.native_handle();
  bool ok = SSL_CTX_use_certificate(native, cert) == 1 && SSL_CTX_use_PrivateKey(native, key) == 1;
  X509_free(cert);
  EVP_PKEY_free(key);
  if (!ok) throw std::runtime_error("cannot install the self-signed TLS certificate");
}

}  // namespace

std::unique_ptr<client_transport> make_tls_transport(tcp::socket socket, asio::ssl::context& ctx) {
  return std::make_unique<tls_transport>(std::move(socket), ctx);
}

std::unique_ptr<asio::ssl::context> make_server_tls_context(const std::string& certificate_file,
                                                            const std::string& private_key_file) {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1);
  if (certificate_file.empty() && private_key_file.empty()) {
    install_self_signed(*ctx);
  } else {
    error_code ec;
    ctx->use_certificate_chain_file(certificate_file, ec);
    if (ec)
      throw std::runtime_error("cannot load certificate '" + certificate_file +
                               "': " + ec.message());
    ctx->use_private_key_file(private_key_file, asio::ssl::context::pem, ec);
    if (ec)
      throw std::runtime_error("cannot load private key '" + private_key_file +
                               "': " + ec.message());
  }
  return ctx;
}

}  // namespace albsim::proxy
