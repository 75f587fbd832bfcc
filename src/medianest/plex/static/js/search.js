// The header search: titles found as you type, in a list you can walk with the arrow keys.
//
// Without this script the box is a plain form that opens the results page (/search?q=). With
// it, the box becomes an ARIA 1.2 combobox: Enter on a highlighted title opens it, Enter with
// nothing highlighted still opens the results page, Escape closes the list.

import { api, ApiError } from "../../js/api.js";

const DELAY_MS = 200;
const MIN_LENGTH = 2;
const LIMIT = 8;
// Music has square covers.
const SQUARE = new Set(["artist", "album", "track"]);
const KINDS = {
  movie: "Movie",
  show: "TV show",
  season: "Season",
  episode: "Episode",
  collection: "Collection",
  artist: "Artist",
  album: "Album",
  track: "Track",
};

function hrefOf(hit) {
  const base = hit.type === "collection" ? "/library/collections/" : "/library/items/";
  return base + encodeURIComponent(hit.ratingKey);
}

function lineOf(hit) {
  const parts = [KINDS[hit.type] || hit.type];
  if (hit.type === "episode") parts.push(hit.grandparentTitle);
  else if (hit.type === "season" || hit.type === "album") parts.push(hit.parentTitle);
  else if (hit.type === "track") parts.push(hit.grandparentTitle, hit.parentTitle);
  // A track's year is its album's, which the line already names.
  if (hit.year && hit.type !== "track") parts.push(String(hit.year));
  return parts.filter(Boolean).join(" · ");
}

// A fetch of our own so a stale request can be aborted; an expired session goes through
// api(), which renews it once and asks again.
async function findTitles(query, signal) {
  const path = `/plex/search?query=${encodeURIComponent(query)}&pageSize=${LIMIT}`;
  const response = await fetch(`/api/v1${path}`, {
    headers: { Accept: "application/json" },
    credentials: "same-origin",
    signal,
  });
  const payload = await response.json().catch(() => null);
  if (response.ok && payload) return payload.data;
  const error = (payload && payload.error) || {};
  if (response.status === 401 && error.code === "TOKEN_EXPIRED") return api("GET", path);
  throw new ApiError(response.status, error);
}

function option(hit, id) {
  const item = document.createElement("li");
  item.id = id;
  item.className = "search-option";
  item.setAttribute("role", "option");
  item.setAttribute("aria-selected", "false");
  item.dataset.href = hrefOf(hit);
  const square = SQUARE.has(hit.type);
  const shape = square ? "search-thumb search-thumb-square" : "search-thumb";
  if (hit.thumb) {
    const img = document.createElement("img");
    const height = square ? 80 : 120;
    img.src = `/api/v1/plex/image?path=${encodeURIComponent(hit.thumb)}&width=80&height=${height}`;
    img.width = 40;
    img.height = height / 2;
    img.alt = "";
    img.className = shape;
    item.append(img);
  } else {
    const blank = document.createElement("span");
    blank.className = `${shape} poster-empty`;
    item.append(blank);
  }
  const text = document.createElement("span");
  text.className = "search-text";
  const title = document.createElement("span");
  title.className = "search-title";
  title.textContent = hit.title;
  const line = document.createElement("span");
  line.className = "search-line";
  line.textContent = lineOf(hit);
  text.append(title, line);
  item.append(text);
  return item;
}

function enhance(form) {
  const input = form.querySelector("input[name=q]");
  const list = form.querySelector("[role=listbox]");
  const status = form.querySelector("[data-search-status]");
  let timer = 0;
  let controller = null;
  let active = -1;

  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");

  const options = () => [...list.querySelectorAll("[role=option]")];

  function highlight(index) {
    const all = options();
    active = index;
    all.forEach((item, i) => item.setAttribute("aria-selected", String(i === index)));
    if (index >= 0 && all[index]) {
      input.setAttribute("aria-activedescendant", all[index].id);
      all[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    highlight(-1);
  }

  function open() {
    if (list.children.length === 0) return;
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function note(text) {
    const item = document.createElement("li");
    item.className = "search-note";
    item.setAttribute("role", "presentation");
    item.textContent = text;
    return item;
  }

  function seeAll(query) {
    const item = document.createElement("li");
    item.id = `${list.id}-all`;
    item.className = "search-option search-all";
    item.setAttribute("role", "option");
    item.setAttribute("aria-selected", "false");
    item.dataset.href = `/search?q=${encodeURIComponent(query)}`;
    item.textContent = `See all results for “${query}”`;
    return item;
  }

  function show(query, hits) {
    if (hits.length) {
      list.replaceChildren(...hits.map((hit, i) => option(hit, `${list.id}-${i}`)), seeAll(query));
      const count = `${hits.length} title${hits.length === 1 ? "" : "s"}`;
      status.textContent = `${count} found. Use the arrow keys to choose one.`;
    } else {
      list.replaceChildren(note(`No titles match “${query}”.`));
      status.textContent = "No titles found.";
    }
    highlight(-1);
    open();
  }

  async function lookUp(query) {
    controller?.abort();
    controller = new AbortController();
    const mine = controller;
    try {
      const hits = await findTitles(query, mine.signal);
      if (mine.signal.aborted || input.value.trim() !== query) return;
      show(query, hits);
    } catch (error) {
      if (error.name === "AbortError" || mine.signal.aborted) return;
      if (error instanceof ApiError && error.status === 401) {
        location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
        return;
      }
      const message =
        error instanceof ApiError ? error.message : "Search is not working right now. Try again soon.";
      list.replaceChildren(note(message));
      status.textContent = message;
      open();
    }
  }

  input.addEventListener("input", () => {
    window.clearTimeout(timer);
    const query = input.value.trim();
    if (query.length < MIN_LENGTH) {
      controller?.abort();
      list.replaceChildren();
      status.textContent = "";
      close();
      return;
    }
    timer = window.setTimeout(() => lookUp(query), DELAY_MS);
  });

  input.addEventListener("keydown", (event) => {
    const all = options();
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (list.hidden) {
        open();
        if (list.hidden) return;
      }
      event.preventDefault();
      if (!all.length) return;
      const step = event.key === "ArrowDown" ? 1 : -1;
      const next = active + step;
      highlight(next < -1 ? all.length - 1 : next >= all.length ? -1 : next);
    } else if (event.key === "Enter") {
      if (!list.hidden && active >= 0 && all[active]) {
        event.preventDefault();
        location.assign(all[active].dataset.href);
      } else if (input.value.trim().length === 0) {
        event.preventDefault();
      }
    } else if (event.key === "Escape") {
      if (!list.hidden) {
        event.preventDefault();
        close();
      } else if (input.value) {
        event.preventDefault();
        input.value = "";
      }
    }
  });

  // mousedown, not click: the input keeps focus, so the list does not close under the pointer.
  list.addEventListener("mousedown", (event) => {
    const item = event.target.closest("[role=option]");
    if (!item) return;
    event.preventDefault();
    location.assign(item.dataset.href);
  });

  input.addEventListener("focus", open);
  input.addEventListener("blur", () => window.setTimeout(close, 100));
}

for (const form of document.querySelectorAll("[data-search]")) enhance(form);
