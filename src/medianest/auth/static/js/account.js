// The account page: password, two-factor sign-in and device sessions.

import { api } from "../../js/api.js";
import { clearErrors, hide, onSubmit, passwordsMatch, setBusy, show, showError, value } from "../../js/forms.js";

// Password

const passwordForm = document.getElementById("password-form");
onSubmit(passwordForm, "Saving…", async (form) => {
  if (!passwordsMatch(form)) return;
  const result = await api("POST", "/auth/change-password", {
    currentPassword: value(form, "currentPassword") ?? null,
    newPassword: value(form, "newPassword"),
  });
  form.reset();
  show(form.parentElement.querySelector("[data-form-status]"), result.message);
});

// Two-factor sign-in

const intro = document.querySelector("[data-two-factor-intro]");
const setup = document.querySelector("[data-two-factor-setup]");
const codes = document.querySelector("[data-backup-codes]");
const onForm = document.getElementById("two-factor-on-form");
const offForm = document.getElementById("two-factor-off-form");
let backupCodes = [];

// The key in groups of four that never break inside: a line may only wrap between groups.
function showSecret(slot, secret) {
  const parts = secret.match(/.{1,4}/g) || [];
  slot.replaceChildren();
  parts.forEach((part, index) => {
    if (index) slot.append(" ");
    const group = document.createElement("span");
    group.className = "secret-group";
    group.textContent = part;
    slot.append(group);
  });
}

intro?.querySelector("[data-two-factor-start]").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  hide(intro.querySelector("[data-form-error]"));
  setBusy(button, true, "Preparing…");
  try {
    const started = await api("POST", "/auth/2fa/setup");
    setup.querySelector("[data-two-factor-qr]").src = started.qrSvg;
    showSecret(setup.querySelector("[data-two-factor-secret]"), started.secret);
    hide(intro);
    show(setup);
    onForm.elements.namedItem("code").focus();
  } catch (error) {
    showError(intro, error);
  } finally {
    setBusy(button, false);
  }
});

setup?.querySelector("[data-two-factor-cancel]").addEventListener("click", () => {
  clearErrors(onForm);
  onForm.reset();
  hide(setup);
  show(intro);
  intro.querySelector("[data-two-factor-start]").focus();
});

if (onForm) {
  onSubmit(onForm, "Checking…", async (form) => {
    const result = await api("POST", "/auth/2fa/enable", {
      code: value(form, "code").replace(/\s/g, ""),
    });
    backupCodes = result.backupCodes;
    const list = codes.querySelector("[data-backup-code-list]");
    list.replaceChildren(
      ...backupCodes.map((code) => {
        const item = document.createElement("li");
        item.textContent = code;
        return item;
      }),
    );
    hide(setup);
    show(codes);
    codes.querySelector("h3").focus();
  });
}

const codesText = () =>
  `MediaNest backup codes for ${location.host}\nEach code works once.\n\n${backupCodes.join("\n")}\n`;
const codesStatus = codes?.querySelector("[data-codes-status]");

codes?.querySelector("[data-codes-copy]").addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(codesText());
    codesStatus.textContent = "Copied. Paste them somewhere safe.";
  } catch {
    codesStatus.textContent = "Copying is not allowed here: select the codes and copy them, or download them.";
  }
});

codes?.querySelector("[data-codes-download]").addEventListener("click", () => {
  const url = URL.createObjectURL(new Blob([codesText()], { type: "text/plain" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = "medianest-backup-codes.txt";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
  codesStatus.textContent = "Downloaded as medianest-backup-codes.txt.";
});

codes?.querySelector("[data-codes-done]").addEventListener("click", () => location.reload());

if (offForm) {
  onSubmit(offForm, "Turning off…", async (form) => {
    // Passwords have at least 10 characters; codes (6 digits, or a backup code) fewer.
    const proof = value(form, "proof").trim();
    const body = proof.length < 10 ? { code: proof } : { password: proof };
    await api("POST", "/auth/2fa/disable", body);
    location.reload();
  });
}

// Devices

const devices = document.getElementById("devices");
const devicesStatus = devices.querySelector("[data-devices-status]");
const devicesError = devices.querySelector("[data-devices-error]");
const revokeOthers = devices.querySelector("[data-revoke-others]");

async function revoke(id) {
  await api("DELETE", `/auth/sessions/${id}`);
  devices.querySelector(`[data-device="${id}"]`)?.remove();
  if (!devices.querySelector("[data-device]:not([data-current])")) revokeOthers?.remove();
}

devices.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-revoke]");
  if (!button) return;
  hide(devicesStatus);
  hide(devicesError);
  setBusy(button, true, "Signing out…");
  try {
    await revoke(button.dataset.revoke);
    show(devicesStatus, "That device is signed out.");
    devicesStatus.focus();
  } catch (error) {
    setBusy(button, false);
    showError(devicesError, error);
  }
});

revokeOthers?.addEventListener("click", async () => {
  hide(devicesStatus);
  hide(devicesError);
  setBusy(revokeOthers, true, "Signing out…");
  try {
    for (const row of devices.querySelectorAll("[data-device]:not([data-current])")) {
      await revoke(row.dataset.device);
    }
    show(devicesStatus, "All your other devices are signed out.");
    devicesStatus.focus();
  } catch (error) {
    setBusy(revokeOthers, false);
    showError(devicesError, error);
  }
});
