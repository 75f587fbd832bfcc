// The bell in the header: how many notifications are unread, kept fresh without a push.
//
// Asked when the page opens (unless the page rendered it already), when the tab is shown again,
// every minute while it is shown, and whenever a page says it changed something
// ("notifications:changed"). Each new count is told to the page as "notifications:count".

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

function refresh() {
  asking ??= api("GET", "/notifications/unread-count")
    .then((data) => show(data.unreadCount))
    .catch(() => {
      // Offline, or signed out in another tab: the bell keeps its last count until next time.
    })
    .finally(() => {
      asking = null;
    });
  return asking;
}

function visible() {
  return document.visibilityState === "visible";
}

if (bells.length) {
  if (!bells.every((bell) => bell.dataset.count !== undefined)) refresh();
  setInterval(() => {
    if (visible()) refresh();
  }, REFRESH_MS);
  document.addEventListener("visibilitychange", () => {
    if (visible()) refresh();
  });
  document.addEventListener("notifications:changed", refresh);
}
