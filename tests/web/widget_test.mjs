// Browser test of the runbot web widget (web/widget.js) against a running
// server: the demo page, keyboard use, a full triage by quick replies,
// history across a reload, reconnection after a server restart, a lost
// reply and a message typed offline (both through a WebSocket route that
// cuts the connection on cue), the XSS case, the triage banners, and the
// screenshots in docs/screenshots/.
//
//   npm install --prefix tests/web
//   node tests/web/widget_test.mjs --url http://127.0.0.1:PORT [--restart-cmd "SHELL COMMAND"]
//                                  [--screenshots DIR]
//
// --restart-cmd must restart the server on the same port with the same
// store and return; a server it leaves running must not keep this
// process's output open (redirect its output).
// Prints "ok ..." or "FAIL ..." per check and ends with "N passed, M failed".
import { chromium } from "playwright-core";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
function option(name, fallback) {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
}
const baseUrl = option("--url", "").replace(/\/$/, "");
const restartCmd = option("--restart-cmd", "");
const shotDir = path.resolve(option("--screenshots", path.join(here, "..", "..", "docs", "screenshots")));
if (!baseUrl) {
  console.error("usage: node tests/web/widget_test.mjs --url http://127.0.0.1:PORT [--restart-cmd CMD] [--screenshots DIR]");
  process.exit(2);
}

const PAIN = "the back of my knee hurts after running";
const XSS = "<img src=x onerror=alert(1)>";
const REPLY_MS = 15000; // a turn takes milliseconds; this covers a slow machine
const RECONNECT_MS = 45000; // backoff is capped at 30 s; a restart takes a few

let passed = 0;
let failed = 0;
async function check(name, fn) {
  try {
    const detail = await fn();
    passed++;
    console.log(`ok ${name}${detail ? ` (${detail})` : ""}`);
    return true;
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${String(e && e.message ? e.message : e).split("\n")[0]}`);
    return false;
  }
}
function assert(cond, message) {
  if (!cond) throw new Error(message);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitUntil(fn, what, timeout = REPLY_MS) {
  for (const end = Date.now() + timeout; !fn(); await sleep(50)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}

// --- the browser ------------------------------------------------------------------

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "runbot-web-test-"));
let context;
try {
  // A persistent context is how Playwright takes a user-data-dir of our own
  // (a fresh one, so no earlier run's localStorage leaks in).
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1280, height: 800 },
  });
} catch (e) {
  console.log(`FAIL launch chromium: ${e.message.split("\n")[0]}`);
  console.log("0 passed, 1 failed");
  process.exit(1);
}
const page = context.pages()[0] || (await context.newPage());
page.setDefaultTimeout(REPLY_MS);

// Every frame of the page's real sockets, parsed, for what the DOM does not show
// (expecting, reply_to, resumed).
const sentFrames = [];
const gotFrames = [];
page.on("websocket", (ws) => {
  ws.on("framesent", (f) => sentFrames.push(parse(f.payload)));
  ws.on("framereceived", (f) => gotFrames.push(parse(f.payload)));
});
function parse(s) {
  try {
    return JSON.parse(String(s));
  } catch {
    return { unparsed: String(s) };
  }
}
let dialogs = 0;
page.on("dialog", (d) => {
  dialogs++;
  d.dismiss().catch(() => {});
});
const pageErrors = [];
page.on("pageerror", (e) => pageErrors.push(e.message));

// --- helpers ------------------------------------------------------------------------

const BOT = ".runbot-log .runbot-msg-bot:not(.runbot-welcome)";
const USER = ".runbot-log .runbot-msg-user";
const count = (sel) => page.locator(sel).count();
const storage = (key) => page.evaluate((k) => localStorage.getItem(k), key);

async function waitForCount(sel, n, timeout = REPLY_MS) {
  await page.waitForFunction(([s, k]) => document.querySelectorAll(s).length >= k, [sel, n], { timeout });
}
async function openPanel() {
  if (await page.locator(".runbot-panel").isVisible()) return;
  await page.locator(".runbot-launcher").click();
  await page.locator(".runbot-panel").waitFor({ state: "visible" });
}
// Types `text`, sends it with Enter and waits for the bot's answer in the log.
// Returns the reply frame when the page's socket is observed (not routed).
async function say(text, timeout = REPLY_MS) {
  const bots = await count(BOT);
  await page.locator(".runbot-input").fill(text);
  await page.locator(".runbot-input").press("Enter");
  await waitForCount(BOT, bots + 1, timeout);
  const id = await page.locator(USER).last().getAttribute("data-id");
  return gotFrames.findLast((f) => f.type === "reply" && f.reply_to === id) || null;
}
async function clickQuickReply(label) {
  const bots = await count(BOT);
  await page.locator(".runbot-quick-reply", { hasText: label }).first().click();
  await waitForCount(BOT, bots + 1);
  const id = await page.locator(USER).last().getAttribute("data-id");
  return gotFrames.findLast((f) => f.type === "reply" && f.reply_to === id) || null;
}
// The answer a runner with nothing alarming would give: "No" where offered,
// otherwise the first real choice (not "Yes", not "Not sure").
function pickAnswer(labels) {
  if (labels.includes("No")) return "No";
  return labels.find((l) => l !== "Yes" && l !== "Not sure") || labels[0];
}
const lastBotText = () => page.locator(BOT).last().locator(".runbot-bubble").innerText();

// --- the checks ---------------------------------------------------------------------

async function finish() {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

const loaded = await check("demo page loads with the widget from one script tag", async () => {
  const res = await page.goto(baseUrl + "/");
  assert(res && res.ok(), `GET / answered ${res && res.status()}`);
  const tags = await page.locator('script[src$="widget.js"]').count();
  assert(tags === 1, `${tags} widget script tags`);
  await page.locator(".runbot-launcher").waitFor({ state: "visible" });
  const tag = await page.locator(".runbot-launcher").evaluate((b) => b.tagName);
  assert(tag === "BUTTON", `launcher is a ${tag}`);
  const pos = await page.locator(".runbot-launcher").evaluate((b) => getComputedStyle(b).position);
  assert(pos === "fixed", `widget.css not applied (launcher position ${pos})`);
  return await page.title();
});
// Nothing else can pass without the widget; stop instead of timing out on each check.
if (!loaded) await finish();

await check("keyboard: launcher reachable by Tab with a visible focus style", async () => {
  // The widget comes last in the page: Tab from the footer reaches it.
  await page.locator("footer").click();
  await page.keyboard.press("Tab");
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.className);
  assert(/runbot-launcher/.test(focused), `focus on "${focused}"`);
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert(outline !== "none", "no outline on the focused launcher");
});

await check("keyboard: Enter opens the dialog and moves focus into it; Esc closes and returns focus", async () => {
  await page.keyboard.press("Enter");
  const panel = page.locator(".runbot-panel");
  await panel.waitFor({ state: "visible" });
  assert((await panel.getAttribute("role")) === "dialog", "panel role is not dialog");
  assert(!!(await panel.getAttribute("aria-label")), "dialog has no aria-label");
  const log = page.locator(".runbot-log");
  assert((await log.getAttribute("role")) === "log" && (await log.getAttribute("aria-live")) === "polite", "message list is not role=log aria-live=polite");
  const inside = await page.evaluate(() => !!document.activeElement.closest(".runbot-panel"));
  assert(inside, "focus did not move into the panel");
  await page.keyboard.press("Escape");
  await panel.waitFor({ state: "hidden" });
  const back = await page.evaluate(() => document.activeElement.className);
  assert(/runbot-launcher/.test(back), `focus went to "${back}"`);
  await page.keyboard.press("Enter");
  await panel.waitFor({ state: "visible" });
});

await check("a link on the host page with data-runbot-open opens the panel; Esc returns focus to it", async () => {
  await page.keyboard.press("Escape");
  await page.locator(".runbot-panel").waitFor({ state: "hidden" });
  const link = page.locator("[data-runbot-open]").first();
  await link.focus();
  await page.keyboard.press("Enter");
  await page.locator(".runbot-panel").waitFor({ state: "visible" });
  await page.keyboard.press("Escape");
  await page.locator(".runbot-panel").waitFor({ state: "hidden" });
  assert(await link.evaluate((a) => a === document.activeElement), "focus did not return to the link");
});

let triageOk = false;
await check("a pain report starts the triage (hello with client web, reply expecting a follow-up)", async () => {
  await openPanel();
  const reply = await say(PAIN);
  const hello = sentFrames.find((f) => f.type === "hello");
  assert(hello && hello.client === "web", "no hello with client web was sent");
  assert(gotFrames.some((f) => f.type === "session"), "no session frame");
  assert((await storage("runbot.session")) === gotFrames.find((f) => f.type === "session").session, "token not kept in localStorage runbot.session");
  assert(reply, "no reply frame for the message id");
  assert(reply.expecting, `reply expects nothing (intent ${reply.intent})`);
  assert((await count(".runbot-quick-reply")) > 0, "no quick-reply buttons");
  triageOk = true;
  return `expecting ${reply.expecting}`;
});

let conclusion = null;
await check("quick replies answer the follow-up questions until a conclusion", async () => {
  assert(triageOk, "triage did not start");
  const answers = [];
  for (let turn = 0; turn < 15 && !conclusion; turn++) {
    const labels = await page.locator(".runbot-quick-reply").allInnerTexts();
    assert(labels.length, `no quick replies after ${answers.length} answers`);
    const pick = pickAnswer(labels);
    answers.push(pick);
    const reply = await clickQuickReply(pick);
    assert(reply, `no reply to "${pick}"`);
    if (reply.expecting === null) conclusion = reply;
  }
  assert(conclusion, `no conclusion after ${answers.length} answers`);
  return `${answers.join(", ")} -> triage ${conclusion.triage}`;
});

await check("the conclusion is rendered: paragraphs, list items, source tags, quick replies", async () => {
  assert(conclusion, "no conclusion");
  const last = page.locator(BOT).last();
  const paras = conclusion.text.split(/\n[ \t]*\n/).filter((b) => !b.split("\n").every((l) => /^\s*- /.test(l) || !l.trim())).length;
  const items = conclusion.text.split("\n").filter((l) => /^\s*- /.test(l)).length;
  assert((await last.locator(".runbot-bubble p").count()) >= paras, "fewer paragraphs than the text has");
  assert((await last.locator(".runbot-bubble li").count()) === items, "list items do not match the text's \"- \" lines");
  const text = await last.locator(".runbot-bubble").innerText();
  assert(!/^- /m.test(text), "a \"- \" marker was left in the text");
  const tags = await last.locator(".runbot-source").allInnerTexts();
  if (conclusion.sources.length) assert(tags.length && tags.every((t) => /^From: [A-Z]/.test(t)), `source tags ${JSON.stringify(tags)}`);
  const qr = await page.locator(".runbot-quick-reply").allInnerTexts();
  assert(qr.length === conclusion.quick_replies.length, "quick replies of the conclusion not shown");
  return `${items} list items, ${tags.join("; ") || "no sources"}`;
});

await check("a reload shows the history and the panel still works", async () => {
  const before = { users: await count(USER), bots: await count(BOT), last: await lastBotText() };
  const token = await storage("runbot.session");
  const history = JSON.parse((await storage("runbot.history")) || "[]");
  assert(history.length >= before.users + before.bots, "history not stored in localStorage");
  const framesBefore = gotFrames.length;
  await page.reload();
  await page.locator(".runbot-launcher").waitFor({ state: "visible" });
  await openPanel();
  assert((await count(USER)) === before.users && (await count(BOT)) === before.bots, "message counts differ after reload");
  assert((await lastBotText()) === before.last, "last reply differs after reload");
  assert((await count(".runbot-quick-reply")) > 0, "quick replies not restored");
  await say("which exercises help?");
  const resumed = gotFrames.slice(framesBefore).find((f) => f.type === "session");
  assert(resumed && resumed.resumed === true && resumed.session === token, "session not resumed with the stored token");
  return `${before.users + before.bots} messages kept, session resumed`;
});

if (restartCmd) {
  await check("after a server restart the widget reconnects and the dialog resumes", async () => {
    const token = await storage("runbot.session");
    const framesBefore = gotFrames.length;
    const bots = await count(BOT);
    const started = Date.now();
    const child = spawn("/bin/sh", ["-c", restartCmd], { stdio: "ignore" });
    const exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
    // Type while the server is away when that can be seen, so the offline queue is used too.
    const wentOffline = await page
      .waitForFunction(() => /offline|connecting/.test(document.querySelector(".runbot-panel").dataset.state), null, { timeout: 10000 })
      .then(() => true, () => false);
    await page.locator(".runbot-input").fill("hi");
    await page.locator(".runbot-input").press("Enter");
    const queued = wentOffline && (await page.locator(USER).last().evaluate((n) => n.classList.contains("runbot-queued")));
    const code = await exited;
    assert(code === 0, `restart command exited with ${code}`);
    await waitForCount(BOT, bots + 1, RECONNECT_MS);
    const id = await page.locator(USER).last().getAttribute("data-id");
    const session = gotFrames.slice(framesBefore).find((f) => f.type === "session");
    assert(session && session.resumed === true && session.session === token, "session not resumed after the restart");
    const sends = sentFrames.filter((f) => f.type === "message" && f.id === id).length;
    assert(gotFrames.some((f) => f.type === "reply" && f.reply_to === id), "no reply to \"hi\"");
    return `${((Date.now() - started) / 1000).toFixed(1)} s, "hi" ${queued ? "queued while offline" : "sent after reconnect"}, sent ${sends}x with one id`;
  });
} else {
  console.log("skip server restart (no --restart-cmd)");
}

await check("XSS: markup in a message shows as text, no element, no script", async () => {
  const alertsBefore = dialogs;
  await say(XSS);
  const bubble = await page.locator(USER).last().locator(".runbot-bubble").textContent();
  assert(bubble === XSS, `shown as ${JSON.stringify(bubble)}`);
  assert((await page.locator(".runbot-log img").count()) === 0, "an <img> was created in the log");
  assert((await page.locator("img").count()) === 0, "an <img> was created in the page");
  await sleep(300);
  assert(dialogs === alertsBefore, "an alert dialog fired");
});

await check("start over sends reset and clears the history", async () => {
  const resetsBefore = gotFrames.filter((f) => f.type === "session" && f.reset).length;
  await page.locator(".runbot-start-over").click();
  assert((await count(USER)) === 0 && (await count(BOT)) === 0, "log not cleared");
  await page.waitForFunction(() => JSON.parse(localStorage.getItem("runbot.history") || "[]").length === 0);
  assert(sentFrames.some((f) => f.type === "reset"), "no reset frame sent");
  await waitUntil(() => gotFrames.filter((f) => f.type === "session" && f.reset).length > resetsBefore, "the server to confirm the reset");
});

await check("see_doctor shows a clear banner, with source tags", async () => {
  const reply = await say("my knee locks and gives way when I run");
  assert(reply && reply.triage === "see_doctor", `triage ${reply && reply.triage}`);
  const banner = page.locator(BOT).last().locator(".runbot-banner-see_doctor");
  assert(await banner.isVisible(), "no see_doctor banner");
  return (await banner.innerText()) + "; " + (await page.locator(BOT).last().locator(".runbot-source").allInnerTexts()).join("; ");
});

await check("screenshots of the open widget at desktop and phone size", async () => {
  fs.mkdirSync(shotDir, { recursive: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.locator(".runbot-panel").waitFor({ state: "visible" });
  await page.screenshot({ path: path.join(shotDir, "widget-desktop.png") });
  await page.setViewportSize({ width: 360, height: 740 });
  await page.waitForTimeout(200);
  await page.screenshot({ path: path.join(shotDir, "widget-phone.png") });
  return path.relative(process.cwd(), shotDir) + "/widget-{desktop,phone}.png";
});

await check("phone size: the panel fills the 360 px screen without sideways scrolling", async () => {
  const box = await page.locator(".runbot-panel").boundingBox();
  assert(box && box.x === 0 && box.y === 0 && box.width === 360 && box.height === 740, `panel box ${JSON.stringify(box)}`);
  const overflow = await page.locator(".runbot-panel").evaluate((p) => p.scrollWidth > p.clientWidth);
  assert(!overflow, "panel scrolls sideways");
  assert((await page.locator(".runbot-panel").getAttribute("aria-modal")) === "true", "full-screen panel is not aria-modal");
  await page.setViewportSize({ width: 1280, height: 800 });
});

await check("emergency shows a strong banner announced as an alert", async () => {
  const reply = await say("my calf is swollen and I am short of breath");
  assert(reply && reply.triage === "emergency", `triage ${reply && reply.triage}`);
  const banner = page.locator(BOT).last().locator(".runbot-banner-emergency");
  assert(await banner.isVisible(), "no emergency banner");
  assert((await banner.getAttribute("role")) === "alert", "emergency banner is not role=alert");
  return await banner.innerText();
});

// --- a routed socket: the test stands between the page and the server --------------

const route = { offline: false, dropNextReply: false, holdReplies: false, held: [], pageSide: null, sent: [] };
await page.routeWebSocket(/\/chat$/, (ws) => {
  if (route.offline) {
    // Like a network that is down: the connection dies at once.
    ws.close({ code: 1011, reason: "test: offline" });
    return;
  }
  route.pageSide = ws;
  const server = ws.connectToServer();
  ws.onMessage((m) => {
    route.sent.push(parse(m));
    server.send(m);
  });
  server.onMessage((m) => {
    const f = parse(m);
    if (f.type === "reply" && route.dropNextReply) {
      // The reply is lost on the way and the connection with it.
      route.dropNextReply = false;
      ws.close({ code: 1011, reason: "test: reply lost" });
      server.close();
      return;
    }
    if (f.type === "reply" && route.holdReplies) return void route.held.push(m);
    ws.send(m);
  });
});

await check("typing indicator shows while a reply is pending", async () => {
  await page.reload();
  await openPanel();
  route.holdReplies = true;
  const bots = await count(BOT);
  await page.locator(".runbot-input").fill("when should I see a doctor?");
  await page.locator(".runbot-input").press("Enter");
  await page.locator(".runbot-typing").waitFor({ state: "visible" });
  route.holdReplies = false;
  for (const m of route.held.splice(0)) route.pageSide.send(m);
  await waitForCount(BOT, bots + 1);
  await page.locator(".runbot-typing").waitFor({ state: "hidden" });
});

await check("a reply lost with its connection is fetched again with the same id, shown once", async () => {
  const bots = await count(BOT);
  route.dropNextReply = true;
  const before = route.sent.length;
  await page.locator(".runbot-input").fill("how should I use ice?");
  await page.locator(".runbot-input").press("Enter");
  await waitForCount(BOT, bots + 1, RECONNECT_MS);
  await page.waitForTimeout(500);
  assert((await count(BOT)) === bots + 1, "the reply was shown twice");
  const id = await page.locator(USER).last().getAttribute("data-id");
  const sends = route.sent.slice(before).filter((f) => f.type === "message");
  assert(sends.length === 2 && sends.every((f) => f.id === id), `message frames sent: ${JSON.stringify(sends.map((f) => f.id))}`);
  const hellos = route.sent.slice(before).filter((f) => f.type === "hello");
  assert(hellos.length === 1 && hellos[0].session === (await storage("runbot.session")), "did not resume with hello and the token");
  return "sent twice with one id, shown once";
});

await check("a message typed while offline is queued and sent on reconnect", async () => {
  const bots = await count(BOT);
  route.offline = true;
  route.pageSide.close({ code: 1011, reason: "test: network down" });
  await page.waitForFunction(() => document.querySelector(".runbot-panel").dataset.state !== "online");
  const before = route.sent.length;
  await page.locator(".runbot-input").fill("when can I run again?");
  await page.locator(".runbot-input").press("Enter");
  await page.waitForTimeout(1500);
  const queued = await page.locator(USER).last().evaluate((n) => n.classList.contains("runbot-queued"));
  assert(queued, "message not marked as waiting to send");
  const status = await page.locator(".runbot-status").innerText();
  assert(/offline|connecting/i.test(status), `status line "${status}"`);
  assert(route.sent.length === before, "something was sent while offline");
  route.offline = false;
  await waitForCount(BOT, bots + 1, RECONNECT_MS);
  const id = await page.locator(USER).last().getAttribute("data-id");
  const sends = route.sent.slice(before).filter((f) => f.type === "message");
  assert(sends.length === 1 && sends[0].id === id, `message frames: ${JSON.stringify(sends)}`);
  assert(!(await page.locator(USER).last().evaluate((n) => n.classList.contains("runbot-queued"))), "still marked waiting");
});

await check("no script errors on the page", async () => {
  assert(pageErrors.length === 0, pageErrors.join("; "));
});

await finish();
