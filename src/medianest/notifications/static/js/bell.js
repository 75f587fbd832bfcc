// The bell in the header: how many notifications are unread.
//
// Live while the page's socket is up (js/realtime.js): each `medianest:notification.created`
// adds one, and after a reconnect (`medianest:resync`) the count is asked again, since
// notifications may have come while the socket was down. While it is down, the count is asked
// every minute the tab is shown. It is also asked when the page opens (unless the page
// rendered it already), when the tab is shown again (live updates are best effort: this
// mends a push that was lost without the socket noticing), and whenever a page says it
// changed something ("notifications:changed"). Each new count is told to the page as
// "notifications:count".

import { api } from "../../js/api.js";

const REFRESH_MS = 60_000;
const bells = [...document.querySelectorAll("[data-bell]")];

function show(count) {
  for (const bell of bells) {
    bell.setAttribute("aria-label", count > 0 ? `Notifications, ${count} unread` : "Notifications");
    bell.dataset.count = String(count);
    const badge = bell.querySelector("[data-bell-count]");
    if (badge) {
      badge.textContent = count > 99 ? "99+" : String(count);
      badge.hidden = count === 0;
    }
  }
  document.dispatchEvent(new CustomEvent("notifications:count", { detail: { count } }));
}

let asking = null;
// A notification pushed while the count is being asked may or may not be in the answer: ask
// once more afterwards rather than guess.
let askAgain = false;

function refresh() {
  if (asking) {
    askAgain = true;
    return asking;
  }
  asking = api("GET", "/notifications/unread-count")
    .then((data) => show(data.unreadCount))
    .catch(() => {
      // Offline, or signed out in another tab: the bell keeps its last count until next time.
    })
    .finally(() => {
      asking = null;
      if (askAgain) {
        askAgain = false;
        refresh();
      }
    });
  return asking;
}

function visible() {
  return document.visibilityState === "visible";
}

function live() {
  return document.documentElement.dataset.realtime === "on";
}

function counted() {
  const count = Number(bells[0].dataset.count);
  return Number.isInteger(count) && count >= 0 ? count : null;
}

if (bells.length) {
  if (!bells.every((bell) => bell.dataset.count !== undefined)) refresh();
  setInterval(() => {
    if (visible() && !live()) refresh();
  }, REFRESH_MS);
  document.addEventListener("visibilitychange", () => {
    if (visible()) refresh();
  });
  document.addEventListener("notifications:changed", refresh);
  document.addEventListener("medianest:resync", refresh);
  document.addEventListener("medianest:notification.created", (event) => {
    const count = counted();
    if (asking || count === null) refresh();
    else if (!event.detail?.read) show(count + 1);
  });
}
