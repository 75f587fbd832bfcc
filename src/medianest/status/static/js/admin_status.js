// Admin → Status: test and save the Uptime Kuma connection (address, status pages, optional API
// key), or disconnect it. MediaNest keeps only a connection whose test passes.

import { api, ApiError } from "../../js/api.js";
import { clearErrors, hide, onSubmit, setBusy, show, showError, value } from "../../js/forms.js";

const panel = document.querySelector("[data-kuma]");
const form = document.getElementById("kuma-form");
const testButton = form.querySelector("[data-test]");
const disconnectButton = form.querySelector("[data-disconnect]");
const testResult = form.querySelector("[data-test-result]");
const forgetKey = form.querySelector("[data-forget-key]");

function pages() {
  return value(form, "statusPages")
    .split(/[\s,]+/)
    .map((slug) => slug.trim())
    .filter(Boolean);
}

// The key is left out to keep the saved one; null forgets it.
function formBody() {
  const body = { url: value(form, "url").trim(), statusPages: pages() };
  const key = value(form, "apiKey").trim();
  if (key) body.apiKey = key;
  else if (value(form, "forgetKey")) body.apiKey = null;
  return body;
}

function fact(name, text) {
  const slot = panel.querySelector(`[data-fact="${name}"]`);
  if (slot) slot.textContent = text;
}

function renderStatus(status) {
  for (const element of panel.querySelectorAll("[data-connected], [data-kuma-facts]")) {
    element.hidden = !status.configured;
  }
  panel.querySelector("[data-not-connected]").hidden = status.configured;
  disconnectButton.hidden = !status.configured;
  fact("url", status.url || "");
  fact("pages", status.statusPages.join(", "));
  fact("version", status.version || "Known with an API key");
  fact("updated", "Just now");
  form.dataset.keySet = status.apiKeySet ? "true" : "false";
  forgetKey.hidden = !status.apiKeySet;
  form.elements.namedItem("forgetKey").checked = false;
  form.elements.namedItem("apiKey").value = "";
  const hint = form.querySelector("[data-key-hint]");
  const saved = "A key is saved: leave this empty to keep it. ";
  if (status.apiKeySet && !hint.textContent.startsWith(saved)) hint.textContent = saved + hint.textContent;
  if (!status.apiKeySet) hint.textContent = hint.textContent.replace(saved, "");
}

function resultLine(result) {
  const monitors = `${result.monitors} monitor${result.monitors === 1 ? "" : "s"}`;
  const version = result.version ? `Uptime Kuma ${result.version}` : "Uptime Kuma";
  return `Connected to ${version} in ${result.latencyMs} ms: the status pages show ${monitors}.`;
}

function showResult(result) {
  testResult.classList.toggle("is-ok", result.ok);
  testResult.classList.toggle("is-failed", !result.ok);
  show(testResult, result.ok ? resultLine(result) : result.error || "The test failed.");
}

function missing() {
  const details = [];
  if (!value(form, "url").trim()) {
    details.push({ field: "url", message: "Enter Uptime Kuma's address, like http://192.168.1.20:3001." });
  }
  if (!pages().length) {
    details.push({ field: "statusPages", message: "Enter the slug of at least one status page." });
  }
  if (!details.length) return false;
  showError(form, new ApiError(400, { message: details[0].message, details }));
  return true;
}

testButton.addEventListener("click", async () => {
  clearErrors(form);
  hide(testResult);
  if (missing()) return;
  setBusy(testButton, true, "Testing…");
  try {
    showResult(await api("POST", "/admin/services/uptime-kuma/test", formBody()));
  } catch (error) {
    if (error instanceof ApiError && error.details.some((d) => d.field)) showError(form, error);
    else {
      testResult.classList.remove("is-ok");
      testResult.classList.add("is-failed");
      show(testResult, error instanceof ApiError ? error.message : "The test could not run. Try again.");
    }
  } finally {
    setBusy(testButton, false);
  }
});

onSubmit(form, "Saving…", async () => {
  hide(testResult);
  if (missing()) return;
  const status = await api("PUT", "/admin/services/uptime-kuma", formBody());
  renderStatus(status);
  testResult.classList.add("is-ok");
  testResult.classList.remove("is-failed");
  show(testResult, "Saved. The status page shows these monitors after the next check.");
});

disconnectButton.addEventListener("click", async () => {
  if (!window.confirm("Disconnect Uptime Kuma? Its monitors leave the status page.")) return;
  clearErrors(form);
  hide(testResult);
  setBusy(disconnectButton, true);
  try {
    renderStatus(await api("DELETE", "/admin/services/uptime-kuma"));
    testResult.classList.remove("is-ok", "is-failed");
    show(testResult, "Disconnected. Save again to bring the monitors back.");
  } catch (error) {
    showError(form, error);
  } finally {
    setBusy(disconnectButton, false);
  }
});
