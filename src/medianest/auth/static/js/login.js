// The sign-in page: Plex PIN sign-in in a popup, and the password form with its code step.

import { api } from "../../js/api.js";
import { clearErrors, hide, onSubmit, setBusy, show, showError, value } from "../../js/forms.js";
import { PinExpired, approved, closeWindow } from "./plex_pin.js";

const card = document.querySelector("[data-next]");
const next = card.dataset.next || "/";
const chooseStep = card.querySelector('[data-step="choose"]');

function signedIn(user) {
  location.assign(user && user.requiresPasswordChange ? "/change-password" : next);
}

// Plex

const plexButton = document.getElementById("plex-button");
const progress = card.querySelector("[data-plex-progress]");
const statusLine = card.querySelector("[data-plex-status]");
const fallback = card.querySelector("[data-plex-fallback]");
const fallbackLink = card.querySelector("[data-plex-link]");
const plexError = card.querySelector("[data-plex-error]");
let plexFlow = null;

function endPlexFlow() {
  plexFlow?.abort();
  plexFlow = null;
  hide(progress);
  hide(fallback);
  setBusy(plexButton, false);
}

async function signInWithPlex() {
  hide(plexError);
  // Opened before any await: browsers only allow popups straight from a click.
  const popup = window.open("", "medianest-plex", "popup,width=600,height=720");
  const flow = new AbortController();
  plexFlow = flow;
  setBusy(plexButton, true);
  show(progress);
  show(statusLine, "Opening Plex…");
  try {
    const pin = await api("POST", "/auth/plex/pin", {});
    fallbackLink.href = pin.authUrl;
    if (popup && !popup.closed) {
      popup.location.href = pin.authUrl;
    } else {
      show(fallback);
    }
    show(statusLine, "Waiting for you to approve the sign-in in the Plex window…");
    if (!(await approved(pin, flow.signal))) throw new PinExpired();
    closeWindow(popup);
    show(statusLine, "Approved! Signing you in…");
    const result = await api("POST", "/auth/plex/verify", {
      pinId: pin.id,
      rememberMe: document.getElementById("remember-me").checked,
    });
    signedIn(result.user);
  } catch (error) {
    // Cancelled: the Plex window is not needed any more either.
    if (flow.signal.aborted) {
      closeWindow(popup);
      return;
    }
    endPlexFlow();
    closeWindow(popup);
    if (error instanceof PinExpired) {
      show(plexError, "The Plex sign-in took too long and expired. Press “Sign in with Plex” to try again.");
    } else {
      showError(plexError, error);
    }
  }
}

plexButton.addEventListener("click", () => {
  if (!plexFlow) signInWithPlex();
});
card.querySelector("[data-plex-cancel]").addEventListener("click", () => {
  endPlexFlow();
  plexButton.focus();
});

// Password, then the code when two-factor sign-in is on

const loginForm = document.getElementById("login-form");
const codeForm = document.getElementById("code-form");
let credentials = null;

async function logIn(totpCode) {
  const result = await api("POST", "/auth/login", { ...credentials, totpCode });
  signedIn(result.user);
}

onSubmit(loginForm, "Signing in…", async (form) => {
  credentials = {
    username: value(form, "username").trim(),
    password: value(form, "password"),
    rememberMe: value(form, "rememberMe"),
  };
  try {
    await logIn(undefined);
  } catch (error) {
    if (error.code !== "TOTP_REQUIRED") throw error;
    hide(chooseStep);
    clearErrors(codeForm);
    codeForm.reset();
    show(codeForm);
    codeForm.elements.namedItem("totpCode").focus();
  }
});

onSubmit(codeForm, "Checking…", async (form) => {
  try {
    await logIn(value(form, "totpCode").trim());
  } catch (error) {
    form.elements.namedItem("totpCode").select();
    throw error;
  }
});

codeForm.querySelector("[data-back]").addEventListener("click", () => {
  credentials = null;
  hide(codeForm);
  show(chooseStep);
  loginForm.elements.namedItem("password").value = "";
  loginForm.elements.namedItem("password").focus();
});
