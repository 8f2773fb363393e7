/* runbot chat widget: a launcher button and a chat panel for any web page.
 *
 *   <script src="https://HOST/widget.js" defer></script>
 *
 * Speaks spec/protocol.md over ws(s)://HOST/chat (HOST from this script's own
 * URL, or from a data-server attribute). Plain DOM, no framework, no build.
 * Every piece of text enters the page through textContent or createTextNode:
 * nothing the user or the server sends is ever parsed as HTML.
 */
(function () {
  "use strict";

  // document.currentScript is only set while this file first runs.
  const script = document.currentScript;
  // The tag pasted twice must not open two sockets on one session.
  if (window.runbotWidget) return;

  const KEY_SESSION = "runbot.session"; // the session token (a secret: kept on this origin only)
  const KEY_HISTORY = "runbot.history"; // what the panel shows, so a reload shows it again
  const KEY_OUTBOX = "runbot.outbox"; // messages without a reply yet, re-sent with the same id
  const KEY_RESET = "runbot.reset"; // "start over" clicked while offline: send it on connect
  const MAX_HISTORY = 100; // entries kept; localStorage is small and shared with the host page
  const MAX_TEXT = 2000; // the server's max_text_chars; longer text gets error too_long
  const BACKOFF_BASE_MS = 500;
  const BACKOFF_MAX_MS = 30000; // a server down for long is retried twice a minute, not hammered
  // A sent message unanswered this long means a dead socket: phones that
  // change network leave half-open connections the browser notices only
  // minutes later. Re-sending is safe, the server answers a repeated id from
  // its store.
  const REPLY_TIMEOUT_MS = 20000;

  // Section titles of bot/knowledge/*.json. An unknown section still gets a
  // readable label from its id, so new knowledge files need no change here.
  const SECTION_LABELS = {
    biomechanics: "Biomechanics",
    conclusion: "Final thoughts",
    conditions: "Common causes",
    doctor: "When to see a doctor",
    exercises: "Exercises",
    faq: "FAQ",
    footwear: "Footwear",
    overview: "Overview",
    return: "Returning to running",
    self_care: "Self-care plan",
    takeaways: "Key takeaways",
    treatment: "Treatment",
    warmup: "Warm-up and cool-down",
  };
  const BANNERS = {
    see_doctor: "See a doctor or physio soon",
    emergency: "Urgent: get medical help now",
  };
  const STARTERS = ["The back of my knee hurts after running", "When should I see a doctor?", "Which exercises help?"];

  // --- where the server is ----------------------------------------------------

  // data-server wins; otherwise the folder this script was loaded from, so a
  // server behind a proxy path (https://club.org/runbot/widget.js) also works.
  function serverBase() {
    const explicit = script && script.getAttribute("data-server");
    if (explicit) return new URL(explicit.replace(/\/?$/, "/"), location.href);
    return new URL(".", (script && script.src) || location.href);
  }
  const base = serverBase();
  const wsUrl = (base.protocol === "https:" ? "wss:" : "ws:") + "//" + base.host + base.pathname + "chat";
  const cssUrl = new URL("widget.css", (script && script.src) || base).href;

  // --- storage: every call may throw (private mode, full quota, blocked) -------

  function load(key, fallback) {
    try {
      const v = localStorage.getItem(key);
      return v === null ? fallback : JSON.parse(v);
    } catch (e) {
      return fallback;
    }
  }
  function save(key, value) {
    try {
      localStorage.setItem(key, JSON.stringify(value));
    } catch (e) {
      // The chat still works; it just will not survive a reload.
    }
  }
  function loadToken() {
    try {
      return localStorage.getItem(KEY_SESSION);
    } catch (e) {
      return null;
    }
  }
  function saveToken(token) {
    try {
      localStorage.setItem(KEY_SESSION, token);
    } catch (e) {}
  }

  // Entries: {from:"user", id, text, failed?} | {from:"bot", text, triage,
  // sources, quick_replies} | {from:"note", text}.
  let history = asArray(load(KEY_HISTORY, [])).slice(-MAX_HISTORY);
  // Oldest first: {id, text, sent}. `sent` is per socket, so false after a load.
  let outbox = asArray(load(KEY_OUTBOX, [])).map((m) => ({ id: m.id, text: m.text, sent: false }));
  let pendingReset = load(KEY_RESET, false) === true;

  function asArray(v) {
    return Array.isArray(v) ? v : [];
  }
  function strings(v) {
    return asArray(v).filter((s) => typeof s === "string");
  }
  function saveHistory() {
    history = history.slice(-MAX_HISTORY);
    save(KEY_HISTORY, history);
  }
  function saveOutbox() {
    save(KEY_OUTBOX, outbox.map((m) => ({ id: m.id, text: m.text })));
  }

  // Ids only need to be unique per session; getRandomValues works on plain
  // http pages too, where crypto.randomUUID does not exist.
  function newId() {
    const b = new Uint8Array(12);
    crypto.getRandomValues(b);
    return "w" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  // --- DOM helpers ------------------------------------------------------------------

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const k in attrs || {}) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "class") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    }
    for (const c of children || []) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    return node;
  }

  // Reply text is plain text: blank lines separate paragraphs, "- " starts a
  // list item. Built from nodes only, never from markup.
  function renderText(text) {
    const frag = document.createDocumentFragment();
    for (const block of String(text).split(/\n[ \t]*\n/)) {
      let list = null;
      let para = null;
      for (const line of block.split("\n")) {
        if (/^\s*- /.test(line)) {
          if (!list) frag.appendChild((list = el("ul")));
          list.appendChild(el("li", { text: line.replace(/^\s*- /, "") }));
          para = null;
        } else if (line.trim()) {
          if (para) para.appendChild(el("br"));
          else frag.appendChild((para = el("p")));
          para.appendChild(document.createTextNode(line));
          list = null;
        }
      }
    }
    return frag;
  }

  function sourceLabel(id) {
    const section = String(id).split(".")[0];
    const label = SECTION_LABELS[section] || section.replace(/_/g, " ");
    return label.charAt(0).toUpperCase() + label.slice(1);
  }

  // --- the panel -------------------------------------------------------------------

  let root, launcher, panel, log, typing, quick, status, form, input;
  let lastFocus = null;
  const narrow = window.matchMedia("(max-width: 480px)");

  function build() {
    root = el("div", { class: "runbot-root", hidden: "" });
    // Shown once the stylesheet is in, so the page never flashes an unstyled panel.
    const css = el("link", { rel: "stylesheet", href: cssUrl });
    css.onload = css.onerror = () => root.removeAttribute("hidden");
    document.head.appendChild(css);

    launcher = el("button", {
      type: "button",
      class: "runbot-launcher",
      "aria-haspopup": "dialog",
      "aria-expanded": "false",
      "aria-controls": "runbot-panel",
    }, [bubbleIcon(), "Knee pain? Ask runbot"]);
    launcher.addEventListener("click", open);

    const startOverButton = el("button", { type: "button", class: "runbot-start-over", text: "Start over" });
    startOverButton.addEventListener("click", startOver);
    const closeButton = el("button", { type: "button", class: "runbot-close", "aria-label": "Close chat", text: "\u00D7" });
    closeButton.addEventListener("click", close);
    status = el("p", { class: "runbot-status", role: "status" });

    log = el("div", { class: "runbot-log", role: "log", "aria-live": "polite", "aria-label": "Conversation", tabindex: "0" });
    typing = el("div", { class: "runbot-typing", hidden: "" }, [
      el("span", { class: "runbot-dots", "aria-hidden": "true" }, [el("span"), el("span"), el("span")]),
      el("span", { text: "runbot is typing\u2026" }),
    ]);
    quick = el("div", { class: "runbot-quick", role: "group", "aria-label": "Suggested replies" });

    input = el("textarea", { id: "runbot-input", class: "runbot-input", rows: "1", maxlength: String(MAX_TEXT), placeholder: "Type a message\u2026", autocomplete: "off" });
    form = el("form", { class: "runbot-form" }, [
      el("label", { for: "runbot-input", class: "runbot-sr", text: "Message to runbot" }),
      input,
      el("button", { type: "submit", class: "runbot-send", text: "Send" }),
    ]);
    // Grows with the text up to a few lines, then scrolls.
    input.addEventListener("input", () => {
      input.style.height = "auto";
      input.style.height = Math.min(input.scrollHeight, 120) + "px";
    });
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      sendText(input.value);
    });
    // Enter sends, Shift+Enter is a new line; not while an IME is composing.
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        sendText(input.value);
      }
    });

    panel = el("div", { id: "runbot-panel", class: "runbot-panel", role: "dialog", "aria-label": "runbot chat: help with pain at the back of the knee", hidden: "" }, [
      el("div", { class: "runbot-header" }, [
        el("div", { class: "runbot-title" }, [el("strong", { text: "runbot" }), el("span", { text: "Back-of-knee pain helper" })]),
        startOverButton,
        closeButton,
      ]),
      el("p", { class: "runbot-disclaimer", text: "General information only, not medical advice." }),
      status,
      log,
      typing,
      quick,
      form,
    ]);
    panel.addEventListener("keydown", onPanelKey);
    // Full screen (a phone, or a narrowed window) the panel is modal.
    const modal = () => panel.setAttribute("aria-modal", narrow.matches ? "true" : "false");
    modal();
    narrow.addEventListener("change", modal);

    root.appendChild(launcher);
    root.appendChild(panel);
    document.body.appendChild(root);

    // Host pages may open the chat from their own links: <a data-runbot-open>.
    document.addEventListener("click", (e) => {
      const t = e.target instanceof Element && e.target.closest("[data-runbot-open]");
      if (t) {
        e.preventDefault();
        open();
      }
    });
    window.addEventListener("online", () => {
      if (!ws && wanted) {
        attempt = 0;
        connect();
      }
    });
    renderAll();
  }

  // A speech bubble drawn in SVG: an emoji would depend on the fonts installed.
  function bubbleIcon() {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "runbot-launcher-icon");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
    svg.appendChild(path);
    return svg;
  }

  function onPanelKey(e) {
    if (e.key === "Escape") {
      e.preventDefault();
      close();
    } else if (e.key === "Tab" && narrow.matches) {
      // Full screen on a phone the panel hides the page, so Tab stays inside.
      const items = Array.from(panel.querySelectorAll("button, textarea, [tabindex='0']")).filter((n) => !n.disabled && n.offsetParent !== null);
      const first = items[0];
      const last = items[items.length - 1];
      if (e.shiftKey && document.activeElement === first) {
        last.focus();
        e.preventDefault();
      } else if (!e.shiftKey && document.activeElement === last) {
        first.focus();
        e.preventDefault();
      }
    }
  }

  function open() {
    lastFocus = document.activeElement && document.activeElement !== document.body ? document.activeElement : launcher;
    panel.hidden = false;
    launcher.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    launcher.classList.remove("runbot-unread");
    wanted = true;
    if (!ws) connect();
    log.scrollTop = log.scrollHeight;
    input.focus();
  }

  function close() {
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    // Back to what opened the panel: the launcher or a host page link.
    (lastFocus && lastFocus.isConnected ? lastFocus : launcher).focus();
  }

  function messageNode(entry, live) {
    if (entry.from === "note") return el("div", { class: "runbot-note", text: entry.text });
    if (entry.from === "user") {
      const node = el("div", { class: "runbot-msg runbot-msg-user", "data-id": entry.id }, [
        el("span", { class: "runbot-sr", text: "You: " }),
        el("p", { class: "runbot-bubble", text: entry.text }),
      ]);
      if (entry.failed) node.appendChild(el("span", { class: "runbot-msg-state", text: "Not sent" }));
      return node;
    }
    const node = el("div", { class: "runbot-msg runbot-msg-bot" }, [el("span", { class: "runbot-sr", text: "runbot: " })]);
    if (BANNERS[entry.triage]) {
      node.setAttribute("data-triage", entry.triage);
      // An emergency is announced at once, not after what the reader is saying.
      const banner = el("p", { class: "runbot-banner runbot-banner-" + entry.triage, text: BANNERS[entry.triage] });
      if (live && entry.triage === "emergency") banner.setAttribute("role", "alert");
      node.appendChild(banner);
    }
    const bubble = el("div", { class: "runbot-bubble" });
    bubble.appendChild(renderText(entry.text));
    node.appendChild(bubble);
    const labels = Array.from(new Set(strings(entry.sources).map(sourceLabel)));
    if (labels.length) {
      node.appendChild(el("p", { class: "runbot-sources" }, labels.map((l) => el("span", { class: "runbot-source", text: "From: " + l }))));
    }
    return node;
  }

  function renderAll() {
    log.textContent = "";
    if (!history.length) {
      log.appendChild(el("div", { class: "runbot-msg runbot-msg-bot runbot-welcome" }, [
        el("p", { class: "runbot-bubble", text: "Hi, I'm runbot. Tell me about the pain at the back of your knee, or ask about causes, treatment, exercises or when to see a doctor." }),
      ]));
    }
    for (const entry of history) log.appendChild(messageNode(entry, false));
    renderPending();
    log.scrollTop = log.scrollHeight;
  }

  function addEntry(entry) {
    history.push(entry);
    saveHistory();
    const welcome = log.querySelector(".runbot-welcome");
    if (welcome) welcome.remove();
    const node = messageNode(entry, true);
    log.appendChild(node);
    if (panel.hidden && entry.from !== "user") launcher.classList.add("runbot-unread");
    renderPending(); // first: quick replies change the log's height
    // A reply taller than the log is read from its start, not its end.
    const tall = entry.from === "bot" && node.offsetHeight > log.clientHeight - 16;
    log.scrollTop = tall ? node.offsetTop - 8 : log.scrollHeight;
  }

  // Typing indicator, "waiting to send" marks and the quick replies all
  // follow from the outbox and the connection.
  function renderPending() {
    typing.hidden = !outbox.some((m) => m.sent);
    for (const node of log.querySelectorAll(".runbot-msg-user")) {
      const queued = outbox.some((m) => m.id === node.getAttribute("data-id") && !m.sent);
      node.classList.toggle("runbot-queued", queued);
    }
    quick.textContent = "";
    const last = history[history.length - 1];
    const options = !history.length ? STARTERS : last && last.from === "bot" && !outbox.length ? strings(last.quick_replies) : [];
    for (const text of options) {
      const b = el("button", { type: "button", class: "runbot-quick-reply", text: text });
      b.addEventListener("click", (e) => {
        sendText(text);
        // The button is gone now. A keyboard user goes on typing; a tap must
        // not pop up a phone's keyboard, so focus just stays in the panel.
        if (e.detail === 0) input.focus();
        else log.focus({ preventScroll: true });
      });
      quick.appendChild(b);
    }
    quick.hidden = !options.length;
  }

  function setStatus(state) {
    panel.setAttribute("data-state", state);
    const text = state === "offline" ? (outbox.length ? "Offline: your message will be sent when the connection is back." : "Offline: reconnecting\u2026") : state === "connecting" ? "Connecting\u2026" : "";
    if (status.textContent !== text) status.textContent = text;
    status.hidden = !text;
  }

  // --- actions ------------------------------------------------------------------

  function sendText(raw) {
    const text = String(raw).trim();
    if (!text) return;
    input.value = "";
    input.style.height = "";
    const id = newId();
    outbox.push({ id: id, text: text, sent: false });
    saveOutbox();
    addEntry({ from: "user", id: id, text: text });
    if (ready) flush();
    else if (!ws) {
      // The user is waiting now: try at once rather than at the next backoff step.
      attempt = 0;
      connect();
    }
    if (!ready) setStatus(ws ? "connecting" : "offline");
  }

  function startOver() {
    history = [];
    outbox = [];
    saveHistory();
    saveOutbox();
    pendingReset = true;
    save(KEY_RESET, true);
    renderAll();
    if (ready) sendReset();
    else if (!ws) connect();
    input.focus();
  }

  // --- the connection -------------------------------------------------------------

  let ws = null; // the live socket, or null
  let ready = false; // the server answered hello on this socket
  let wanted = outbox.length > 0 || pendingReset; // connect only once needed: most visitors never chat
  let attempt = 0;
  let retryTimer = null;
  let watchdog = null;

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = null;
    if (ws) return;
    setStatus("connecting");
    let sock;
    try {
      sock = new WebSocket(wsUrl);
    } catch (e) {
      return scheduleReconnect();
    }
    ws = sock;
    ready = false;
    sock.onopen = () => {
      const hello = { type: "hello", client: "web" };
      const token = loadToken();
      if (token) hello.session = token;
      sock.send(JSON.stringify(hello));
    };
    sock.onmessage = (e) => {
      if (sock === ws) onFrame(e.data);
    };
    sock.onclose = () => dropSocket(sock);
  }

  // Idempotent: called on close, and by the watchdog without waiting for a
  // close handshake that a dead network never completes.
  function dropSocket(sock) {
    if (sock !== ws) return;
    ws = null;
    ready = false;
    clearTimeout(watchdog);
    watchdog = null;
    for (const m of outbox) m.sent = false;
    setStatus("offline");
    renderPending();
    scheduleReconnect();
  }

  // Exponential backoff with jitter, capped: after a server restart every
  // open widget reconnects, and they must not all arrive in the same instant.
  function backoff(n) {
    const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * Math.pow(2, n));
    return cap / 2 + (Math.random() * cap) / 2;
  }
  function scheduleReconnect() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, backoff(attempt));
    attempt = Math.min(attempt + 1, 16);
  }

  function sendFrame(obj) {
    ws.send(JSON.stringify(obj));
  }
  function sendReset() {
    sendFrame({ type: "reset" });
  }

  // Sends every message not yet sent on this socket, oldest first, each with
  // the id it got when typed: the server runs a turn once per id.
  function flush() {
    for (const m of outbox) {
      if (!m.sent) {
        sendFrame({ type: "message", text: m.text, id: m.id });
        m.sent = true;
      }
    }
    armWatchdog();
    renderPending();
  }

  function armWatchdog() {
    clearTimeout(watchdog);
    watchdog = null;
    if (!outbox.some((m) => m.sent)) return;
    const sock = ws;
    watchdog = setTimeout(() => {
      dropSocket(sock);
      sock.close();
    }, REPLY_TIMEOUT_MS);
  }

  function onFrame(data) {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch (e) {
      return;
    }
    if (!msg || typeof msg !== "object") return;
    if (msg.type === "session") onSession(msg);
    else if (msg.type === "reply") onReply(msg);
    else if (msg.type === "error") onError(msg);
    armWatchdog();
  }

  function onSession(msg) {
    const had = loadToken();
    if (typeof msg.session === "string" && msg.session) saveToken(msg.session);
    if (msg.reset) {
      pendingReset = false;
      save(KEY_RESET, false);
    }
    if (ready) return;
    ready = true;
    attempt = 0; // only a socket that got this far counts as a success
    setStatus("online");
    // The server lost the session (expired): say so, or the bot seems to forget.
    if (had && msg.resumed === false && history.length && !pendingReset) {
      addEntry({ from: "note", text: "That earlier conversation has expired; runbot starts afresh from here." });
    }
    // Frames are handled in order, so the reset lands before what was typed after it.
    if (pendingReset) sendReset();
    flush();
  }

  function onReply(msg) {
    const i = outbox.findIndex((m) => m.id === msg.reply_to);
    // A reply to an id no longer waiting was already shown (the first answer
    // raced a re-send): showing it again would double it.
    if (i < 0 && msg.reply_to != null) return;
    if (i >= 0) outbox.splice(i, 1);
    saveOutbox();
    addEntry({
      from: "bot",
      text: typeof msg.text === "string" ? msg.text : "",
      triage: typeof msg.triage === "string" ? msg.triage : null,
      sources: strings(msg.sources),
      quick_replies: strings(msg.quick_replies),
    });
  }

  function onError(msg) {
    // Before hello is answered (store down, rate limit) the socket is no use:
    // close it and come back with backoff.
    if (!ready) return ws && ws.close();
    // Errors carry no id; frames are answered in order, so an error is about
    // the oldest message in flight.
    const head = outbox.find((m) => m.sent);
    if (!head) return;
    const retryable = msg.code === "rate_limited" || msg.code === "overloaded" || msg.code === "internal";
    head.tries = (head.tries || 0) + 1;
    if (retryable && head.tries <= 5) {
      // Not run on the server, so the same message is sent again, later.
      head.sent = false;
      const sock = ws;
      setTimeout(() => {
        if (sock === ws && ready) flush();
      }, backoff(head.tries));
      renderPending();
      return;
    }
    outbox.splice(outbox.indexOf(head), 1);
    saveOutbox();
    const entry = history.find((h) => h.from === "user" && h.id === head.id);
    if (entry) entry.failed = true;
    const text = msg.code === "too_long" ? "That message is too long; please shorten it." : retryable ? "runbot is busy right now; please try again in a minute." : "runbot could not read that message; please rephrase it.";
    addEntry({ from: "note", text: text });
    renderAll();
  }

  function init() {
    build();
    setStatus("idle");
    if (wanted) connect();
  }

  window.runbotWidget = {
    open: () => open(),
    close: () => close(),
  };
  if (document.body) init();
  else document.addEventListener("DOMContentLoaded", init);
})();
