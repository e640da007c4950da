// A minimal HTTP/1.1 client for the e2e tests of `resdex serve`: one
// request per connection, sent as given (no encoding), so that tests can
// send exactly the bytes a hostile client would.
#pragma once

#include <string>

namespace e2e {

struct HttpReply {
  int status = 0;  // 0: no reply (connection refused or closed early)
  std::string headers;  // the header block, status line included
  std::string body;
};

// Sends "GET target HTTP/1.1" to 127.0.0.1:port with Connection: close
// and reads the whole reply (Content-Length or until the server closes).
// `extra_headers` are added as written (each ending in "\r\n").
HttpReply http_get(int port, const std::string& target, const std::string& extra_headers = "");

// Raw bytes sent as a request; the reply as read.
HttpReply http_raw(int port, const std::string& request);

}  // namespace e2e
