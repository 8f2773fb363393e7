// BridgeStore: the bridge's own SQLite file (--db): the getUpdates offset,
// every update received and not yet answered (the inbox), the ids of the
// updates already answered, and the runbot session of each chat.
//
// Why an inbox: Telegram forgets every update below the offset of the next
// getUpdates. Were the offset held back until each reply was sent, one slow
// chat would pin it, every poll would return the same backlog at once (a
// busy loop), and past 100 waiting updates new ones would not be seen at
// all. So a batch of updates and the offset past it are committed in one
// transaction before that offset is ever sent to Telegram; an update is
// marked answered in another transaction after its reply was sent. After a
// crash or a restart the unanswered updates come back from the inbox, and
// one answered is never answered again.
//
// Only what is needed to answer is stored (chat id, text, button id), and
// the text is cleared once the update is answered.
//
// Thread safety: all methods may be called from any thread (one connection,
// one mutex; every statement is short). Failures come back as false/nullopt
// with error() set, never as exceptions.
#ifndef RUNBOT_BOT_BRIDGES_BRIDGE_STORE_H_
#define RUNBOT_BOT_BRIDGES_BRIDGE_STORE_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "bot/bridges/telegram_types.h"

struct sqlite3;

namespace runbot::telegram {

class BridgeStore {
 public:
  // Opens or creates the file (its folder must exist). nullptr with
  // *error set when it cannot be opened or is not a bridge database.
  static std::unique_ptr<BridgeStore> open(const std::string& path, std::string* error);
  ~BridgeStore();
  BridgeStore(const BridgeStore&) = delete;
  BridgeStore& operator=(const BridgeStore&) = delete;

  // The offset for the next getUpdates: one past the newest update stored. 0 at first.
  int64_t offset();

  // In one transaction: stores each update of `batch` not seen before
  // (kIgnored ones as already answered: nothing to answer) and raises the
  // offset to `next_offset`. Returns the newly stored updates that need an
  // answer, in update_id order; nullopt when the transaction failed (then
  // nothing was stored and the offset must not be sent to Telegram).
  std::optional<std::vector<Update>> accept(const std::vector<Update>& batch, int64_t next_offset);

  // The updates stored and not yet answered, in update_id order.
  std::optional<std::vector<Update>> pending();

  // Marks the update answered and forgets its text. False on failure.
  bool mark_answered(int64_t update_id);
  // True iff the update is stored and answered.
  bool answered(int64_t update_id);

  // The runbot session token of a chat, "" when it has none yet.
  std::optional<std::string> session(int64_t chat_id);
  bool set_session(int64_t chat_id, const std::string& token);

  // The last failure's text.
  std::string error();

 private:
  explicit BridgeStore(sqlite3* db) : db_(db) {}
  bool exec(const char* sql);
  bool fail(const char* what);

  std::mutex mu_;
  sqlite3* db_;
  std::string error_;
};

}  // namespace runbot::telegram

#endif  // RUNBOT_BOT_BRIDGES_BRIDGE_STORE_H_
