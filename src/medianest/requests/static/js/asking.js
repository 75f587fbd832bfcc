// Asking for a title (POST /media/request), and what each answer means, in words for people.
//
// A new request says whether it waits for approval; asking for what someone else already asked
// for follows their request instead (200, `following`). Every refusal has a sentence: the API's
// own for a duplicate, something already in Plex or Overseerr's refusal, the wait for the quota,
// and a plain one while Overseerr is away.

import { api, ApiError } from "../../js/api.js";

export const UNREACHABLE = "Overseerr is unreachable; requests are paused until it is back.";

function wait(seconds) {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} seconds`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} minutes`;
  const hours = Math.round(minutes / 60);
  return hours === 1 ? "an hour" : `${hours} hours`;
}

export function outcome(request) {
  if (request.following) return "You'll be told when it's available.";
  if (request.status === "pending") return "Requested. Waiting for approval; you'll be told when it's available.";
  return "Requested. You'll be told when it's available.";
}

export function refusal(error) {
  if (!(error instanceof ApiError)) {
    console.error(error);
    return "Something went wrong. Try again.";
  }
  if (error.status === 503 || error.status === 504) return UNREACHABLE;
  if (error.status === 429) {
    const when = error.retryAfter ? ` You can ask again in ${wait(error.retryAfter)}.` : "";
    return `You have asked for a lot just now.${when}`;
  }
  return error.message;
}

// Resolves to the request (with `message`), or throws an ApiError whose `message` is refusal().
export async function ask(mediaType, tmdbId, { seasons, is4k } = {}) {
  const body = { mediaType, tmdbId };
  if (seasons !== undefined) body.seasons = seasons;
  if (is4k) body.is4k = true;
  try {
    const request = await api("POST", "/media/request", body);
    return { request, message: outcome(request) };
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      // Signed out meanwhile: sign in again, then come back to this page.
      const here = location.pathname + location.search;
      location.assign(`/login?next=${encodeURIComponent(here)}`);
    }
    if (error instanceof ApiError) {
      error.message = refusal(error);
      throw error;
    }
    throw new ApiError(0, { message: refusal(error) });
  }
}

export function mineHref(requestId) {
  return `/requests/mine#request-${encodeURIComponent(requestId)}`;
}

// The polite live region of the page reads the result out.
export function announce(text) {
  const region = document.querySelector("[data-announce]");
  if (!region) return;
  region.textContent = "";
  // A new text node after a tick, so the same sentence twice is read twice.
  window.setTimeout(() => {
    region.textContent = text;
  }, 50);
}
