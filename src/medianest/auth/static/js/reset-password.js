// Choosing a new password with the token from the e-mailed link (`/reset-password#token=...`).
// The token sits in the fragment so it never reaches a server log; it is taken out of the
// address bar at once so it does not stay in the history either.

import { api } from "../../js/api.js";
import { hide, onSubmit, passwordsMatch, show, value } from "../../js/forms.js";

const form = document.getElementById("reset-form");
const body = document.querySelector("[data-reset]");
const token = new URLSearchParams(location.hash.slice(1)).get("token");
history.replaceState(null, "", location.pathname);

if (!token) {
  hide(body);
  show(document.querySelector("[data-missing-token]"));
} else {
  onSubmit(form, "Saving…", async () => {
    if (!passwordsMatch(form)) return;
    const result = await api("POST", "/auth/password-reset/confirm", {
      token,
      newPassword: value(form, "newPassword"),
    });
    hide(body);
    show(document.querySelector("[data-form-status]"), result.message);
    show(document.querySelector("[data-done]"));
  });
}
