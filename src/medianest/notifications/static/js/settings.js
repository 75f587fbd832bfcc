// The notification settings page: each choice is saved as it is made, and notifications are
// turned on or off in this browser (the permission, the service worker, a push subscription
// made with MediaNest's key and handed to the API).

import { api, ApiError } from "../../js/api.js";
import { hide, setBusy, show, showError } from "../../js/forms.js";

// What each type reaches: the inbox, the browser

const form = document.getElementById("preferences-form");
const saved = form.querySelector("[data-preferences-status]");

function choiceOf(row) {
  return {
    inApp: row.querySelector("[name=inApp]").checked,
    push: row.querySelector("[name=push]").checked,
  };
}

form.addEventListener("change", async (event) => {
  const row = event.target.closest("tr[data-type]");
  if (!row) return;
  hide(form.querySelector("[data-form-error]"));
  saved.textContent = "Saving…";
  try {
    const type = row.dataset.type;
    const answer = await api("PUT", "/notifications/preferences", { types: { [type]: choiceOf(row) } });
    row.querySelector("[name=inApp]").checked = answer.types[type].inApp;
    row.querySelector("[name=push]").checked = answer.types[type].push;
    saved.textContent = "Saved.";
  } catch (error) {
    // Not saved: the box goes back to what is stored.
    event.target.checked = !event.target.checked;
    saved.textContent = "";
    showError(form, error);
  }
});

// This browser

const panel = document.querySelector("[data-push]");
const turnOn = panel.querySelector("[data-push-on]");
const turnOff = panel.querySelector("[data-push-off]");
const pushError = panel.querySelector("[data-push-error]");
const SUBSCRIPTIONS = "/notifications/push/subscriptions";
const UNREACHABLE =
  "This browser could not reach its notification service, so notifications cannot be turned on here right now. Try again later, or use another browser.";

function showState(name) {
  for (const text of panel.querySelectorAll("[data-push-state]")) {
    text.hidden = text.dataset.pushState !== name;
  }
  turnOn.hidden = name !== "off";
  turnOff.hidden = name !== "on";
}

function supported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

// pushManager.subscribe takes the key as bytes; the API gives it in base64url.
function keyBytes(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

function madeWith(subscription, key) {
  const used = subscription.options && subscription.options.applicationServerKey;
  if (!used) return false;
  const bytes = new Uint8Array(used);
  return bytes.length === key.length && bytes.every((byte, i) => byte === key[i]);
}

async function subscription() {
  const registration = await navigator.serviceWorker.getRegistration("/");
  return registration ? registration.pushManager.getSubscription() : null;
}

async function check() {
  if (!window.isSecureContext) return showState("insecure");
  if (!supported()) return showState("unsupported");
  if (Notification.permission === "denied") return showState("denied");
  const current = Notification.permission === "granted" ? await subscription() : null;
  if (!current) return showState("off");
  // Handed over again on every visit: MediaNest ties it to this sign-in, so a browser signed in
  // again after signing out gets its notifications back.
  await api("POST", SUBSCRIPTIONS, current.toJSON());
  return showState("on");
}

turnOn.addEventListener("click", async () => {
  hide(pushError);
  setBusy(turnOn, true, "Turning on…");
  try {
    const permission = await Notification.requestPermission();
    if (permission !== "granted") {
      showState(permission === "denied" ? "denied" : "off");
      if (permission !== "denied") show(pushError, "Notifications were not allowed. Press the button again and choose Allow.");
      return;
    }
    const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
    await navigator.serviceWorker.ready;
    const key = keyBytes((await api("GET", "/notifications/push/key")).publicKey);
    let current = await registration.pushManager.getSubscription();
    if (current && !madeWith(current, key)) {
      await current.unsubscribe();
      current = null;
    }
    if (!current) {
      try {
        current = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
      } catch (error) {
        console.warn("push subscription failed", error);
        show(pushError, UNREACHABLE);
        return;
      }
    }
    await api("POST", SUBSCRIPTIONS, current.toJSON());
    showState("on");
  } catch (error) {
    showError(pushError, error);
  } finally {
    setBusy(turnOn, false);
  }
});

turnOff.addEventListener("click", async () => {
  hide(pushError);
  setBusy(turnOff, true, "Turning off…");
  try {
    const current = await subscription();
    if (current) {
      try {
        await api("DELETE", SUBSCRIPTIONS, { endpoint: current.endpoint });
      } catch (error) {
        // Already forgotten by MediaNest (signed out meanwhile): the browser's side still goes.
        if (!(error instanceof ApiError && error.status === 404)) throw error;
      }
      await current.unsubscribe();
    }
    showState("off");
  } catch (error) {
    showError(pushError, error);
  } finally {
    setBusy(turnOff, false);
  }
});

check().catch((error) => {
  showState("off");
  showError(pushError, error);
});
