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

#include "absl/status/status.h"
#include <boost/asio/any_io_executor.hpp>

struct redisAsyncContext;

namespace switchyard::redis {

// Attaches an adapter to `context`, whose socket must be open. Call on the executor's thread,
// once per context, before issuing commands. On error nothing is attached.
absl::Status AttachAsioAdapter(redisAsyncContext* context, boost::asio::any_io_executor executor);

}  // namespace switchyard::redis
