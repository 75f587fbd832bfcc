// The users page: the list (searched as you type, filtered, sorted, paged, kept in the address),
// and per account: change the role, suspend or reactivate, make a password reset link, delete.

import { api, apiPage } from "../../js/api.js";
import { hide, setBusy, show, showError } from "../../js/forms.js";

const PAGE_SIZE = 20;
const SEARCH_DELAY_MS = 300;
const DEFAULT_SORT = "username";

const filters = document.querySelector("[data-user-filters]");
const panel = document.querySelector("[data-users]");
const me = panel.dataset.me;
const notice = panel.querySelector("[data-users-notice]");
const count = panel.querySelector("[data-users-count]");
const listError = panel.querySelector("[data-users-error]");
const table = panel.querySelector("[data-users-table]");
const rows = panel.querySelector("[data-users-rows]");
// The columns other domains add (their heading names the key of each user's fact).
const factColumns = [...table.querySelectorAll("th[data-fact]")].map((heading) => ({
  key: heading.dataset.fact,
  label: heading.textContent,
}));
const empty = panel.querySelector("[data-users-empty]");
const emptyText = panel.querySelector("[data-users-empty-text]");
const pager = panel.querySelector("[data-users-pager]");
const previous = pager.querySelector('[data-page="previous"]');
const next = pager.querySelector('[data-page="next"]');

// Words

const AVATAR_COLOURS = 6;
const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// "Just now", "5 minutes ago", "Yesterday", "3 days ago", then the date.
function ago(iso) {
  const elapsed = Date.now() - new Date(iso).getTime();
  let words;
  if (elapsed < MINUTE) words = "just now";
  else if (elapsed < HOUR) words = RELATIVE.format(-Math.floor(elapsed / MINUTE), "minute");
  else if (elapsed < DAY) words = RELATIVE.format(-Math.floor(elapsed / HOUR), "hour");
  else if (elapsed < 14 * DAY) words = RELATIVE.format(-Math.floor(elapsed / DAY), "day");
  else return day(iso);
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function day(iso) {
  const parts = { day: "numeric", month: "short", year: "numeric" };
  return new Date(iso).toLocaleDateString(undefined, parts);
}

function clock(iso) {
  return new Date(iso).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

function fullMoment(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "long", timeStyle: "short" });
}

function plural(n, one, many) {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

// The same initials and colour as the server's avatars (web/humanize.py).
function initials(name) {
  const parts = name.replace(/[_.-]/g, " ").split(/\s+/).filter(Boolean);
  if (parts.length >= 2) return (parts[0][0] + parts[1][0]).toUpperCase();
  return name.slice(0, 2).toUpperCase() || "?";
}

async function avatarColour(name) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(name));
  return new Uint8Array(digest)[0] % AVATAR_COLOURS;
}

function avatar(user) {
  const slot = document.createElement("span");
  slot.setAttribute("aria-hidden", "true");
  paintAvatar(slot, user.username);
  return slot;
}

function paintAvatar(slot, name) {
  slot.className = "avatar avatar-plain";
  slot.textContent = initials(name);
  // crypto.subtle only exists on secure origins (https or localhost); elsewhere avatars stay plain.
  if (!crypto.subtle) return;
  avatarColour(name).then((colour) => slot.classList.replace("avatar-plain", `avatar-${colour}`));
}

const roleName = (user) => (user.role === "admin" ? "Administrator" : "Member");

function signInMethod(user) {
  if (user.plexLinked && user.hasPassword) return "Plex and password";
  if (user.plexLinked) return "Plex";
  if (user.hasPassword) return "Password";
  return "No way to sign in yet";
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function badge(text, tone) {
  return element("span", tone ? `badge badge-${tone}` : "badge", text);
}

function moment(iso, fallback, words = ago) {
  if (!iso) return element("span", "muted", fallback);
  const time = element("time", "", words(iso));
  time.dateTime = iso;
  time.title = fullMoment(iso);
  return time;
}

// The list

const users = new Map();
let page = Math.max(1, Number.parseInt(new URLSearchParams(location.search).get("page"), 10) || 1);
let loading = 0;
let searchTimer = null;

function criteria() {
  const form = new FormData(filters);
  return {
    search: String(form.get("search") || "").trim(),
    role: String(form.get("role") || ""),
    status: String(form.get("status") || ""),
    sort: String(form.get("sort") || DEFAULT_SORT),
  };
}

function query(wanted, { forApi }) {
  const params = new URLSearchParams();
  if (wanted.search) params.set("search", wanted.search);
  if (wanted.role) params.set("role", wanted.role);
  if (wanted.status) params.set("status", wanted.status);
  if (forApi || wanted.sort !== DEFAULT_SORT) params.set("sort", wanted.sort);
  if (forApi || page > 1) params.set("page", String(page));
  if (forApi) params.set("pageSize", String(PAGE_SIZE));
  return params.toString();
}

function userCell(user) {
  const cell = element("td", "user-cell");
  const wrap = element("div", "user-who");
  const text = element("div", "user-text");
  const name = element("p", "user-name");
  name.append(element("span", "", user.username));
  if (user.id === me) name.append(" ", badge("You", "plex"));
  text.append(name, element("p", "user-email", user.email || "No e-mail address"));
  wrap.append(avatar(user), text);
  cell.append(wrap);
  return cell;
}

function labelled(label, ...content) {
  const cell = element("td");
  cell.dataset.label = label;
  const value = element("div", "cell-value");
  value.append(...content);
  cell.append(value);
  return cell;
}

function factCell(user, key, label) {
  const fact = user.facts[key];
  if (!fact) return labelled(label, element("span", "muted", "Unknown"));
  const parts = [element("span", "", fact.text)];
  if (fact.note) parts.push(element("span", "cell-note", fact.note));
  return labelled(label, ...parts);
}

function actionsCell(user) {
  const cell = element("td", "user-actions");
  if (user.id === me) {
    // Nobody demotes, suspends or deletes themself: their own account is managed elsewhere.
    const link = element("a", "", "Your account");
    link.href = "/account";
    cell.append(link);
    return cell;
  }
  const button = element("button", "button button-small", "Manage");
  button.type = "button";
  button.dataset.manage = user.id;
  button.append(element("span", "visually-hidden", ` ${user.username}`));
  button.addEventListener("click", () => openManage(user.id));
  cell.append(button);
  return cell;
}

function renderRow(user) {
  const row = element("tr");
  row.dataset.user = user.id;
  const methodParts = [element("span", "", signInMethod(user))];
  if (user.hasPassword) {
    methodParts.push(element("span", "cell-note", user.twoFactorEnabled ? "2FA on" : "2FA off"));
  }
  row.append(
    userCell(user),
    labelled("Role", roleName(user)),
    labelled(
      "Status",
      user.status === "active" ? badge("Active", "ok") : badge("Suspended", "failed"),
    ),
    labelled("Signs in with", ...methodParts),
    ...factColumns.map(({ key, label }) => factCell(user, key, label)),
    labelled("Last seen", moment(user.lastSeenAt, "Never")),
    labelled("Created", moment(user.createdAt, "Unknown", day)),
    actionsCell(user),
  );
  return row;
}

function replaceRow(user) {
  users.set(user.id, user);
  const old = rows.querySelector(`tr[data-user="${user.id}"]`);
  if (old) old.replaceWith(renderRow(user));
}

function describeCount(wanted, meta) {
  const found = plural(meta.total, "user", "users");
  const matching = wanted.search ? `${found} match “${wanted.search}”` : found;
  const where = meta.totalPages > 1 ? `, page ${meta.page} of ${meta.totalPages}` : "";
  return `${matching}${where}.`;
}

function describeEmpty(wanted) {
  const filtered = wanted.role || wanted.status;
  if (wanted.search) {
    return `No users match “${wanted.search}”${filtered ? " with these filters" : ""}.`;
  }
  return filtered ? "No users match these filters." : "There are no users yet.";
}

async function load() {
  const wanted = criteria();
  const mine = ++loading;
  const address = query(wanted, { forApi: false });
  history.replaceState(null, "", address ? `?${address}` : location.pathname);
  panel.setAttribute("aria-busy", "true");
  let result;
  try {
    result = await apiPage(`/admin/users?${query(wanted, { forApi: true })}`);
  } catch (error) {
    if (mine !== loading) return;
    panel.removeAttribute("aria-busy");
    hide(table);
    hide(empty);
    hide(pager);
    count.textContent = "";
    showError(listError, error);
    return;
  }
  if (mine !== loading) return;
  panel.removeAttribute("aria-busy");
  hide(listError);
  const { items, meta } = result;
  if (items.length === 0 && page > 1) {
    // Past the last page (someone was deleted, or an old address): show the last one there is.
    page = Math.max(1, meta.totalPages);
    load();
    return;
  }
  users.clear();
  for (const user of items) users.set(user.id, user);
  rows.replaceChildren(...items.map(renderRow));
  table.hidden = items.length === 0;
  if (items.length === 0) {
    count.textContent = "";
    emptyText.textContent = describeEmpty(wanted);
    show(empty);
  } else {
    hide(empty);
    count.textContent = describeCount(wanted, meta);
  }
  pager.hidden = meta.totalPages <= 1;
  previous.hidden = meta.page <= 1;
  next.hidden = meta.page >= meta.totalPages;
}

function reloadFromFirstPage() {
  clearTimeout(searchTimer);
  page = 1;
  hide(notice);
  load();
}

filters.addEventListener("submit", (event) => {
  event.preventDefault();
  reloadFromFirstPage();
});
filters.elements.namedItem("search").addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(reloadFromFirstPage, SEARCH_DELAY_MS);
});
for (const select of filters.querySelectorAll("select")) {
  select.addEventListener("change", reloadFromFirstPage);
}
panel.querySelector("[data-clear-filters]").addEventListener("click", () => {
  for (const name of ["search", "role", "status"]) filters.elements.namedItem(name).value = "";
  reloadFromFirstPage();
  filters.elements.namedItem("search").focus();
});
previous.addEventListener("click", () => {
  page = Math.max(1, page - 1);
  load().then(() => count.scrollIntoView({ block: "nearest" }));
});
next.addEventListener("click", () => {
  page += 1;
  load().then(() => count.scrollIntoView({ block: "nearest" }));
});

// Managing one account

const manage = document.querySelector("[data-manage]");
const part = (name) => manage.querySelector(`[data-${name}]`);
const roleButton = part("change-role");
const statusButton = part("change-status");
const resetPart = part("reset-part");
const makeLink = part("make-link");
const resetResult = part("reset-result");
const resetUrl = part("reset-url");
const copyLink = part("copy-link");
const deleteButton = part("delete");
let managed = null;

function renderManage(user) {
  const who = user.username;
  paintAvatar(part("manage-avatar"), who);
  part("manage-name").textContent = who;
  part("manage-email").textContent = user.email || "No e-mail address";
  part("manage-who").textContent = who;

  const admin = user.role === "admin";
  part("role-text").textContent = admin
    ? `${who} is an administrator: they can manage users and connections, like you.`
    : `${who} is a member: they use MediaNest, without the administration pages.`;
  roleButton.textContent = admin ? "Make them a member" : "Make them an administrator";

  const active = user.status === "active";
  part("status-text").textContent = active
    ? `${who} can sign in. Suspending them signs them out on every device at once and keeps them out until you reactivate them.`
    : `${who} is suspended: they cannot sign in until you reactivate them.`;
  statusButton.textContent = active ? `Suspend ${who}` : `Reactivate ${who}`;
  statusButton.classList.toggle("button-danger", active);

  resetPart.hidden = !user.hasPassword;
  deleteButton.textContent = `Delete ${who}…`;
}

function openManage(id) {
  const user = users.get(id);
  if (!user) return;
  managed = user;
  for (const slot of manage.querySelectorAll(".action-result, .action-error")) hide(slot);
  hide(resetResult);
  resetUrl.value = "";
  renderManage(user);
  manage.showModal();
}

manage.addEventListener("close", () => {
  const id = managed?.id;
  managed = null;
  // The row may have been drawn again meanwhile: focus its new button.
  const button = id && rows.querySelector(`[data-manage="${id}"]`);
  if (button) button.focus();
});

async function change(button, resultSlot, errorSlot, body, said) {
  const user = managed;
  hide(resultSlot);
  hide(errorSlot);
  setBusy(button, true);
  try {
    const changed = await api("PATCH", `/admin/users/${user.id}`, body);
    replaceRow(changed);
    if (managed?.id === changed.id) {
      managed = changed;
      renderManage(changed);
    }
    show(resultSlot, said(changed));
  } catch (error) {
    showError(errorSlot, error);
  } finally {
    setBusy(button, false);
  }
}

roleButton.addEventListener("click", () => {
  const role = managed.role === "admin" ? "user" : "admin";
  change(roleButton, part("role-result"), part("role-error"), { role }, (user) =>
    user.role === "admin" ? `${user.username} is now an administrator.` : `${user.username} is now a member.`,
  );
});

statusButton.addEventListener("click", () => {
  const status = managed.status === "active" ? "suspended" : "active";
  change(statusButton, part("status-result"), part("status-error"), { status }, (user) =>
    user.status === "active"
      ? `${user.username} can sign in again.`
      : `${user.username} is suspended and was signed out everywhere.`,
  );
});

makeLink.addEventListener("click", async () => {
  const errorSlot = part("reset-error");
  hide(errorSlot);
  setBusy(makeLink, true);
  try {
    const link = await api("POST", `/admin/users/${managed.id}/password-reset-link`, {});
    resetUrl.value = new URL(link.url, location.origin).href;
    part("reset-expiry").textContent =
      `It works once, within ${resetPart.dataset.resetValid}: until ${clock(link.expiresAt)}. ` +
      "Making another link does not cancel this one.";
    show(resetResult);
    resetUrl.focus();
    resetUrl.select();
  } catch (error) {
    showError(errorSlot, error);
  } finally {
    setBusy(makeLink, false);
  }
});

copyLink.addEventListener("click", async () => {
  const label = copyLink.querySelector("span");
  try {
    await navigator.clipboard.writeText(resetUrl.value);
    label.textContent = "Copied";
  } catch {
    // Browsers refuse the clipboard outside https: the link is selected, to copy by hand.
    resetUrl.focus();
    resetUrl.select();
    label.textContent = "Selected";
  }
  setTimeout(() => {
    label.textContent = "Copy";
  }, 2500);
});

// Deleting, after saying what goes

const confirmDelete = document.querySelector("[data-confirm-delete]");
const confirmButton = confirmDelete.querySelector("[data-delete-confirm]");
const cancelButton = confirmDelete.querySelector("[data-delete-cancel]");
const deleteError = confirmDelete.querySelector("[data-delete-error]");

deleteButton.addEventListener("click", () => {
  const who = managed.username;
  confirmDelete.querySelector("#delete-title").textContent = `Delete ${who}?`;
  const alongside = [];
  if (managed.hasPassword) alongside.push("their password and any reset links");
  if (managed.twoFactorEnabled) alongside.push("their two-factor settings and backup codes");
  const extra = alongside.length ? ` with ${alongside.join(" and ")},` : "";
  confirmDelete.querySelector("[data-delete-what]").textContent =
    `This removes ${who}'s account${extra} and signs them out on every device at once.`;
  const plex = confirmDelete.querySelector("[data-delete-plex]");
  plex.hidden = !managed.plexLinked;
  plex.textContent = managed.plexLinked
    ? `${who} signs in with Plex: while their Plex account can reach your Plex server, signing in with Plex again makes them a new, empty account. Suspend them to keep them out.`
    : "";
  confirmButton.textContent = `Delete ${who}`;
  cancelButton.textContent = `Keep ${who}`;
  hide(deleteError);
  confirmDelete.showModal();
});

cancelButton.addEventListener("click", () => confirmDelete.close());

confirmButton.addEventListener("click", async () => {
  const user = managed;
  hide(deleteError);
  setBusy(confirmButton, true, "Deleting…");
  try {
    await api("DELETE", `/admin/users/${user.id}`);
  } catch (error) {
    showError(deleteError, error);
    return;
  } finally {
    setBusy(confirmButton, false);
  }
  // Its row is about to go: nothing to give the focus back to but the notice.
  managed = null;
  confirmDelete.close();
  manage.close();
  show(notice, `${user.username} was deleted.`);
  notice.setAttribute("tabindex", "-1");
  notice.focus();
  await load();
});

load();
