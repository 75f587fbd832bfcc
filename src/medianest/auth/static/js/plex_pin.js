// Waiting for a plex.tv PIN to be approved: shared by Plex sign-in and linking a Plex account.

import { api } from "../../js/api.js";

export class PinExpired extends Error {}

export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });
}

// Polls until the PIN is approved (true) or expires (false), at the pace the API asks for and
// slower when it answers 429.
export async function approved(pin, signal) {
  const expires = Date.parse(pin.expiresAt);
  const interval = Math.max(pin.pollIntervalMs || 1000, 500);
  let wait = interval;
  while (Date.now() + wait < expires) {
    await sleep(wait, signal);
    try {
      const status = await api("GET", `/auth/plex/pin/${pin.id}`);
      if (status.authorized) return true;
      wait = interval;
    } catch (error) {
      if (error.status !== 429) throw error;
      wait = Math.max((error.retryAfter || 5) * 1000, wait * 2);
    }
  }
  return false;
}

// Closes the Plex sign-in window as soon as it has done its part. The page that opened it keeps
// a handle on it (its Cross-Origin-Opener-Policy allows that); where the browser cut the tie
// anyway, MediaNest's own page plex.tv forwards the window to closes it.
export function closeWindow(popup) {
  try {
    if (popup && !popup.closed) popup.close();
  } catch {
    // Nothing left to close from here.
  }
}
