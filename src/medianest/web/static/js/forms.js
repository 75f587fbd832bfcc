// Form helpers shared by the pages: submit handling, busy buttons, and showing the API's errors
// next to the fields they are about.

import { ApiError } from "./api.js";

export function hide(element) {
  if (element) element.hidden = true;
}

export function show(element, text) {
  if (!element) return;
  if (text !== undefined) element.textContent = text;
  element.hidden = false;
}

export function clearErrors(form) {
  hide(form.querySelector("[data-form-error]"));
  for (const message of form.querySelectorAll("[data-field-error]")) {
    message.hidden = true;
    message.textContent = "";
  }
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

export function fieldError(form, name, message) {
  const input = form.elements.namedItem(name);
  const slot = form.querySelector(`[data-field-error="${name}"]`);
  if (!input || !slot) return false;
  input.setAttribute("aria-invalid", "true");
  show(slot, message);
  return true;
}

// A signed-in page whose session ended: go and sign in again, then come back here.
function signInAgain(error) {
  if (!document.body.hasAttribute("data-signed-in")) return false;
  if (error.status === 401 && ["UNAUTHORIZED", "TOKEN_EXPIRED"].includes(error.code)) {
    const here = location.pathname + location.search + location.hash;
    location.assign(`/login?next=${encodeURIComponent(here)}`);
    return true;
  }
  if (error.code === "PASSWORD_CHANGE_REQUIRED") {
    location.assign("/change-password");
    return true;
  }
  return false;
}

// The API's message goes next to the field it is about when it names one (the field is focused,
// so a screen reader reads it out); otherwise to the form's alert.
export function showError(container, error) {
  if (error instanceof ApiError && signInAgain(error)) return;
  if (!(error instanceof ApiError)) console.error(error);
  const message = error instanceof ApiError ? error.message : "Something went wrong. Try again.";
  if (container instanceof HTMLFormElement && error instanceof ApiError) {
    const placed = error.details.filter(
      (detail) => detail.field && fieldError(container, detail.field, detail.message),
    );
    if (placed.length > 0) {
      container.elements.namedItem(placed[0].field).focus();
      return;
    }
  }
  const slot = container.matches("[data-form-error]")
    ? container
    : container.querySelector("[data-form-error]");
  if (slot) show(slot, message);
  else window.alert(message);
}

export function setBusy(button, busy, busyLabel) {
  if (!button) return;
  if (busy && busyLabel) {
    button.dataset.label = button.textContent;
    button.textContent = busyLabel;
  } else if (!busy && button.dataset.label !== undefined) {
    button.textContent = button.dataset.label;
    delete button.dataset.label;
  }
  button.disabled = busy;
  if (busy) button.setAttribute("aria-busy", "true");
  else button.removeAttribute("aria-busy");
}

// Runs `action(form)` on submit with the button busy; errors land in the form.
export function onSubmit(form, busyLabel, action) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("[type=submit]");
    clearErrors(form);
    setBusy(button, true, busyLabel);
    try {
      await action(form);
    } catch (error) {
      showError(form, error);
    } finally {
      setBusy(button, false);
    }
  });
}

export function value(form, name) {
  const input = form.elements.namedItem(name);
  if (!input) return undefined;
  return input.type === "checkbox" ? input.checked : input.value;
}

// Client-side only: the API checks the rules, but a typo in the second box is ours to catch.
export function passwordsMatch(form) {
  if (value(form, "newPassword") === value(form, "confirmPassword")) return true;
  fieldError(form, "confirmPassword", "The two passwords are not the same. Type them again.");
  form.elements.namedItem("confirmPassword").focus();
  return false;
}
