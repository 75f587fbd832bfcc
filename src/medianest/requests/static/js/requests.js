// The Requests page: results as you type, rows that scroll with buttons, and asking for a movie
// (or following someone else's request for it) straight from its poster.
//
// Without this script the search box is a form that opens /requests?q=, and each poster's
// button opens the title's page. With it, the results are the server's own page for the query,
// fetched as you type (the previous fetch aborted), so there is one way to draw a poster.

import { enhanceShelf } from "../../js/shelf.js";
import { ask, announce, mineHref } from "./asking.js";

const DELAY_MS = 250;
const MIN_LENGTH = 2;

// The rows: buttons at their edges (see shelf.js)

for (const shelf of document.querySelectorAll("[data-shelf]")) enhanceShelf(shelf);

// Searching as you type

const form = document.querySelector("[data-request-search]");
const results = document.querySelector("[data-results]");
const rows = document.querySelector("[data-rows]");
const down = document.querySelector("[data-down]");

if (form && results) {
  const input = form.elements.namedItem("q");
  let timer = 0;
  let controller = null;

  const typed = () => input.value.trim().split(/\s+/).join(" ");
  const address = (query) => (query ? `/requests?q=${encodeURIComponent(query)}` : "/requests");

  async function lookUp(query) {
    controller?.abort();
    controller = new AbortController();
    const mine = controller;
    results.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(address(query), {
        headers: { Accept: "text/html" },
        credentials: "same-origin",
        signal: mine.signal,
      });
      const html = await response.text();
      if (mine.signal.aborted || typed() !== query) return;
      const page = new DOMParser().parseFromString(html, "text/html");
      const found = page.querySelector("[data-results]");
      // Signed out meanwhile, or an error page: the page itself says what happened.
      if (!found) {
        location.assign(address(query));
        return;
      }
      results.replaceChildren(...found.childNodes);
      const banner = page.querySelector("[data-down]");
      if (down && banner) down.replaceChildren(...banner.childNodes);
      const freshRows = page.querySelector("[data-rows]");
      if (!query && freshRows) {
        // Opened on a search, the page had no rows yet: they come with the page for no query.
        rows.replaceChildren(...freshRows.childNodes);
        for (const shelf of rows.querySelectorAll("[data-shelf]")) enhanceShelf(shelf);
      }
      rows.hidden = Boolean(query);
      history.replaceState(null, "", address(query));
      const count = results.querySelector("[data-results-count]");
      announce(count ? count.textContent : "");
    } catch (error) {
      if (error.name === "AbortError" || mine.signal.aborted) return;
      announce("Search is not working right now. Try again soon.");
    } finally {
      if (controller === mine) results.removeAttribute("aria-busy");
    }
  }

  function clear() {
    if (!rows.querySelector("[data-shelf]")) {
      lookUp("");
      return;
    }
    controller?.abort();
    results.replaceChildren();
    rows.hidden = false;
    history.replaceState(null, "", address(""));
  }

  input.addEventListener("input", () => {
    window.clearTimeout(timer);
    const query = typed();
    if (query.length === 0) {
      clear();
      return;
    }
    if (query.length < MIN_LENGTH) return;
    timer = window.setTimeout(() => lookUp(query), DELAY_MS);
  });

  form.addEventListener("submit", (event) => {
    const query = typed();
    event.preventDefault();
    window.clearTimeout(timer);
    if (query) lookUp(query);
    else clear();
  });
}

// Asking from a poster (the buttons may arrive later, with results: one listener for all)

function requestedByYou(state, request, message) {
  // A request someone else made first: the person now follows it and is told too.
  const badge = document.createElement("span");
  badge.className = "badge badge-plex";
  badge.dataset.badge = "";
  badge.textContent = request.following ? "You'll be told" : "Requested by you";
  const link = document.createElement("a");
  link.className = "button button-small";
  link.href = mineHref(request.id);
  link.textContent = request.following ? "Following" : "My request";
  const note = state.querySelector("[data-note]");
  note.textContent = message;
  note.hidden = false;
  note.classList.remove("is-failed");
  state.replaceChildren(badge, link, note);
}

async function askFrom(button) {
  const card = button.closest("[data-title-card]");
  const state = card.querySelector("[data-state]");
  const note = state.querySelector("[data-note]");
  const name = card.dataset.name;
  button.setAttribute("aria-disabled", "true");
  button.setAttribute("aria-busy", "true");
  try {
    const { request, message } = await ask(card.dataset.mediaType, Number(card.dataset.tmdbId));
    requestedByYou(state, request, message);
    announce(`${name}: ${message}`);
  } catch (error) {
    button.removeAttribute("aria-disabled");
    button.removeAttribute("aria-busy");
    note.textContent = error.message;
    note.classList.add("is-failed");
    note.hidden = false;
    announce(`${name}: ${error.message}`);
  }
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-request-now], [data-notify]");
  if (!button || !button.closest("[data-title-card]")) return;
  event.preventDefault();
  if (button.getAttribute("aria-disabled") === "true") return;
  askFrom(button);
});
