// A title's page: ask for the movie, or for the show's chosen seasons (or all of them), in 4K
// when offered; or follow someone else's request for it. The answer is shown in the page and
// read out; asked-for seasons are ticked off at once.

import { ask, announce, mineHref } from "./asking.js";
import { hide, setBusy, show } from "../../js/forms.js";

const form = document.querySelector("[data-request-form]");
const error = form.querySelector("[data-form-error]");
const result = form.querySelector("[data-request-result]");
const actions = form.querySelector("[data-request-actions]");
const mediaType = form.dataset.mediaType;
const tmdbId = Number(form.dataset.tmdbId);

function chosen() {
  return [...form.querySelectorAll("input[name=season]:checked:not(:disabled)")].map((box) => Number(box.value));
}

function markSeasons(numbers, label) {
  for (const number of numbers) {
    const row = form.querySelector(`[data-season="${number}"]`);
    if (!row) continue;
    const box = row.querySelector("input");
    box.checked = false;
    box.disabled = true;
    let badge = row.querySelector("[data-season-badge]");
    if (!badge) {
      badge = document.createElement("span");
      badge.dataset.seasonBadge = "";
      row.append(badge);
    }
    badge.className = "badge badge-plex";
    badge.textContent = label;
  }
}

function requested(request) {
  const badge = document.querySelector("[data-title-badge]") || document.createElement("span");
  badge.className = "badge badge-plex";
  badge.textContent = "Requested by you";
  if (!badge.isConnected) {
    badge.dataset.titleBadge = "";
    document.querySelector(".title-text .facts")?.append(badge);
  }
  const left = form.querySelectorAll("input[name=season]:not(:disabled)").length;
  const link = document.createElement("a");
  link.className = "button";
  link.href = mineHref(request.id);
  link.textContent = "See my request";
  if (left === 0) {
    actions.replaceChildren(link);
    hide(form.querySelector("#request-4k")?.closest(".check"));
  } else if (!actions.querySelector("a[href^='/requests/mine']")) {
    actions.append(link);
  }
}

async function send(button, seasons) {
  hide(error);
  hide(result);
  const is4k = form.elements.namedItem("is4k")?.checked || false;
  setBusy(button, true);
  try {
    const { request, message } = await ask(mediaType, tmdbId, { seasons, is4k });
    if (mediaType === "tv") {
      const numbers = request.seasons || (Array.isArray(seasons) ? seasons : []);
      markSeasons(numbers, request.following ? "Following" : "Requested by you");
      if (seasons === "all") markSeasons(chosenAll(), "Requested by you");
    }
    requested(request);
    show(result, message);
    announce(message);
  } catch (failure) {
    show(error, failure.message);
    announce(failure.message);
  } finally {
    if (button.isConnected) setBusy(button, false);
  }
}

function chosenAll() {
  return [...form.querySelectorAll("input[name=season]:not(:disabled)")].map((box) => Number(box.value));
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const button = event.submitter || form.querySelector("[type=submit]");
  if (!button) return;
  if (button.dataset.ask === "selected") {
    const seasons = chosen();
    if (seasons.length === 0) {
      show(error, "Tick the seasons you want first, or choose “Request all seasons”.");
      form.querySelector("input[name=season]:not(:disabled)")?.focus();
      return;
    }
    send(button, seasons);
  } else if (button.dataset.ask === "follow") {
    send(button, mediaType === "tv" ? followed(button) : undefined);
  } else {
    send(button, undefined);
  }
});

function followed(button) {
  return (button.dataset.seasons || "").split(",").filter(Boolean).map(Number);
}

for (const button of form.querySelectorAll("button[type=button][data-ask]")) {
  button.addEventListener("click", () => {
    if (button.dataset.ask === "all") send(button, "all");
    else send(button, followed(button));
  });
}
