// The inbox: opening a notification marks it read and follows its link; "Mark as read", "Mark
// all as read" and "Delete" change it in place. The bell is told after each change, and tells
// back the new count ("notifications:changed", "notifications:count" in bell.js).

import { api } from "../../js/api.js";

const inbox = document.querySelector("[data-inbox]");
const status = inbox.querySelector("[data-inbox-status]");
const failure = inbox.querySelector("[data-inbox-error]");
const readAll = inbox.querySelector("[data-read-all]");
const summary = inbox.querySelector("[data-unread-summary]");

function changed() {
  document.dispatchEvent(new CustomEvent("notifications:changed"));
}

function say(text) {
  failure.hidden = true;
  status.textContent = text;
}

function fail(error) {
  failure.textContent = error.message;
  failure.hidden = false;
}

function itemOf(element) {
  return element.closest("[data-notification]");
}

function titleOf(item) {
  return item.querySelector(".notification-title > a, .notification-title > span").textContent.trim();
}

function showRead(item) {
  delete item.dataset.unread;
  item.classList.remove("notification-unread");
  item.querySelector("[data-unread-badge]")?.remove();
  const button = item.querySelector("[data-mark-read]");
  if (button) {
    // Keep the keyboard where it was: on the item's next control, not lost with the button.
    if (document.activeElement === button) item.querySelector("[data-delete]").focus();
    button.remove();
  }
}

async function markRead(item) {
  await api("POST", `/notifications/${item.dataset.notification}/read`);
  showRead(item);
  changed();
}

async function open(link, event) {
  const item = itemOf(link);
  if (item.dataset.unread === undefined) return;
  const elsewhere = event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0;
  if (elsewhere) {
    // Opened in another tab: this page stays, so marking it read can finish here.
    markRead(item).catch(fail);
    return;
  }
  event.preventDefault();
  try {
    await markRead(item);
  } catch {
    // Reading what it links to matters more than the mark; the notification stays unread.
  }
  location.assign(link.href);
}

async function remove(item, button) {
  const title = titleOf(item);
  button.disabled = true;
  try {
    await api("DELETE", `/notifications/${item.dataset.notification}`);
  } catch (error) {
    button.disabled = false;
    fail(error);
    return;
  }
  const next = item.nextElementSibling || item.previousElementSibling;
  item.remove();
  changed();
  if (!next) {
    // The page is empty now: the server says what is left (an earlier page, or nothing).
    location.reload();
    return;
  }
  next.querySelector("a, button")?.focus();
  say(`Deleted “${title}”.`);
}

async function markAllRead() {
  readAll.disabled = true;
  try {
    const { updated } = await api("POST", "/notifications/read-all");
    for (const item of inbox.querySelectorAll("[data-notification][data-unread]")) showRead(item);
    readAll.hidden = true;
    say(updated === 1 ? "Marked 1 notification as read." : `Marked ${updated} notifications as read.`);
    changed();
  } catch (error) {
    fail(error);
  } finally {
    readAll.disabled = false;
  }
}

inbox.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-open]");
  if (link) {
    open(link, event);
    return;
  }
  const button = event.target.closest("button");
  if (!button || button.disabled) return;
  if (button.matches("[data-read-all]")) {
    markAllRead();
    return;
  }
  const item = itemOf(button);
  if (!item) return;
  if (button.matches("[data-mark-read]")) {
    const title = titleOf(item);
    button.disabled = true;
    markRead(item)
      .then(() => say(`Marked “${title}” as read.`))
      .catch((error) => {
        button.disabled = false;
        fail(error);
      });
  } else if (button.matches("[data-delete]")) {
    remove(item, button);
  }
});

// A middle click opens the link in a new tab without a click event.
inbox.addEventListener("auxclick", (event) => {
  const link = event.target.closest("a[data-open]");
  if (link && event.button === 1) open(link, event);
});

document.addEventListener("notifications:count", (event) => {
  const { count } = event.detail;
  summary.textContent = count > 0 ? `${count} unread` : "Nothing unread";
  readAll.hidden = count === 0;
});
