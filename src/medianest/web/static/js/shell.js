// Every page: the theme toggle, the sign-out buttons, "/" to search, a titled frame in place
// of art that cannot load, and hiding a banner the person has read.

import { api } from "./api.js";

const THEMES = ["dark", "light"];
const root = document.documentElement;

function remember(theme) {
  const secure = location.protocol === "https:" ? "; Secure" : "";
  // The cookie lets the server render the right theme at once; localStorage outlives cookie clean-ups.
  document.cookie = `theme=${theme}; Path=/; Max-Age=31536000; SameSite=Lax${secure}`;
  try {
    localStorage.setItem("theme", theme);
  } catch {
    // Storage can be off (private mode); the cookie still works.
  }
}

function apply(theme) {
  root.dataset.theme = theme;
  document.querySelector('meta[name="color-scheme"]')?.setAttribute("content", theme);
  document
    .querySelector('meta[name="theme-color"]')
    ?.setAttribute("content", theme === "light" ? "#f6f7f9" : "#101318");
  const other = theme === "dark" ? "light" : "dark";
  for (const button of document.querySelectorAll("[data-theme-toggle]")) {
    button.setAttribute("aria-label", `Switch to ${other} theme`);
    const label = button.querySelector("[data-theme-label]");
    if (label) label.textContent = other === "light" ? "Light theme" : "Dark theme";
  }
}

function storedTheme() {
  try {
    return localStorage.getItem("theme");
  } catch {
    return null;
  }
}

const stored = storedTheme();
if (THEMES.includes(stored) && stored !== root.dataset.theme) {
  // The cookie was lost but the choice was not: bring the cookie back.
  apply(stored);
  remember(stored);
}

for (const button of document.querySelectorAll("[data-theme-toggle]")) {
  button.addEventListener("click", () => {
    const next = root.dataset.theme === "light" ? "dark" : "light";
    apply(next);
    remember(next);
  });
}

for (const button of document.querySelectorAll("[data-sign-out]")) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await api("POST", "/auth/logout", {});
    } catch (error) {
      // Already signed out elsewhere is fine; anything else is worth saying.
      if (error.status !== 401) {
        button.disabled = false;
        window.alert(error.message);
        return;
      }
    }
    location.assign("/login");
  });
}

// A poster that cannot load (Plex gone, the art deleted) becomes a calm frame with the title in
// it instead of the browser's broken-image mark. Image errors do not bubble, hence the capture.
function replaceBroken(img) {
  if (!img.matches("img.poster, img.search-thumb")) return;
  const frame = document.createElement("span");
  frame.className = `${img.className} poster-empty poster-missing`;
  const title = img.dataset.title || "";
  if (title) {
    frame.setAttribute("role", "img");
    frame.setAttribute("aria-label", title);
    const text = document.createElement("span");
    text.className = "poster-missing-title";
    text.textContent = title;
    text.setAttribute("aria-hidden", "true");
    frame.append(text);
  } else {
    frame.setAttribute("aria-hidden", "true");
  }
  img.replaceWith(frame);
}

document.addEventListener("error", (event) => {
  if (event.target instanceof HTMLImageElement) replaceBroken(event.target);
}, true);
// Images that failed before this module ran.
for (const img of document.querySelectorAll("img.poster, img.search-thumb")) {
  if (img.complete && img.naturalWidth === 0 && img.getAttribute("src")) replaceBroken(img);
}

// "/" jumps to the search box, as on most sites with one, unless the person is typing somewhere:
// the header's, or the page's own (marked data-page-search) on a page that has one instead.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
  const target = event.target;
  if (target instanceof HTMLElement && (target.isContentEditable || target.closest("input, textarea, select"))) return;
  const search = document.querySelector("[data-search] input[type=search], [data-page-search]");
  if (!search) return;
  event.preventDefault();
  search.focus();
  search.select();
});

// A hidden banner stays hidden on the next pages: its key changes when it says something new
// (another announcement, a service down again), so nothing new is ever hidden by an old click.
const HIDDEN_BANNERS = "hiddenBanners";

function hiddenBanners() {
  try {
    const stored = JSON.parse(localStorage.getItem(HIDDEN_BANNERS) || "[]");
    return Array.isArray(stored) ? stored : [];
  } catch {
    return [];
  }
}

function hideBanner(banner) {
  banner.hidden = true;
  const keys = [banner.dataset.banner, ...hiddenBanners().filter((key) => key !== banner.dataset.banner)];
  try {
    // The newest few are enough: banners come and go.
    localStorage.setItem(HIDDEN_BANNERS, JSON.stringify(keys.slice(0, 50)));
  } catch {
    // Storage can be off; the banner is still hidden on this page.
  }
}

const hidden = new Set(hiddenBanners());
for (const banner of document.querySelectorAll("[data-banner]")) {
  const close = banner.querySelector("[data-banner-dismiss]");
  if (!close) continue;
  if (hidden.has(banner.dataset.banner)) banner.hidden = true;
  close.addEventListener("click", () => hideBanner(banner));
}

// The phone bar's "More" menu closes as menus do: a tap elsewhere or Escape (focus back on it).
const moreMenu = document.querySelector("[data-bottom-more]");
if (moreMenu) {
  document.addEventListener("click", (event) => {
    if (moreMenu.open && !moreMenu.contains(event.target)) moreMenu.open = false;
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !moreMenu.open) return;
    moreMenu.open = false;
    moreMenu.querySelector("summary").focus();
  });
}
