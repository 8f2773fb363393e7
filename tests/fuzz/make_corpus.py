#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora under OUT_DIR/<target>/.

usage: tests/fuzz/make_corpus.py SOURCE_DIR OUT_DIR

Seeds come from the evaluation sets (tests/eval/*.jsonl) and the data
files, so they are generated at run time rather than committed. Each seed
file is named by a hash of its contents: running again adds nothing twice.
"""
import glob
import hashlib
import json
import os
import sys


def write(out_dir, target, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    path = os.path.join(out_dir, target)
    os.makedirs(path, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(path, name), "wb") as f:
        f.write(data)


def eval_sets(src):
    texts, conversations = [], []
    for path in sorted(glob.glob(os.path.join(src, "tests/eval/*.jsonl"))):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                record = json.loads(line)
                if "text" in record:
                    texts.append(record["text"])
                elif "turns" in record:
                    conversations.append([t["user"] for t in record["turns"]])
    return texts, conversations


def data_files(src):
    """The data files in the order data_loader_fuzzer.cc numbers them."""
    def folder(name):
        return sorted(name + "/" + n for n in os.listdir(os.path.join(src, name)) if n.endswith(".json"))
    return folder("bot/knowledge") + ["dialogs/data/triage.json"] + folder("intents/data")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip())
    src, out = sys.argv[1], sys.argv[2]
    texts, conversations = eval_sets(src)
    with open(os.path.join(src, "dialogs/data/triage.json"), encoding="utf-8") as f:
        slots = [s["name"] for s in json.load(f)["slots"]]

    # The protocol: every eval text as a message frame (which is also a POST
    # body), with string and integer ids; hello and reset frames.
    for i, text in enumerate(texts):
        frame = {"type": "message", "text": text, "id": "m%d" % i if i % 2 else i}
        write(out, "protocol_frame_fuzzer", json.dumps(frame, ensure_ascii=i % 3 == 0))
    for frame in ({"type": "hello"}, {"type": "hello", "session": None, "client": "web"},
                  {"type": "hello", "session": "A" * 32, "client": "terminal"}, {"type": "reset"}):
        write(out, "protocol_frame_fuzzer", json.dumps(frame))

    # The engine: saved state on the first line, one message a line. Eval
    # texts from a fresh session, each conversation whole, and each
    # conversation's turns against a state waiting for each slot with the
    # earlier slots answered.
    for text in texts:
        write(out, "engine_fuzzer", "\n" + text.replace("\n", " "))
    for turns in conversations:
        write(out, "engine_fuzzer", "\n" + "\n".join(t.replace("\n", " ") for t in turns))
    for k, slot in enumerate(slots):
        dialog = {"active": True, "pending": slot, "symptoms": ["pain"] if k % 2 else [],
                  "slots": {s: ("no" if j % 2 else "yes") for j, s in enumerate(slots[:k])}}
        if k >= 3:
            dialog["triage"] = "see_doctor"
            dialog["flags"] = ["swelling_warmth"]
        state = json.dumps({"v": 1, "turns": k + 1, "dialog": dialog}, separators=(",", ":"))
        for turns in conversations[k::len(slots)]:
            write(out, "engine_fuzzer", state + "\n" + "\n".join(t.replace("\n", " ") for t in turns[1:4]))
    concluded = {"v": 1, "turns": 9, "dialog": {"concluded": True, "triage": "self_care",
                                                  "slots": {s: ("5" if s == "duration" else "no") for s in slots}}}
    write(out, "engine_fuzzer", json.dumps(concluded) + "\nthanks\nstart over\nmy knee hurts again")

    # The loaders: the first byte picks the file (data_loader_fuzzer.cc).
    # intents/data seeds only when that target fuzzes them (RUNBOT_FUZZ_INTENTS=1):
    # otherwise their size (concepts.json: 67 KB) sets libFuzzer's -max_len and
    # slows every input.
    with_intents = os.environ.get("RUNBOT_FUZZ_INTENTS") == "1"
    for index, name in enumerate(data_files(src)):
        if name.startswith("intents/") and not with_intents:
            continue
        with open(os.path.join(src, name), "rb") as f:
            write(out, "data_loader_fuzzer", bytes([index]) + f.read())

    # Telegram: getUpdates bodies with text messages from the eval sets, a
    # button press and a non-text message; single updates; API errors.
    for i, text in enumerate(texts[::7]):
        update = {"update_id": 1000 + i, "message": {"message_id": i, "chat": {"id": 42 + i, "type": "private"},
                                                     "from": {"id": 42 + i, "first_name": "R"}, "date": 1700000000,
                                                     "text": text}}
        write(out, "telegram_update_fuzzer", json.dumps({"ok": True, "result": [update]}))
        if i % 5 == 0:
            write(out, "telegram_update_fuzzer", json.dumps(update))
    return 0


if __name__ == "__main__":
    sys.exit(main())
