// My requests: the person's own and followed requests, filtered and paged, each with its
// status history; cancel an own pending request, stop following someone else's. On the
// administrators' All requests page (`data-admin`), everyone's, to approve or decline.
//
// Every row is drawn by renderRow() from the API's request, and carries `data-request-id`, so
// a change to one request only needs `refreshRow(id)`: fetch it, draw it, put it in place.
// That is what a live `request.updated` does (js/realtime.js); after a reconnect, whatever
// changed meanwhile is fetched again with the whole page.

import { api, apiPage, ApiError } from "../../js/api.js";
import { hide, show } from "../../js/forms.js";

const PAGE_SIZE = 20;
const POSTER_BASE = "https://image.tmdb.org/t/p/w342";
const STATUSES = {
  pending: "Waiting for approval",
  approved: "Approved",
  processing: "Processing",
  partially_available: "Partially available",
  available: "Available",
  declined: "Declined",
  failed: "Failed",
};
const SOURCES = {
  user: "asked",
  admin: "by an administrator",
  webhook: "from Overseerr",
  sync: "from Overseerr",
  library: "seen in Plex",
};
const TONES = { available: "ok", partially_available: "ok", declined: "failed", failed: "failed", pending: "wait" };

const filters = document.querySelector("[data-filters]");
const list = document.querySelector("[data-list]");
const rows = list.querySelector("[data-rows]");
const count = list.querySelector("[data-list-count]");
const empty = list.querySelector("[data-list-empty]");
const pager = list.querySelector("[data-pager]");
const listStatus = document.querySelector("[data-list-status]");
const listError = document.querySelector("[data-list-error]");
const admin = list.hasAttribute("data-admin");
let page = Number(new URLSearchParams(location.search).get("page")) || 1;

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function when(iso) {
  return new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

function seasonsText(request) {
  if (request.mediaType !== "tv" || !request.seasons || request.seasons.length === 0) return "";
  const numbers = request.seasons;
  return numbers.length === 1 ? `Season ${numbers[0]}` : `Seasons ${numbers.join(", ")}`;
}

function statusBadge(status) {
  const tone = TONES[status];
  return element("span", `badge${tone ? ` badge-${tone}` : ""}`, STATUSES[status] || status);
}

function poster(request) {
  if (!request.posterPath) {
    const frame = element("span", "poster request-poster poster-empty poster-missing");
    frame.setAttribute("aria-hidden", "true");
    return frame;
  }
  const img = element("img", "poster request-poster");
  img.src = POSTER_BASE + request.posterPath;
  img.alt = "";
  img.width = 342;
  img.height = 513;
  img.loading = "lazy";
  img.referrerPolicy = "no-referrer";
  img.dataset.title = request.title;
  return img;
}

function historyList(history) {
  const items = element("ol", "request-history");
  for (const entry of history) {
    const item = element("li");
    const time = element("time", "", when(entry.at));
    time.dateTime = entry.at;
    item.append(statusBadge(entry.status), " ", time, " ", element("span", "muted", SOURCES[entry.source] || entry.source));
    items.append(item);
  }
  return items;
}

// One request as a row of the list.
export function renderRow(request) {
  const row = element("li", "request-row");
  row.id = `request-${request.id}`;
  row.dataset.requestId = request.id;
  row.dataset.status = request.status;

  const text = element("div", "request-text");
  const title = element("h3", "request-title");
  const link = element("a", "", request.title);
  link.href = `/requests/${request.mediaType}/${request.tmdbId}`;
  title.append(link);
  if (request.year) title.append(" ", element("span", "muted", `(${request.year})`));
  const facts = [request.mediaType === "movie" ? "Movie" : "TV show", seasonsText(request), request.is4k ? "4K" : ""];
  const line = element("p", "request-line", facts.filter(Boolean).join(" · "));
  const asked = admin
    ? `Asked for by ${request.requestedBy.username} on ${when(request.createdAt)}.`
    : request.following
      ? `Asked for by ${request.requestedBy.username} on ${when(request.createdAt)}; you follow it.`
      : `You asked on ${when(request.createdAt)}.`;
  const who = element("p", "request-line muted", asked);
  text.append(title, line, who);
  if (request.reason) text.append(element("p", "request-line", `Reason: ${request.reason}`));

  const state = element("div", "request-state");
  state.append(statusBadge(request.status));
  const buttons = element("div", "request-actions");
  if (admin && request.status === "pending") {
    const approve = element("button", "button button-small button-primary", "Approve");
    approve.type = "button";
    approve.dataset.approve = "";
    approve.setAttribute("aria-label", `Approve ${request.requestedBy.username}'s request for ${request.title}`);
    const decline = element("button", "button button-small button-danger", "Decline");
    decline.type = "button";
    decline.dataset.decline = "";
    decline.setAttribute("aria-label", `Decline ${request.requestedBy.username}'s request for ${request.title}`);
    buttons.append(approve, decline);
  } else if (!admin && !request.following && request.status === "pending") {
    const cancel = element("button", "button button-small button-danger", "Cancel");
    cancel.type = "button";
    cancel.dataset.cancel = "";
    cancel.setAttribute("aria-label", `Cancel your request for ${request.title}`);
    buttons.append(cancel);
  }
  if (!admin && request.following) {
    const stop = element("button", "button button-small", "Stop following");
    stop.type = "button";
    stop.dataset.unfollow = "";
    stop.setAttribute("aria-label", `Stop following ${request.title}`);
    buttons.append(stop);
  }
  state.append(buttons);

  const details = element("details", "request-details");
  details.dataset.history = "";
  const summary = element("summary", "", "Status history");
  details.append(summary);
  if (request.history) details.append(historyList(request.history));
  else details.append(element("p", "muted", "Loading…"));

  const error = element("p", "action-error");
  error.setAttribute("role", "alert");
  error.dataset.rowError = "";
  error.hidden = true;

  row.append(poster(request), text, state, details, error);
  return row;
}

// Draw the request again where its row is (a live update needs nothing else).
export async function refreshRow(requestId) {
  const current = rows.querySelector(`[data-request-id="${CSS.escape(requestId)}"]`);
  if (!current) return;
  const request = await api("GET", `/media/requests/${encodeURIComponent(requestId)}`);
  const open = current.querySelector("details").open;
  const fresh = renderRow(request);
  fresh.querySelector("details").open = open;
  current.replaceWith(fresh);
}

function query() {
  const params = new URLSearchParams();
  for (const name of ["search", "status", "mediaType", "scope"]) {
    const field = filters.elements.namedItem(name);
    if (!field) continue; // All requests has no "whose"
    const value = (field.value || "").trim();
    if (value) params.set(name, value);
  }
  return params;
}

async function load() {
  list.setAttribute("aria-busy", "true");
  hide(listError);
  const params = query();
  const address = new URLSearchParams(params);
  if (page > 1) address.set("page", String(page));
  history.replaceState(null, "", `${location.pathname}${address.size ? `?${address}` : ""}${location.hash}`);
  params.set("page", String(page));
  params.set("pageSize", String(PAGE_SIZE));
  params.set("sort", "newest");
  try {
    const { items, meta } = await apiPage(`${admin ? "/admin/requests" : "/media/requests"}?${params}`);
    rows.replaceChildren(...items.map(renderRow));
    const filtered = [...query().keys()].length > 0;
    count.textContent = meta.total === 0 ? "" : `${meta.total} request${meta.total === 1 ? "" : "s"}.`;
    empty.hidden = items.length > 0;
    if (items.length === 0 && filtered) {
      empty.querySelector("[data-empty-title]").textContent = "No request matches";
      empty.querySelector("[data-empty-text]").textContent = "Try another status or kind, or clear the title.";
    }
    pager.hidden = meta.totalPages <= 1;
    pager.querySelector("[data-page]").textContent = `Page ${meta.page} of ${Math.max(meta.totalPages, 1)}`;
    pager.querySelector("[data-prev]").disabled = meta.page <= 1;
    pager.querySelector("[data-next]").disabled = meta.page >= meta.totalPages;
    openFromAddress();
  } catch (error) {
    count.textContent = "";
    show(listError, error instanceof ApiError ? error.message : "Your requests cannot be shown right now.");
  } finally {
    list.removeAttribute("aria-busy");
  }
}

// A link to one request (#request-<id>) opens its history.
function openFromAddress() {
  const wanted = location.hash.startsWith("#request-") ? document.getElementById(location.hash.slice(1)) : null;
  if (!wanted) return;
  const details = wanted.querySelector("details");
  details.open = true;
  loadHistory(details);
  wanted.classList.add("is-target");
  wanted.scrollIntoView({ block: "center" });
}

async function loadHistory(details) {
  if (details.dataset.loaded) return;
  details.dataset.loaded = "true";
  const row = details.closest("[data-request-id]");
  try {
    const request = await api("GET", `/media/requests/${encodeURIComponent(row.dataset.requestId)}`);
    details.replaceChildren(details.querySelector("summary"), historyList(request.history || []));
  } catch (error) {
    delete details.dataset.loaded;
    details.replaceChildren(details.querySelector("summary"), element("p", "action-error", error.message || "The history cannot be shown right now."));
  }
}

rows.addEventListener("toggle", (event) => {
  const details = event.target;
  if (details instanceof HTMLDetailsElement && details.open) loadHistory(details);
}, true);

function title(row) {
  return row.querySelector(".request-title a").textContent;
}

async function change(row, button, method, path, done, body) {
  const error = row.querySelector("[data-row-error]");
  hide(error);
  hide(listStatus);
  button.disabled = true;
  try {
    const changed = await api(method, path, body);
    if (admin && changed) row.replaceWith(renderRow(changed));
    else row.remove();
    show(listStatus, done);
    if (!rows.children.length) load();
  } catch (failure) {
    button.disabled = false;
    show(error, failure instanceof ApiError ? failure.message : "That did not work. Try again.");
  }
}

rows.addEventListener("click", (event) => {
  const button = event.target.closest("button");
  const row = button?.closest("[data-request-id]");
  if (!row) return;
  const id = encodeURIComponent(row.dataset.requestId);
  const name = title(row);
  if (button.matches("[data-cancel]")) {
    if (!window.confirm(`Cancel your request for ${name}? Overseerr forgets it too.`)) return;
    change(row, button, "DELETE", `/media/requests/${id}`, `Your request for ${name} is cancelled.`);
  } else if (button.matches("[data-unfollow]")) {
    change(row, button, "DELETE", `/media/requests/${id}/follow`, `You no longer follow ${name}.`);
  } else if (button.matches("[data-approve]")) {
    change(row, button, "POST", `/admin/requests/${id}/approve`, `${name} is approved.`);
  } else if (button.matches("[data-decline]")) {
    const reason = window.prompt(`Decline ${name}? The reason is shown to whoever asked (optional).`, "");
    if (reason === null) return;
    const body = reason.trim() ? { reason: reason.trim().slice(0, 500) } : {};
    change(row, button, "POST", `/admin/requests/${id}/decline`, `${name} is declined.`, body);
  }
});

filters.addEventListener("submit", (event) => {
  event.preventDefault();
  page = 1;
  load();
});
for (const select of filters.querySelectorAll("select")) {
  select.addEventListener("change", () => {
    page = 1;
    load();
  });
}
pager.querySelector("[data-prev]").addEventListener("click", () => {
  page = Math.max(1, page - 1);
  load();
});
pager.querySelector("[data-next]").addEventListener("click", () => {
  page += 1;
  load();
});
window.addEventListener("hashchange", openFromAddress);
document.addEventListener("medianest:request.updated", (event) => {
  const id = event.detail?.requestId;
  if (typeof id !== "string") return;
  refreshRow(id).catch(() => {
    // Gone meanwhile (cancelled in another tab): the next load shows what is left.
  });
});
document.addEventListener("medianest:resync", () => load());

load();
