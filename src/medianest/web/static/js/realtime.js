// Live updates for every signed-in page: one WebSocket per tab (/api/v1/ws, docs/realtime.md).
//
// Each message the server sends, `{type, data}`, becomes a DOM event on `document` named
// `medianest:<type>` (`medianest:notification.created`, `medianest:request.updated`, ...) with
// the data as its `detail`, so a component listens for what it shows and knows nothing of
// sockets. Messages lost while the socket was down are not replayed: after every reconnect
// (not the first connect) `medianest:resync` tells each component to load its state again
// from the REST API. `medianest:realtime` says whether live updates are on ({connected}), and
// `<html data-realtime="on|off">` says it to a script that starts later.
//
// A lost connection is tried again with exponential back-off and jitter, up to 30 s between
// tries; a server that has gone quiet (no ping within two heartbeats) counts as lost. The
// close codes say what else to do: 4001, renew the access token first (any API call does);
// 4401 signed out and 4403 refused, stop trying.

import { api } from "./api.js";

const PATH = "/api/v1/ws";
const FIRST_DELAY_MS = 1_000;
const MAX_DELAY_MS = 30_000;
const STOP = new Set([4401, 4403]);
const TOKEN_EXPIRED = 4001;

const root = document.documentElement;
let socket = null;
let failures = 0;
let connectedBefore = false;
let stopped = false;
let retryTimer = null;
let quietTimer = null;

function emit(name, detail) {
  document.dispatchEvent(new CustomEvent(`medianest:${name}`, { detail }));
}

function setConnected(connected) {
  const state = connected ? "on" : "off";
  if (root.dataset.realtime === state) return;
  root.dataset.realtime = state;
  emit("realtime", { connected });
}

function address() {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}${PATH}`;
}

// Two heartbeats without a word from the server: the connection is gone, whatever the
// browser thinks (a laptop waking up, a network that changed under it). Its close event may
// take long to come on a dead connection, so the socket is let go of at once.
function expectPing(current, heartbeatSeconds) {
  clearTimeout(quietTimer);
  quietTimer = setTimeout(() => {
    if (socket !== current) return;
    socket = null;
    current.close();
    setConnected(false);
    retry();
  }, heartbeatSeconds * 2_000 + 5_000);
}

function connect() {
  retryTimer = null;
  if (stopped) return;
  const current = new WebSocket(address());
  socket = current;
  let heartbeat = 25;
  current.addEventListener("message", (event) => {
    if (socket !== current) return;
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    if (!message || typeof message.type !== "string") return;
    if (message.type === "ping") {
      current.send('{"type":"pong"}');
      expectPing(current, heartbeat);
    } else if (message.type === "ready") {
      heartbeat = Number(message.data?.heartbeatSeconds) || heartbeat;
      expectPing(current, heartbeat);
      failures = 0;
      setConnected(true);
      if (connectedBefore) emit("resync", {});
      connectedBefore = true;
    } else {
      emit(message.type, message.data);
    }
  });
  current.addEventListener("close", (event) => {
    if (socket !== current) return;
    socket = null;
    clearTimeout(quietTimer);
    setConnected(false);
    if (STOP.has(event.code)) {
      stopped = true;
    } else if (event.code === TOKEN_EXPIRED) {
      renewThenConnect();
    } else {
      retry();
    }
  });
}

function retry() {
  if (stopped || retryTimer !== null) return;
  // Full jitter: tabs that lost the same server do not all come back at the same instant.
  const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** failures);
  failures += 1;
  retryTimer = setTimeout(connect, Math.random() * ceiling);
}

// The access token ran out while the socket was open: the session check renews it (api.js
// refreshes an expired token and retries), then the socket comes back at once.
async function renewThenConnect() {
  try {
    await api("GET", "/auth/session");
  } catch (error) {
    if (error.status === 401) {
      stopped = true;
      return;
    }
    retry();
    return;
  }
  connect();
}

// Back online, or the tab woke up: try now rather than at the end of a long back-off.
function tryNow() {
  if (stopped || socket !== null || retryTimer === null) return;
  clearTimeout(retryTimer);
  connect();
}

if (document.body.hasAttribute("data-signed-in") && "WebSocket" in window) {
  root.dataset.realtime = "off";
  window.addEventListener("online", tryNow);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") tryNow();
  });
  connect();
}
