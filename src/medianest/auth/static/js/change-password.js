// The first-run page: a password that must be replaced before anything else.

import { api } from "../../js/api.js";
import { onSubmit, passwordsMatch, value } from "../../js/forms.js";

const form = document.getElementById("change-password-form");

onSubmit(form, "Saving…", async () => {
  if (!passwordsMatch(form)) return;
  await api("POST", "/auth/change-password", {
    currentPassword: value(form, "currentPassword"),
    newPassword: value(form, "newPassword"),
  });
  location.assign("/");
});
