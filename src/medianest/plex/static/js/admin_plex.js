// The Plex server page: link a Plex account and pick a server, or type an address and token;
// test, save, and watch the library index sync.

import { api, ApiError } from "../../js/api.js";
import { clearErrors, hide, onSubmit, setBusy, show, showError, value } from "../../js/forms.js";
import { PinExpired, approved, closeWindow } from "../../auth/js/plex_pin.js";

// The connection panel

const connection = document.querySelector("[data-connection]");
const savedResult = connection.querySelector("[data-saved-result]");
let plexConnected = !connection.querySelector("[data-connected]").hidden;

function fact(name, text) {
  const slot = connection.querySelector(`[data-fact="${name}"]`);
  if (slot) slot.textContent = text;
}

function renderStatus(status) {
  const connected = status.configured;
  for (const element of connection.querySelectorAll("[data-connected], [data-connection-facts]")) {
    element.hidden = !connected;
  }
  for (const element of connection.querySelectorAll("[data-not-connected], [data-not-connected-text]")) {
    element.hidden = connected;
  }
  fact("name", status.server ? status.server.name : "Not tested yet");
  fact("version", status.server ? status.server.version || "Unknown" : "Not tested yet");
  fact("url", status.url || "");
  fact("updated", "Just now");
  plexConnected = connected;
  if (lastJob) renderSync(lastJob);
}

// One line saying what a test found: the server and how fast it answered, or why it failed.
function showResult(slot, result) {
  slot.classList.toggle("is-ok", result.ok);
  slot.classList.toggle("is-failed", !result.ok);
  if (result.ok) {
    const version = result.version ? `, Plex ${result.version}` : "";
    show(slot, `Connected to “${result.name}”${version}, in ${result.latencyMs} ms.`);
  } else {
    show(slot, result.error || "The test failed.");
  }
}

function showTestError(slot, error) {
  slot.classList.remove("is-ok");
  slot.classList.add("is-failed");
  show(slot, error instanceof ApiError ? error.message : "The test could not run. Try again.");
  if (!(error instanceof ApiError)) console.error(error);
}

const testSaved = connection.querySelector("[data-test-saved]");
testSaved.addEventListener("click", async () => {
  setBusy(testSaved, true);
  hide(savedResult);
  try {
    showResult(savedResult, await api("POST", "/admin/services/plex/test", {}));
  } catch (error) {
    showTestError(savedResult, error);
  } finally {
    setBusy(testSaved, false);
  }
});

// The address and token form

const form = document.getElementById("connection-form");
const testButton = form.querySelector("[data-test]");
const testResult = form.querySelector("[data-test-result]");

function formBody() {
  const body = { url: value(form, "url").trim() };
  const token = value(form, "token").trim();
  if (token) body.token = token;
  return body;
}

async function testForm() {
  clearErrors(form);
  hide(testResult);
  const body = formBody();
  if (!body.url) {
    showError(form, new ApiError(400, {
      message: "Enter the Plex server's address.",
      details: [{ field: "url", message: "Enter the Plex server's address, like http://192.168.1.20:32400." }],
    }));
    return;
  }
  setBusy(testButton, true, "Testing…");
  try {
    showResult(testResult, await api("POST", "/admin/services/plex/test", body));
  } catch (error) {
    if (error instanceof ApiError && error.details.some((d) => d.field)) showError(form, error);
    else showTestError(testResult, error);
  } finally {
    setBusy(testButton, false);
  }
}

testButton.addEventListener("click", testForm);

onSubmit(form, "Saving…", async () => {
  hide(testResult);
  const status = await api("PUT", "/admin/services/plex", formBody());
  form.elements.namedItem("token").value = "";
  renderStatus(status);
  const version = status.server && status.server.version ? `, Plex ${status.server.version}` : "";
  testResult.classList.add("is-ok");
  testResult.classList.remove("is-failed");
  show(testResult, `Saved. MediaNest now uses “${status.server ? status.server.name : status.url}”${version}.`);
  // Connecting starts a full sync of the library index.
  expectSync();
  refreshSync();
});

// Linking a Plex account, then picking one of its servers

const account = document.querySelector("[data-account]");
const linkButton = account.querySelector("[data-link-plex]");
const loadButton = account.querySelector("[data-load-servers]");
const progress = account.querySelector("[data-plex-progress]");
const statusLine = account.querySelector("[data-plex-status]");
const fallback = account.querySelector("[data-plex-fallback]");
const fallbackLink = account.querySelector("[data-plex-link]");
const accountStatus = account.querySelector("[data-account-status]");
const accountError = account.querySelector("[data-account-error]");
const serverList = account.querySelector("[data-servers]");
let linkFlow = null;

// One primary button at a time, on the step that comes next: linking an account, then finding
// its servers, then using one of their addresses.
function emphasise(step) {
  linkButton.classList.toggle("button-plex", step === "link");
  loadButton.classList.toggle("button-primary", step === "find");
}

function endLinkFlow() {
  linkFlow?.abort();
  linkFlow = null;
  hide(progress);
  hide(fallback);
  setBusy(linkButton, false);
}

async function linkPlexAccount() {
  hide(accountError);
  hide(accountStatus);
  // Opened before any await: browsers only allow popups straight from a click.
  const popup = window.open("", "medianest-plex", "popup,width=600,height=720");
  const flow = new AbortController();
  linkFlow = flow;
  setBusy(linkButton, true);
  show(progress);
  show(statusLine, "Opening Plex…");
  try {
    const pin = await api("POST", "/auth/plex/pin", {});
    fallbackLink.href = pin.authUrl;
    if (popup && !popup.closed) popup.location.href = pin.authUrl;
    else show(fallback);
    show(statusLine, "Waiting for you to approve in the Plex window…");
    if (!(await approved(pin, flow.signal))) throw new PinExpired();
    closeWindow(popup);
    show(statusLine, "Approved! Linking your Plex account…");
    const linked = await api("POST", "/admin/plex/link", { pinId: pin.id });
    endLinkFlow();
    // "Enter the token, or link your account" and any failed test are answered now.
    clearErrors(form);
    if (testResult.classList.contains("is-failed")) hide(testResult);
    account.dataset.linked = "true";
    hide(account.querySelector("[data-unlinked-text]"));
    show(account.querySelector("[data-linked-text]"));
    account.querySelector("[data-link-label]").textContent = "Link another Plex account";
    show(loadButton);
    emphasise("find");
    show(accountStatus, `Linked to the Plex account “${linked.username}”.`);
    await loadServers();
  } catch (error) {
    // Cancelled: the Plex window is not needed any more either.
    if (flow.signal.aborted) {
      closeWindow(popup);
      return;
    }
    endLinkFlow();
    closeWindow(popup);
    if (error instanceof PinExpired) {
      show(accountError, "The Plex sign-in took too long and expired. Press “Link Plex account” to try again.");
    } else {
      showError(accountError, error);
    }
  }
}

linkButton.addEventListener("click", () => {
  if (!linkFlow) linkPlexAccount();
});
account.querySelector("[data-plex-cancel]").addEventListener("click", () => {
  endLinkFlow();
  linkButton.focus();
});

function connectionLabel(choice) {
  if (choice.relay) return "Relay through plex.tv (slow, limited)";
  return choice.local ? "On the local network" : "Over the internet";
}

function useAddress(uri) {
  const input = form.elements.namedItem("url");
  input.value = uri;
  form.elements.namedItem("token").value = "";
  input.scrollIntoView({ block: "center" });
  input.focus();
  testForm();
}

function renderServers(servers) {
  serverList.replaceChildren();
  if (servers.length === 0) {
    const empty = document.createElement("li");
    empty.className = "empty";
    empty.textContent = "This Plex account reaches no Plex Media Server.";
    serverList.append(empty);
  }
  for (const server of servers) {
    const item = document.createElement("li");
    item.className = "server";
    const head = document.createElement("p");
    head.className = "server-name";
    const name = document.createElement("strong");
    name.textContent = server.name;
    const badge = document.createElement("span");
    badge.className = server.owned ? "badge badge-ok" : "badge";
    badge.textContent = server.owned ? "Yours" : "Shared with you";
    head.append(name, " ", badge);
    item.append(head);
    if (!server.owned) {
      const note = document.createElement("p");
      note.className = "hint";
      note.textContent = "Only the owner's account can connect a server: sign in to Plex as its owner.";
      item.append(note);
    }
    const choices = document.createElement("ul");
    choices.className = "server-addresses";
    choices.setAttribute("role", "list");
    for (const choice of server.connections) {
      const row = document.createElement("li");
      const text = document.createElement("span");
      text.className = "server-address";
      const uri = document.createElement("code");
      uri.textContent = choice.uri;
      const where = document.createElement("span");
      where.className = "muted";
      where.textContent = connectionLabel(choice);
      text.append(uri, where);
      const use = document.createElement("button");
      use.type = "button";
      // Only the owner's servers can be connected: theirs are the step to take.
      use.className = server.owned ? "button button-small button-primary" : "button button-small";
      use.textContent = "Use";
      use.setAttribute("aria-label", `Use ${choice.uri} for ${server.name}`);
      use.addEventListener("click", () => useAddress(choice.uri));
      row.append(text, use);
      choices.append(row);
    }
    item.append(choices);
    serverList.append(item);
  }
  show(serverList);
  // Only shared servers: the next step is signing in to Plex as their owner.
  emphasise(servers.some((server) => server.owned) ? "use" : "link");
}

async function loadServers() {
  hide(accountError);
  setBusy(loadButton, true);
  try {
    renderServers(await api("GET", "/admin/plex/servers"));
  } catch (error) {
    showError(accountError, error);
  } finally {
    setBusy(loadButton, false);
  }
}

loadButton.addEventListener("click", loadServers);

// The library index: its state, a progress bar polled while a sync runs, and "Sync now"

const sync = document.querySelector("[data-sync]");
const syncPanel = sync.querySelector("[data-sync-panel]");
const syncState = sync.querySelector("[data-sync-state]");
const syncSummary = sync.querySelector("[data-sync-summary]");
const syncProgress = sync.querySelector("[data-sync-progress]");
const syncBar = sync.querySelector("[data-sync-bar]");
const syncCount = sync.querySelector("[data-sync-count]");
const syncError = sync.querySelector("[data-sync-error]");
const syncButton = sync.querySelector("[data-sync-now]");
const syncNeedsPlex = sync.querySelector("[data-sync-needs-plex]");
const POLL_MS = 2000;
// While nothing runs, a sync can still start without this page (the schedule, another admin):
// look now and then, so the page never says "Up to date" through a whole sync.
const IDLE_POLL_MS = 5000;
const STATES = { idle: "Up to date", running: "Syncing", failed: "Failed" };
// A sync just asked for may not have started when the page first asks: keep looking for a while
// until it runs or a newer one has finished.
const START_WAIT_MS = 20000;
let pollTimer = null;
let lastJob = null;
let waitingUntil = 0;
let finishedBefore = null;

function expectSync() {
  waitingUntil = Date.now() + START_WAIT_MS;
  finishedBefore = lastJob ? lastJob.finishedAt : null;
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

function renderSync(job) {
  hide(sync.querySelector("[data-sync-loading]"));
  hide(sync.querySelector("[data-sync-unavailable]"));
  show(syncPanel);
  const never = job.state === "idle" && !job.finishedAt;
  const waiting = job.queued && job.state !== "running";
  syncState.textContent = waiting ? "Waiting to start" : never ? "Not synced yet" : STATES[job.state] || job.state;
  syncState.className = "badge";
  if (!waiting && job.state === "idle" && !never) syncState.classList.add("badge-ok");
  if (job.state === "failed") syncState.classList.add("badge-failed");
  const running = job.state === "running";
  if (running) syncSummary.textContent = job.startedAt ? `Started ${when(job.startedAt)}.` : "";
  else if (waiting) syncSummary.textContent = "A sync is queued and starts in a moment.";
  else if (job.finishedAt) syncSummary.textContent = `Last finished ${when(job.finishedAt)}. ${indexed(job)}`;
  else syncSummary.textContent = "The library has not been indexed yet.";
  syncProgress.hidden = !running;
  if (running) {
    const total = job.itemsTotal || 0;
    const done = job.itemsDone || 0;
    if (total > 0) {
      syncBar.max = total;
      syncBar.value = Math.min(done, total);
      syncCount.textContent = `${done.toLocaleString()} of ${total.toLocaleString()} items`;
    } else {
      syncBar.removeAttribute("value");
      syncCount.textContent = `${done.toLocaleString()} items so far`;
    }
  }
  if (job.state === "failed" && job.error) show(syncError, job.error);
  else hide(syncError);
  syncNeedsPlex.hidden = plexConnected;
  syncButton.disabled = running || waiting || !plexConnected;
}

function indexed(job) {
  const libraries = job.libraries || [];
  const titles = libraries.reduce((sum, library) => sum + (library.itemCount || 0), 0);
  const noun = libraries.length === 1 ? "library" : "libraries";
  return `${titles.toLocaleString()} ${titles === 1 ? "title" : "titles"} in ${libraries.length} ${noun}.`;
}

async function refreshSync() {
  clearTimeout(pollTimer);
  pollTimer = null;
  if (document.hidden && lastJob) {
    // Nobody is looking: ask again once the tab is shown (see visibilitychange below).
    pollTimer = setTimeout(refreshSync, IDLE_POLL_MS);
    return;
  }
  let job;
  try {
    job = await api("GET", "/admin/plex/sync");
  } catch (error) {
    hide(sync.querySelector("[data-sync-loading]"));
    hide(syncPanel);
    const unavailable = sync.querySelector("[data-sync-unavailable]");
    show(unavailable, error instanceof ApiError ? error.message : "The library index cannot be shown right now.");
    return;
  }
  lastJob = job;
  renderSync(job);
  if (job.state === "running") waitingUntil = 0;
  const starting = Date.now() < waitingUntil && job.finishedAt === finishedBefore;
  const busy = job.state === "running" || job.queued || starting;
  pollTimer = setTimeout(refreshSync, busy ? POLL_MS : IDLE_POLL_MS);
}

syncButton.addEventListener("click", async () => {
  hide(syncError);
  setBusy(syncButton, true);
  try {
    expectSync();
    await api("POST", "/admin/plex/sync", { full: true });
  } catch (error) {
    waitingUntil = 0;
    showError(syncError, error);
  } finally {
    setBusy(syncButton, false);
  }
  await refreshSync();
});

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && pollTimer) refreshSync();
});

refreshSync();
