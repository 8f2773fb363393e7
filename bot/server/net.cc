#include "bot/server/net.h"

#include "bot/server/log.h"

namespace runbot {

void fail(beast::error_code ec, const char* what) {
  if (ec == net::error::operation_aborted || ec == websocket::error::closed || ec == http::error::end_of_stream ||
      ec == net::error::eof || ec == net::error::connection_reset || ec == net::error::broken_pipe ||
      ec == net::error::not_connected || ec == beast::error::timeout)
    return;
  log_event(LogLevel::kWarn, "net_error", {{"op", what}, {"error", ec.message()}});
}

}  // namespace runbot
