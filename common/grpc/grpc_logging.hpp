#pragma once

// gRPC's own log lines (connection errors, bind failures) written through our JSON logger, so
// every line a process prints is JSON with its service name.

namespace switchyard {

class Logger;

// Process-wide; `logger` must live until exit (main's logger does).
void RouteGrpcLogsTo(Logger& logger);

}  // namespace switchyard
