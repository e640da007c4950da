#include "e2e/http_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "e2e/support.h"

namespace e2e {

HttpReply http_raw(int port, const std::string& request) {
  HttpReply reply;
  const int fd = connect_loopback(port);
  if (fd < 0) return reply;
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the server may answer and close before reading all
    sent += static_cast<size_t>(n);
  }
  std::string data;
  char buf[65536];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 30000) <= 0) break;  // 30 s without a byte: give up
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
    size_t end = data.find("\r\n\r\n");
    if (end == std::string::npos) continue;
    // Stop at Content-Length rather than waiting for the close.
    std::string head = data.substr(0, end);
    for (char& c : head)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    size_t cl = head.find("\r\ncontent-length:");
    if (cl != std::string::npos &&
        data.size() >= end + 4 + std::strtoul(head.c_str() + cl + 17, nullptr, 10))
      break;
  }
  ::close(fd);
  size_t end = data.find("\r\n\r\n");
  if (data.rfind("HTTP/1.", 0) != 0 || end == std::string::npos) return reply;
  reply.status = std::atoi(data.c_str() + 9);
  reply.headers = data.substr(0, end);
  reply.body = data.substr(end + 4);
  return reply;
}

HttpReply http_get(int port, const std::string& target, const std::string& extra_headers) {
  return http_raw(port, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                            "\r\nConnection: close\r\n" + extra_headers + "\r\n");
}

}  // namespace e2e
