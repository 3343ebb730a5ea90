#pragma once

// Drives a hiredis 0.14 redisAsyncContext from a Boost.Asio executor.
//
// hiredis tells its event library, through the context's `ev` hooks, when it wants to read or
// write; the adapter answers each wish with an async_wait on a posix::stream_descriptor that wraps
// the context's socket and then calls redisAsyncHandleRead/Write. hiredis owns the socket: the
// descriptor is released, never closed. hiredis may free the context inside those calls (on a
// disconnect, or a deferred redisAsyncFree), which it announces through the `cleanup` hook; from
// then on no wait that is still pending touches the context, and the adapter frees itself once
// the last of them has completed.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <boost/asio/any_io_executor.hpp>

struct redisAsyncContext;

namespace switchyard::redis {

// Attaches an adapter to `context`, whose socket must be open. Call on the executor's thread,
// once per context, before issuing commands. On error nothing is attached.
absl::Status AttachAsioAdapter(redisAsyncContext* context, boost::asio::any_io_executor executor);

// Starts a non-blocking hiredis connection to `ip`:`port` (a numeric address, so hiredis does
// no lookup) and attaches an adapter on `executor`. On error nothing is left open and the status
// says why (UNAVAILABLE).
absl::StatusOr<redisAsyncContext*> OpenAsyncContext(const std::string& ip, int port,
                                                    boost::asio::any_io_executor executor);

}  // namespace switchyard::redis
