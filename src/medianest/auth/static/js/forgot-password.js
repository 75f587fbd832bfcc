// Asking for a password reset link by e-mail.

import { api } from "../../js/api.js";
import { hide, onSubmit, show, value } from "../../js/forms.js";

const form = document.getElementById("reset-request-form");
const done = document.querySelector("[data-form-status]");

onSubmit(form, "Sending…", async () => {
  const result = await api("POST", "/auth/password-reset/request", {
    email: value(form, "email").trim(),
  });
  hide(form);
  show(done, result.message);
});
