// The Announcements page: send one to everyone, or withdraw one after saying what that does.
// Either way the page is shown again from the server: the list and the banner over it are
// what everyone now sees. What happened is said once it is back (kept in sessionStorage).

import { api, ApiError } from "../../js/api.js";
import { hide, onSubmit, setBusy, show, showError, value } from "../../js/forms.js";

const NOTICE = "announcementsNotice";

const notice = document.querySelector("[data-announcements-notice]");
const form = document.querySelector("[data-announcement-form]");
const confirm = document.querySelector("[data-confirm-withdraw]");
const confirmButton = confirm.querySelector("[data-withdraw-confirm]");
const cancelButton = confirm.querySelector("[data-withdraw-cancel]");
const withdrawError = confirm.querySelector("[data-withdraw-error]");

function plural(n, one, many) {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

// The server writes moments in UTC; people read them in their own time.
for (const time of document.querySelectorAll("time[data-local-time]")) {
  time.textContent = new Date(time.dateTime).toLocaleString(undefined, {
    dateStyle: "medium",
    timeStyle: "short",
  });
}

function showAgain(message) {
  try {
    sessionStorage.setItem(NOTICE, message);
  } catch {
    // Storage can be off: the page still shows the change itself.
  }
  location.reload();
}

function toldBefore() {
  let message = null;
  try {
    message = sessionStorage.getItem(NOTICE);
    sessionStorage.removeItem(NOTICE);
  } catch {
    return;
  }
  if (!message) return;
  show(notice, message);
  notice.setAttribute("tabindex", "-1");
  notice.focus();
}

// A date-time box holds the person's local time without a zone; the API wants a moment.
function expiresAt() {
  const input = form.elements.namedItem("expiresAt");
  if (!input.value) {
    if (input.validity.badInput) {
      throw new ApiError(400, {
        message: "Enter the whole date and time, or clear the box.",
        details: [{ field: "expiresAt", message: "Enter the whole date and time, or clear the box." }],
      });
    }
    return undefined;
  }
  return new Date(input.value).toISOString();
}

onSubmit(form, "Sending…", async () => {
  const body = {
    title: value(form, "title").trim(),
    message: value(form, "message").trim(),
    severity: value(form, "severity"),
  };
  const ends = expiresAt();
  if (ends) body.expiresAt = ends;
  const sent = await api("POST", "/admin/broadcast", body);
  showAgain(
    `Sent “${sent.title}” to ${plural(sent.recipients, "person", "people")}. It shows over every page${sent.expiresAt ? " until it ends" : " until you withdraw it"}.`,
  );
});

let withdrawing = null;

for (const button of document.querySelectorAll("[data-withdraw]")) {
  button.addEventListener("click", () => {
    withdrawing = { id: button.dataset.withdraw, title: button.dataset.withdrawTitle, button };
    confirm.querySelector("[data-withdraw-what]").textContent = withdrawing.title;
    hide(withdrawError);
    confirm.showModal();
  });
}

cancelButton.addEventListener("click", () => confirm.close());

confirm.addEventListener("close", () => {
  if (withdrawing) withdrawing.button.focus();
});

confirmButton.addEventListener("click", async () => {
  if (!withdrawing) return;
  hide(withdrawError);
  setBusy(confirmButton, true, "Withdrawing…");
  try {
    await api("DELETE", `/admin/broadcasts/${withdrawing.id}`);
  } catch (error) {
    showError(withdrawError, error);
    return;
  } finally {
    setBusy(confirmButton, false);
  }
  const { title } = withdrawing;
  withdrawing = null;
  confirm.close();
  showAgain(`Withdrew “${title}”. It no longer shows over anyone's pages.`);
});

toldBefore();
