// The alert channels page: add, change and remove channels, send each a test, and save them
// all at once (the list saved is the list shown, in its order).

import { api, ApiError } from "../../js/api.js";
import { hide, setBusy, show, showError } from "../../js/forms.js";

const BASE = "/admin/notifications/channels";
const form = document.getElementById("channels-form");
const list = form.querySelector("[data-channels]");
const blank = form.querySelector("template[data-new-channel]");
const empty = form.querySelector("[data-no-channels]");
const formError = form.querySelector("[data-form-error]");
const formStatus = form.querySelector("[data-form-status]");
let added = 0;

const cards = () => [...list.querySelectorAll(".channel")];
const urlOf = (card) => card.querySelector("[name=url]").value.trim();

function entry(card) {
  const body = {
    name: card.querySelector("[name=name]").value.trim(),
    types: [...card.querySelectorAll("[name=types]:checked")].map((box) => box.value),
  };
  if (card.dataset.id) body.id = card.dataset.id;
  if (urlOf(card)) body.url = urlOf(card);
  return body;
}

function clearCard(card) {
  const slot = card.querySelector("[data-channel-error]");
  slot.hidden = true;
  slot.textContent = "";
  for (const input of card.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

// The API names a channel's field by its place in the list: `channels.2.url`.
function showProblems(sent, error) {
  let placed = false;
  for (const detail of error.details) {
    const match = /^channels\.(\d+)\.(\w+)/.exec(detail.field || "");
    const card = match && sent[Number(match[1])];
    if (!card) continue;
    const slot = card.querySelector("[data-channel-error]");
    show(slot, detail.message);
    const input = card.querySelector(`[name=${match[2]}]`);
    if (input) input.setAttribute("aria-invalid", "true");
    if (!placed) (input || card).focus();
    placed = true;
  }
  if (!placed) showError(formError, error);
}

// After a save, each card is the saved channel: its id, its masked address.
function showSaved(sent, channels) {
  channels.forEach((channel, i) => {
    const card = sent[i];
    card.dataset.id = channel.id;
    card.querySelector("[name=name]").value = channel.name;
    card.querySelector("[name=url]").value = "";
    const shown = card.querySelector("[data-saved-url]");
    shown.textContent = `${channel.service}: `;
    const code = document.createElement("code");
    code.textContent = channel.url;
    shown.append(code);
    shown.hidden = false;
    card.querySelector("[data-url-label]").textContent = "New address (optional)";
    card.querySelector("[data-url-hint]").textContent =
      "Leave it empty to keep the saved address. It is stored encrypted and never shown in full again.";
  });
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const sent = cards();
  hide(formError);
  hide(formStatus);
  sent.forEach(clearCard);
  const button = form.querySelector("[type=submit]");
  setBusy(button, true, "Saving…");
  try {
    const saved = await api("PUT", BASE, { channels: sent.map(entry) });
    showSaved(sent, saved.channels);
    show(formStatus, saved.channels.length ? "Saved. Alerts now go to these channels too." : "Saved. Alerts only go to administrators' inboxes now.");
  } catch (error) {
    if (error instanceof ApiError && error.status === 400) showProblems(sent, error);
    else showError(formError, error);
  } finally {
    setBusy(button, false);
  }
});

form.querySelector("[data-add]").addEventListener("click", () => {
  added += 1;
  list.insertAdjacentHTML("beforeend", blank.innerHTML.replaceAll("__key__", `new-${added}`));
  empty.hidden = true;
  list.lastElementChild.querySelector("[name=url]").focus();
});

function testResult(card, ok, text) {
  const result = card.querySelector("[data-test-result]");
  result.classList.toggle("is-ok", ok);
  result.classList.toggle("is-failed", !ok);
  show(result, text);
}

async function sendTest(card, button) {
  const url = urlOf(card);
  if (!url && !card.dataset.id) {
    testResult(card, false, "Enter the address first.");
    card.querySelector("[name=url]").focus();
    return;
  }
  setBusy(button, true, "Sending…");
  try {
    const result = await api("POST", `${BASE}/test`, url ? { url } : { id: card.dataset.id });
    testResult(card, result.ok, result.ok ? "Sent. Check that the test message arrived." : result.error);
  } catch (error) {
    testResult(card, false, error instanceof ApiError ? error.message : "The test could not run. Try again.");
  } finally {
    setBusy(button, false);
  }
}

list.addEventListener("click", (event) => {
  const card = event.target.closest(".channel");
  if (!card) return;
  const test = event.target.closest("[data-test]");
  if (test) {
    sendTest(card, test);
  } else if (event.target.closest("[data-remove]")) {
    card.remove();
    empty.hidden = cards().length > 0;
    show(formStatus, "Removed from the list. Press Save to keep this change.");
  }
});
