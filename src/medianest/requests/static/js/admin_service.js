// The Requests-service page: test and save the Overseerr (or Seerr) connection, then copy the
// webhook's two values into Overseerr, or make a new secret for it.

import { api, ApiError } from "../../js/api.js";
import { clearErrors, hide, onSubmit, setBusy, show, showError, value } from "../../js/forms.js";

const FLAVOURS = { overseerr: "Overseerr", seerr: "Seerr" };

const connection = document.querySelector("[data-connection]");
const form = document.getElementById("connection-form");
const testButton = form.querySelector("[data-test]");
const testResult = form.querySelector("[data-test-result]");
const webhook = document.querySelector("[data-webhook]");

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
  fact("flavour", FLAVOURS[status.flavour] || "Not tested yet");
  fact("version", status.version || "Unknown");
  fact("url", status.url || "");
  fact("updated", "Just now");
  renderWebhook(status);
  keySaved(status.apiKeySet);
}

function renderWebhook(status) {
  if (!status.configured || !status.webhook) {
    webhook.hidden = true;
    return;
  }
  webhook.querySelector("[data-webhook-url]").value = status.webhook.url;
  webhook.querySelector("[data-webhook-authorization]").value = status.webhook.authorization;
  webhook.hidden = false;
}

// Once a key is saved, the field may stay empty to keep it.
function keySaved(saved) {
  if (!saved || form.dataset.keySet === "true") return;
  form.dataset.keySet = "true";
  const label = form.querySelector("label[for=overseerr-key]");
  const optional = document.createElement("span");
  optional.className = "optional";
  optional.textContent = "(optional)";
  label.append(" ", optional);
  const hint = form.querySelector("#overseerr-key-hint");
  hint.textContent = `Leave it empty to keep the saved key. ${hint.textContent}`;
}

function formBody() {
  const body = { url: value(form, "url").trim() };
  const key = value(form, "apiKey").trim();
  if (key) body.apiKey = key;
  return body;
}

// One line saying what a test found: which service, its version and how fast, or why not.
function showResult(result) {
  testResult.classList.toggle("is-ok", result.ok);
  testResult.classList.toggle("is-failed", !result.ok);
  if (result.ok) {
    const name = FLAVOURS[result.flavour] || "Overseerr";
    const version = result.version ? ` ${result.version}` : "";
    show(testResult, `Connected to ${name}${version}, in ${result.latencyMs} ms.`);
  } else {
    show(testResult, result.error || "The test failed.");
  }
}

function missingUrl() {
  if (value(form, "url").trim()) return false;
  showError(form, new ApiError(400, {
    message: "Enter Overseerr's address.",
    details: [{ field: "url", message: "Enter Overseerr's address, like http://192.168.1.20:5055." }],
  }));
  return true;
}

testButton.addEventListener("click", async () => {
  clearErrors(form);
  hide(testResult);
  if (missingUrl()) return;
  setBusy(testButton, true, "Testing…");
  try {
    showResult(await api("POST", "/admin/services/overseerr/test", formBody()));
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
  if (missingUrl()) return;
  const body = { ...formBody(), allowPlexImport: value(form, "allowPlexImport") };
  const status = await api("PUT", "/admin/services/overseerr", body);
  form.elements.namedItem("apiKey").value = "";
  renderStatus(status);
  testResult.classList.add("is-ok");
  testResult.classList.remove("is-failed");
  const name = FLAVOURS[status.flavour] || "Overseerr";
  const version = status.version ? ` ${status.version}` : "";
  show(testResult, `Saved. MediaNest now sends requests to ${name}${version}. Set up its webhook below.`);
});

// The webhook's values, to copy

for (const button of webhook.querySelectorAll("[data-copy]")) {
  button.addEventListener("click", async () => {
    const field = document.getElementById(button.dataset.copy);
    const label = button.querySelector("span");
    try {
      await navigator.clipboard.writeText(field.value);
      label.textContent = "Copied";
    } catch {
      // Browsers refuse the clipboard outside https: the value is selected, to copy by hand.
      field.focus();
      field.select();
      label.textContent = "Selected";
    }
    setTimeout(() => {
      label.textContent = "Copy";
    }, 2500);
  });
}

const newSecret = webhook.querySelector("[data-new-secret]");
const secretStatus = webhook.querySelector("[data-secret-status]");
const secretError = webhook.querySelector("[data-secret-error]");

newSecret.addEventListener("click", async () => {
  const sure = window.confirm(
    "Make a new secret? Overseerr's webhook stops working until you paste the new Authorization Header value into it.",
  );
  if (!sure) return;
  hide(secretStatus);
  hide(secretError);
  setBusy(newSecret, true);
  try {
    renderWebhook(await api("POST", "/admin/services/overseerr/webhook-secret", {}));
    show(secretStatus, "New secret made. Paste the new Authorization Header value into Overseerr now.");
  } catch (error) {
    showError(secretError, error);
  } finally {
    setBusy(newSecret, false);
  }
});
