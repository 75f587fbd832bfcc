// The library pages: more titles as you scroll, a new order as soon as it is picked, the
// local time in the "Plex is unreachable" banner, buttons that scroll the "Recently added" row,
// and administrators' actions on a library. Every one of them has a plain-HTML way that works
// without this script (the row scrolls by touch, trackpad, or tabbing through its titles).

import { api } from "../../js/api.js";
import { clearErrors, onSubmit, show, value } from "../../js/forms.js";
import { enhanceShelf } from "../../js/shelf.js";

// Times the server wrote in UTC, in the reader's own clock.

for (const time of document.querySelectorAll("time[data-local-time]")) {
  const moment = new Date(time.dateTime);
  if (Number.isNaN(moment.getTime())) continue;
  const clock = moment.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const today = moment.toDateString() === new Date().toDateString();
  const day = moment.toLocaleDateString([], { day: "numeric", month: "long" });
  time.textContent = today ? clock : `${day}, ${clock}`;
}

// The "Recently added" row: buttons at its edges (see shelf.js).

for (const shelf of document.querySelectorAll("[data-shelf]")) enhanceShelf(shelf);

// Sorting: picking an order is enough.

const sortForm = document.querySelector("[data-sort-form]");
if (sortForm) {
  sortForm.querySelector("[data-sort-submit]").hidden = true;
  sortForm.elements.namedItem("sort").addEventListener("change", () => sortForm.submit());
}

// More titles as the end of the grid comes near. The next page is the server's own page (the
// "Load more" link); its cards are moved into this grid, so there is one way to draw a card.

const grid = document.querySelector("[data-grid]");
const loadMore = document.querySelector("[data-load-more]");
const moreStatus = loadMore?.querySelector("[data-more-status]");
let loading = false;
let watcher = null;

async function loadNext() {
  const link = loadMore.querySelector("[data-more]");
  if (!link || loading) return;
  loading = true;
  link.setAttribute("aria-disabled", "true");
  link.textContent = "Loading…";
  try {
    const response = await fetch(link.href, {
      headers: { Accept: "text/html" },
      credentials: "same-origin",
    });
    const next = new DOMParser().parseFromString(await response.text(), "text/html");
    const cards = next.querySelector("[data-grid]");
    if (!response.ok || response.redirected || !cards) {
      // Signed out, or an error page: let the browser show it as a page of its own.
      location.assign(link.href);
      return;
    }
    grid.append(...document.adoptNode(cards).children);
    const nextLink = next.querySelector("[data-more]");
    if (nextLink) {
      link.replaceWith(document.adoptNode(nextLink));
    } else {
      link.remove();
      watcher?.disconnect();
    }
    moreStatus.textContent = `${grid.children.length} titles shown.`;
  } catch {
    link.textContent = "Load more";
    link.removeAttribute("aria-disabled");
    moreStatus.textContent = "More titles could not be loaded. Check your connection and try again.";
    return;
  } finally {
    loading = false;
  }
  // Still in view (a tall screen): the observer only reports changes, so ask it again.
  if (watcher) {
    watcher.unobserve(loadMore);
    watcher.observe(loadMore);
  }
}

if (grid && loadMore) {
  loadMore.addEventListener("click", (event) => {
    if (!event.target.closest("[data-more]")) return;
    event.preventDefault();
    loadNext();
  });
  if ("IntersectionObserver" in window && loadMore.querySelector("[data-more]")) {
    watcher = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) loadNext();
      },
      { rootMargin: "0px 0px 600px 0px" },
    );
    watcher.observe(loadMore);
  }
}

// Administrators: refresh, scan a folder, make a collection of selected titles.

const manage = document.querySelector("[data-manage]");

function say(element, text, ok) {
  element.classList.toggle("alert-success", ok);
  element.classList.toggle("alert-error", !ok);
  show(element, text);
}

if (manage) {
  const key = manage.dataset.library;
  const libraryTitle = manage.dataset.libraryTitle;

  const refresh = manage.querySelector("[data-refresh]");
  const refreshStatus = manage.querySelector("[data-refresh-status]");
  refresh.addEventListener("click", async () => {
    refresh.disabled = true;
    refreshStatus.hidden = true;
    try {
      await api("POST", `/plex/libraries/${key}/refresh`);
      say(
        refreshStatus,
        `Plex is looking for new files in ${libraryTitle}. New titles show up here within a few minutes.`,
        true,
      );
    } catch (error) {
      say(refreshStatus, error.message || "The refresh could not be started. Try again.", false);
    } finally {
      refresh.disabled = false;
    }
  });

  onSubmit(manage.querySelector("[data-scan]"), "Starting…", async (form) => {
    const path = value(form, "path").trim();
    await api("POST", `/plex/libraries/${key}/scan`, { path });
    show(
      form.querySelector("[data-form-status]"),
      `Plex is scanning ${path}. What it finds there shows up here within a few minutes.`,
    );
  });

  const bar = document.querySelector("[data-select-bar]");
  const count = bar.querySelector("[data-select-count]");
  const done = document.querySelector("[data-collection-status]");
  const picks = () => [...grid.querySelectorAll("[data-pick]:checked")];

  function counted() {
    const n = picks().length;
    count.textContent = n
      ? `${n} title${n === 1 ? "" : "s"} selected.`
      : "Nothing selected yet: pick the titles to put in the collection.";
    for (const input of grid.querySelectorAll("[data-pick]")) {
      input.closest(".poster-card").classList.toggle("is-picked", input.checked);
    }
  }

  function stopSelecting() {
    for (const input of picks()) input.checked = false;
    grid.classList.remove("is-selecting");
    bar.hidden = true;
    clearErrors(bar);
    counted();
  }

  manage.querySelector("[data-select-start]").addEventListener("click", () => {
    if (!grid) return;
    manage.open = false;
    done.hidden = true;
    grid.classList.add("is-selecting");
    bar.hidden = false;
    counted();
    grid.scrollIntoView({ block: "start" });
    grid.querySelector("[data-pick]")?.focus();
  });

  bar.querySelector("[data-select-cancel]").addEventListener("click", stopSelecting);

  // While selecting, a poster picks its title instead of opening it.
  grid?.addEventListener("click", (event) => {
    if (!grid.classList.contains("is-selecting")) return;
    const link = event.target.closest(".poster-link");
    if (!link) return;
    event.preventDefault();
    const input = link.closest(".poster-card").querySelector("[data-pick]");
    input.checked = !input.checked;
    counted();
  });
  grid?.addEventListener("change", counted);

  onSubmit(bar, "Creating…", async (form) => {
    const ratingKeys = picks().map((input) => input.value);
    if (ratingKeys.length === 0) {
      show(form.querySelector("[data-form-error]"), "Pick at least one title for the collection first.");
      return;
    }
    const title = value(form, "title").trim();
    const created = await api("POST", "/plex/collections", { libraryKey: key, title, ratingKeys });
    form.reset();
    stopSelecting();
    const link = document.createElement("a");
    link.href = `/library/collections/${encodeURIComponent(created.ratingKey)}`;
    link.textContent = "Open it";
    const n = ratingKeys.length;
    done.replaceChildren(
      `The collection “${created.title}” was created with ${n} title${n === 1 ? "" : "s"}. `,
      link,
    );
    done.hidden = false;
    done.scrollIntoView({ block: "center" });
    link.focus();
  });
}
