// The status page: each row follows its service live. A `medianest:service.status` event (from
// the page's WebSocket) changes a row at once; every check interval the whole list is read again
// from the API, which also carries response times and uptime, and keeps the page right while no
// socket is open. Words and rounding match status/views.py.

import { api } from "../../js/api.js";

const board = document.querySelector("[data-status-board]");
const summaryLine = document.querySelector("[data-status-summary]");
const stale = document.querySelector("[data-status-stale]");
const LABELS = { up: "Up", down: "Down", degraded: "Degraded", maintenance: "Maintenance", unknown: "Unknown" };
const icons = document.querySelector("[data-pill-icons]");

function lasting(iso) {
  const elapsed = (Date.now() - Date.parse(iso)) / 1000;
  const say = (count, unit) => `for ${count} ${unit}${count === 1 ? "" : "s"}`;
  if (!(elapsed >= 60)) return "for less than a minute";
  if (elapsed < 3600) return say(Math.floor(elapsed / 60), "minute");
  if (elapsed < 86400) return say(Math.floor(elapsed / 3600), "hour");
  return say(Math.floor(elapsed / 86400), "day");
}

function percent(value) {
  if (value === null || value === undefined) return "No data";
  if (value >= 100) return "100%";
  return `${Math.min(value, 99.99).toFixed(2).replace(/0+$/, "").replace(/\.$/, "")}%`;
}

function rowOf(id) {
  for (const row of board.querySelectorAll("[data-service]")) {
    if (row.dataset.service === id) return row;
  }
  return null;
}

function field(row, name) {
  return row.querySelector(`[data-field="${name}"]`);
}

// The pills' icons come drawn with the page, in its `data-pill-icons` template.
function setStatus(row, status) {
  if (!LABELS[status] || row.dataset.status === status) return;
  row.dataset.status = status;
  const pill = field(row, "status");
  pill.className = `status-pill is-${status}`;
  pill.querySelector("span").textContent = LABELS[status];
  const model = icons.content.querySelector(`[data-icon="${status}"] svg`);
  const icon = pill.querySelector("svg");
  if (model && icon) icon.replaceWith(model.cloneNode(true));
}

function setSince(row, since) {
  if (!since) return;
  const time = field(row, "since");
  time.setAttribute("datetime", since);
  time.textContent = lasting(since);
  const at = new Date(since);
  time.title = `Since ${at.toLocaleString()}`;
}

function setResponse(row, ms) {
  field(row, "response").textContent = ms === null || ms === undefined ? "—" : `${Math.round(ms)} ms`;
}

// What a `service.status` message carries: {id, name, status, responseTimeMs, since}.
function applyChange(change) {
  const row = change && rowOf(change.id);
  if (!row) {
    if (change && change.id) stale.hidden = false;
    return;
  }
  setStatus(row, change.status);
  setSince(row, change.since);
  if ("responseTimeMs" in change) setResponse(row, change.responseTimeMs);
  if (change.status === "up") field(row, "message").hidden = true;
  summarise();
}

function applyService(service) {
  const row = rowOf(service.id);
  if (!row) {
    stale.hidden = false;
    return;
  }
  setStatus(row, service.status);
  setSince(row, service.since);
  setResponse(row, service.responseTimeMs);
  const message = field(row, "message");
  message.textContent = service.message || "";
  message.hidden = !service.message;
  field(row, "h24").textContent = percent(service.uptime.h24);
  field(row, "d7").textContent = percent(service.uptime.d7);
  field(row, "d30").textContent = percent(service.uptime.d30);
}

function listed(names, one, many) {
  if (names.length === 1) return `${names[0]} ${one}.`;
  const shown = names.slice(0, 3);
  const rest = names.length - shown.length;
  if (rest) return `${names.length} services ${many}: ${shown.join(", ")} and ${rest} more.`;
  return `${names.length} services ${many}: ${shown.slice(0, -1).join(", ")} and ${shown.at(-1)}.`;
}

function summarise() {
  const rows = [...board.querySelectorAll("[data-service]")];
  if (!rows.length) return;
  const named = (status) =>
    rows.filter((r) => r.dataset.status === status).map((r) => r.querySelector(".service-name").textContent);
  const down = named("down");
  const degraded = named("degraded");
  let state = "up";
  let text = "Everything MediaNest watches is working.";
  if (down.length) {
    state = "down";
    text = listed(down, "is down", "are down");
  } else if (degraded.length) {
    state = "degraded";
    text = listed(degraded, "is slow or unsteady", "are slow or unsteady");
  }
  summaryLine.className = `lead status-summary is-${state}`;
  if (summaryLine.textContent !== text) summaryLine.textContent = text;
}

async function refresh() {
  try {
    const services = await api("GET", "/status/services");
    const seen = new Set();
    for (const service of services) {
      seen.add(service.id);
      applyService(service);
    }
    const rows = board.querySelectorAll("[data-service]");
    if (rows.length !== seen.size) stale.hidden = false;
    summarise();
  } catch {
    // Signed out or offline: the next interval tries again; the rows keep what they said.
  }
}

function tick() {
  for (const time of board.querySelectorAll('[data-field="since"]')) {
    time.textContent = lasting(time.getAttribute("datetime"));
  }
}

document.addEventListener("medianest:service.status", (event) => {
  const detail = event.detail || {};
  applyChange(detail.data || detail);
});
document.addEventListener("medianest:resync", refresh);

const seconds = Math.max(1, Number(board.dataset.refreshSeconds) || 60);
setInterval(refresh, seconds * 1000);
setInterval(tick, 30_000);
