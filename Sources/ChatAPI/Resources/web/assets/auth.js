// Sign-in, sign-up and the e-mail confirmation landing page (/verify?token=…).

import { api, signIn } from "./api.js";
import { h, mount } from "./dom.js";
import { clearFieldErrors, errorMessage, field, sentence, showFieldError } from "./ui.js";

// Asks for a new confirmation e-mail; the server answers the same whether or not the address has an account.
async function resend(email, statusSlot) {
  statusSlot.hidden = false;
  statusSlot.className = "notice";
  statusSlot.textContent = "Sending…";
  try {
    const result = await api("/api/auth/resend-verification", { method: "POST", json: { email } });
    statusSlot.textContent = sentence(result.message);
  } catch (error) {
    statusSlot.className = "error";
    statusSlot.textContent = errorMessage(error);
  }
}

export function signInPage(main, route, app) {
  document.title = "Sign in · Omnifin";
  const next = route.query.get("next");
  const flash = app.takeFlash();
  const email = h("input", { id: "signin-email", name: "email", type: "email", autocomplete: "username", required: true, spellcheck: "false" });
  const password = h("input", { id: "signin-password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { id: "signin-submit", type: "submit", class: "wide" }, "Sign in");
  const error = h("div", { id: "signin-error", class: "error", role: "alert", hidden: true });
  const resendStatus = h("p", { id: "signin-resend-status", role: "status", hidden: true });

  const form = h(
    "form",
    { id: "signin-form", novalidate: true, on: { submit: onSubmit } },
    field("E-mail address", email),
    field("Password", password),
    error,
    resendStatus,
    h("div", { class: "actions" }, submit),
  );

  async function onSubmit(event) {
    event.preventDefault();
    clearFieldErrors(form, error);
    resendStatus.hidden = true;
    submit.disabled = true;
    submit.textContent = "Signing in…";
    try {
      const user = await signIn(email.value.trim(), password.value);
      app.signedIn(user, next);
    } catch (failure) {
      mount(error, errorMessage(failure));
      error.hidden = false;
      if (failure.code === "email_not_verified") {
        // The usual reason: the first e-mail got lost or the link expired.
        error.append(
          " ",
          h("button", { type: "button", id: "signin-resend", class: "link", on: { click: () => resend(email.value.trim(), resendStatus) } },
            "Send the confirmation e-mail again"),
        );
      } else if (failure.code === "invalid_credentials") {
        password.setAttribute("aria-invalid", "true");
      }
      password.value = "";
      (failure.code === "invalid_credentials" ? password : email).focus();
    } finally {
      submit.disabled = false;
      submit.textContent = "Sign in";
    }
  }

  mount(
    main,
    h(
      "section",
      { class: "card narrow auth", "aria-labelledby": "signin-heading" },
      h("h1", { id: "signin-heading" }, "Sign in to Omnifin"),
      flash ? h("p", { class: "notice", id: "signin-notice", role: "status" }, flash) : null,
      form,
      h("p", { class: "muted" }, "No account yet? ", h("a", { href: "#/signup", id: "signup-link" }, "Create one")),
    ),
  );
}

export function signUpPage(main) {
  document.title = "Create an account · Omnifin";
  const name = h("input", { id: "signup-name", name: "display_name", autocomplete: "name", required: true, maxlength: 100 });
  const email = h("input", { id: "signup-email", name: "email", type: "email", autocomplete: "email", required: true, spellcheck: "false" });
  const password = h("input", { id: "signup-password", name: "password", type: "password", autocomplete: "new-password", required: true, minlength: 10 });
  const submit = h("button", { id: "signup-submit", type: "submit", class: "wide" }, "Create account");
  const error = h("div", { id: "signup-error", class: "error", role: "alert", hidden: true });
  const form = h(
    "form",
    { id: "signup-form", novalidate: true, on: { submit: onSubmit } },
    field("Your name", name),
    field("E-mail address", email, "We send a confirmation link to this address."),
    field("Password", password, "At least 10 characters; not a common password and not your e-mail address."),
    error,
    h("div", { class: "actions" }, submit),
  );
  const section = h(
    "section",
    { class: "card narrow auth", "aria-labelledby": "signup-heading" },
    h("h1", { id: "signup-heading" }, "Create an account"),
    form,
    h("p", { class: "muted" }, "Already have an account? ", h("a", { href: "#/signin" }, "Sign in")),
  );

  async function onSubmit(event) {
    event.preventDefault();
    clearFieldErrors(form, error);
    submit.disabled = true;
    try {
      const address = email.value.trim();
      await api("/api/auth/register", {
        method: "POST",
        json: { display_name: name.value.trim(), email: address, password: password.value },
      });
      const status = h("p", { role: "status", id: "signup-resend-status", hidden: true });
      mount(
        section,
        h(
          "div",
          { id: "signup-done", role: "status", tabindex: "-1" },
          h("h1", null, "Check your inbox"),
          h("p", null, "We sent a confirmation link to ", h("strong", null, address),
            ". Open it to activate your account, then sign in. The link is valid for 48 hours."),
          h("p", { class: "row" },
            h("button", { type: "button", class: "secondary", on: { click: () => resend(address, status) } }, "Send the e-mail again"),
            h("a", { class: "button", href: "#/signin" }, "Go to sign in")),
          status,
        ),
      );
      section.querySelector("#signup-done").focus();
    } catch (failure) {
      // 400 names the field (weak password, bad address), 409 email_taken names "email".
      showFieldError(form, failure, error);
    } finally {
      submit.disabled = false;
    }
  }

  mount(main, section);
}

// /verify?token=…: the link of the confirmation e-mail.
export async function verifyPage(main) {
  document.title = "Confirm your e-mail address · Omnifin";
  const token = new URLSearchParams(location.search).get("token");
  // The token works once; keep it out of the history and of anything that might copy the address.
  history.replaceState(null, "", "/verify");
  const status = h("p", { id: "verify-status", role: "status" }, "Confirming your e-mail address…");
  const section = h("section", { class: "card narrow auth", "aria-labelledby": "verify-heading" },
    h("h1", { id: "verify-heading" }, "Confirm your e-mail address"), status);
  mount(main, section);

  try {
    if (!token) throw new Error("this link has no confirmation token; open the link from the e-mail exactly as it was sent");
    const result = await api("/api/auth/verify?token=" + encodeURIComponent(token));
    status.replaceWith(
      h("div", { id: "verify-done", class: "success-box" },
        h("p", null, "Your address ", h("strong", null, result.email), " is confirmed. You can sign in now."),
        h("a", { class: "button", id: "verify-signin", href: "/#/signin" }, "Sign in")),
    );
  } catch (failure) {
    const email = h("input", { id: "resend-email", name: "email", type: "email", autocomplete: "email", required: true });
    const resendStatus = h("p", { id: "resend-status", role: "status", hidden: true });
    const form = h(
      "form",
      { id: "resend-form", novalidate: true, on: { submit: (event) => {
        event.preventDefault();
        resend(email.value.trim(), resendStatus);
      } } },
      h("h2", null, "Get a new link"),
      field("E-mail address", email, "The address you registered with."),
      h("div", { class: "actions" }, h("button", { id: "resend-submit", type: "submit" }, "Send a new link")),
      resendStatus,
    );
    status.replaceWith(h("div", { id: "verify-error", class: "error", role: "alert" }, errorMessage(failure)));
    section.append(form, h("p", { class: "muted" }, "Already confirmed? ", h("a", { href: "/#/signin" }, "Sign in")));
  }
}
