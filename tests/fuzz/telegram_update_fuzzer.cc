// libFuzzer target: what the Telegram bridge reads from the Bot API. The
// input is a response body as the HTTP client hands it over: it goes to
// parse_api_result, and each element of a getUpdates result to
// parse_update, as the bridge does. The input parsed as one JSON value also
// goes to parse_update directly, so single updates are fuzzed without the
// envelope. Neither function may throw, whatever the JSON holds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "bot/bridges/telegram_types.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using runbot::telegram::Update;
using runbot::telegram::UpdateKind;

void check_update(const nlohmann::json& j) {
  std::optional<Update> u = runbot::telegram::parse_update(j);
  if (!u) return;
  FUZZ_CHECK(u->update_id >= 0 && u->update_id < (int64_t{1} << 53));
  switch (u->kind) {
    case UpdateKind::kText:
    case UpdateKind::kButton:
      FUZZ_CHECK(!u->text.empty());
      break;
    case UpdateKind::kNotText:
    case UpdateKind::kExpiredButton:
    case UpdateKind::kIgnored:
      FUZZ_CHECK(u->text.empty());
      break;
  }
  // The text is sent on to runbot as JSON: it must serialise.
  (void)nlohmann::json{{"text", u->text}, {"id", u->callback_id}}.dump();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  if (auto result = runbot::telegram::parse_api_result(body)) {
    if (!result->ok) {
      FUZZ_CHECK(!result->retry_after || (*result->retry_after >= 0 && *result->retry_after <= 24 * 3600));
    } else if (result->result.is_array()) {
      for (const auto& element : result->result) check_update(element);
    }
  }
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded()) check_update(j);
  return 0;
}
