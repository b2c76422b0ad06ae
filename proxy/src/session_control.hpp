// The interface through which a worker stops its live connections.
#pragma once

namespace albsim::proxy {

// What the worker can ask of a live connection when the proxy stops.
class session_control {
 public:
  virtual ~session_control() = default;
  // Finish the request in progress (if any), then close; an idle connection closes now.
  virtual void drain() = 0;
  // Give up on the request in progress now (it is logged as interrupted), then close.
  virtual void abort() = 0;
  // After the worker's thread has ended: free a connection that can no longer resume.
  virtual void destroy_stranded() = 0;
};

}  // namespace albsim::proxy
