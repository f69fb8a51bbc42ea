// Sign-in, sign-up, and the pages of the e-mailed links: confirmation (/verify), password reset and invitation
// (/reset-password, #/forgot to ask for one), and the first administrator's setup (/setup).

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
  const signupHint = h("p", { class: "muted", id: "signup-hint" });

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
      h("p", { class: "muted" }, h("a", { href: "#/forgot", id: "forgot-link" }, "Forgot your password?")),
      signupHint,
    ),
  );
  // Only where the server takes registrations is there a sign-up page to offer.
  api("/api/auth/signup").then((policy) => {
    if (policy.mode === "open" || policy.mode === "domains") {
      mount(signupHint, "No account yet? ", h("a", { href: "#/signup", id: "signup-link" }, "Create one"));
    } else {
      mount(signupHint, "No account yet? An administrator creates accounts and sends invitations.");
    }
  }).catch(() => {});
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
            ". Open it within 48 hours and enter your password there to activate your account."),
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
  api("/api/auth/signup").then((policy) => {
    if (policy.mode === "domains") {
      form.prepend(h("p", { class: "notice", id: "signup-domains" }, "Addresses at " + policy.domains.join(", ") + " may sign up here."));
    } else if (policy.mode !== "open") {
      mount(section, h("h1", { id: "signup-heading" }, "Accounts are by invitation"),
        h("p", { id: "signup-closed" }, "This Omnifin creates accounts through its administrators: ask one for an invitation."),
        h("p", { class: "muted" }, "Already have an account? ", h("a", { href: "#/signin" }, "Sign in")));
    }
  }).catch(() => {});
}

// A one-time token from a link (/verify, /reset-password, /setup): read once, then kept out of the address bar, the
// history and anything that might copy the address.
function takeToken(path) {
  const params = new URLSearchParams(location.search);
  history.replaceState(null, "", path);
  return { token: params.get("token"), invite: params.get("invite") === "1" };
}

function passwordInput(id, autocomplete) {
  return h("input", { id, name: "password", type: "password", autocomplete, required: true, minlength: 10 });
}

// /verify?token=…: the link of the confirmation e-mail. The link confirms the address together with the password
// chosen at registration, so a link that reached the inbox from someone else's registration confirms nothing.
export function verifyPage(main) {
  document.title = "Confirm your e-mail address · Omnifin";
  const { token } = takeToken("/verify");
  const password = passwordInput("verify-password", "current-password");
  const submit = h("button", { id: "verify-submit", type: "submit", class: "wide" }, "Confirm and sign in");
  const error = h("div", { id: "verify-error", class: "error", role: "alert", hidden: true });
  const form = h(
    "form",
    { id: "verify-form", novalidate: true, on: { submit: onSubmit } },
    h("p", null, "Enter the password you chose when you registered, to confirm that this address is yours."),
    field("Password", password),
    error,
    h("div", { class: "actions" }, submit),
  );
  const section = h("section", { class: "card narrow auth", "aria-labelledby": "verify-heading" },
    h("h1", { id: "verify-heading" }, "Confirm your e-mail address"), form);
  mount(main, section);
  if (!token) {
    showFailure(new Error("this link has no confirmation token; open the link from the e-mail exactly as it was sent"));
    return;
  }
  password.focus();

  async function onSubmit(event) {
    event.preventDefault();
    clearFieldErrors(form, error);
    submit.disabled = true;
    try {
      const result = await api("/api/auth/verify", { method: "POST", json: { token, password: password.value } });
      const done = h("div", { id: "verify-done", class: "success-box", role: "status" },
        h("p", null, "Your address ", h("strong", null, result.email),
          result.status === "already_verified" ? " was already confirmed." : " is confirmed."),
        h("a", { class: "button", id: "verify-signin", href: "/#/signin" }, "Sign in"));
      form.replaceWith(done);
      if (result.status === "verified") {
        try {
          await signIn(result.email, password.value);
          location.assign("/#/chat");
        } catch {
          // Confirmed; signing in is one click away.
        }
      }
    } catch (failure) {
      if (failure.code === "wrong_password") {
        showFieldError(form, failure, error);
        password.value = "";
        password.focus();
      } else {
        showFailure(failure);
      }
    } finally {
      submit.disabled = false;
    }
  }

  function showFailure(failure) {
    const email = h("input", { id: "resend-email", name: "email", type: "email", autocomplete: "email", required: true });
    const resendStatus = h("p", { id: "resend-status", role: "status", hidden: true });
    const again = h(
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
    mount(section, h("h1", { id: "verify-heading" }, "Confirm your e-mail address"),
      h("div", { id: "verify-error", class: "error", role: "alert" }, errorMessage(failure)), again,
      h("p", { class: "muted" }, "Already confirmed? ", h("a", { href: "/#/signin" }, "Sign in"), " · ",
        h("a", { href: "/#/forgot" }, "Forgot your password?")));
  }
}

// #/forgot: asks for a link to choose a new password. The answer is the same whether or not the address has an account.
export function forgotPage(main) {
  document.title = "Reset your password · Omnifin";
  const email = h("input", { id: "forgot-email", name: "email", type: "email", autocomplete: "username", required: true, spellcheck: "false" });
  const submit = h("button", { id: "forgot-submit", type: "submit", class: "wide" }, "Send the link");
  const error = h("div", { id: "forgot-error", class: "error", role: "alert", hidden: true });
  const form = h(
    "form",
    { id: "forgot-form", novalidate: true, on: { submit: onSubmit } },
    field("E-mail address", email, "We send a link to choose a new password; it works once, within an hour."),
    error,
    h("div", { class: "actions" }, submit),
  );
  const section = h("section", { class: "card narrow auth", "aria-labelledby": "forgot-heading" },
    h("h1", { id: "forgot-heading" }, "Reset your password"), form,
    h("p", { class: "muted" }, "Remembered it? ", h("a", { href: "#/signin" }, "Sign in")));
  mount(main, section);

  async function onSubmit(event) {
    event.preventDefault();
    clearFieldErrors(form, error);
    submit.disabled = true;
    try {
      const result = await api("/api/auth/password-reset", { method: "POST", json: { email: email.value.trim() } });
      form.replaceWith(h("p", { id: "forgot-done", class: "notice", role: "status" }, sentence(result.message)));
    } catch (failure) {
      showFieldError(form, failure, error);
    } finally {
      submit.disabled = false;
    }
  }
}

// /reset-password?token=…: the link of a password reset or an invitation (…&invite=1): choose a password.
export function resetPasswordPage(main) {
  const { token, invite } = takeToken("/reset-password");
  document.title = (invite ? "Choose your password" : "Choose a new password") + " · Omnifin";
  const password = passwordInput("reset-password", "new-password");
  const repeat = h("input", { id: "reset-repeat", name: "repeat", type: "password", autocomplete: "new-password", required: true });
  const submit = h("button", { id: "reset-submit", type: "submit", class: "wide" }, invite ? "Set my password" : "Change my password");
  const error = h("div", { id: "reset-error", class: "error", role: "alert", hidden: true });
  const form = h(
    "form",
    { id: "reset-form", novalidate: true, on: { submit: onSubmit } },
    field("New password", password, "At least 10 characters; not a common password and not your e-mail address."),
    field("The same password again", repeat),
    error,
    h("div", { class: "actions" }, submit),
  );
  const section = h("section", { class: "card narrow auth", "aria-labelledby": "reset-heading" },
    h("h1", { id: "reset-heading" }, invite ? "Welcome to Omnifin: choose your password" : "Choose a new password"),
    invite ? null : h("p", { class: "muted" }, "Every session of your account is signed out when the password changes."),
    form);
  mount(main, section);
  if (!token) {
    error.hidden = false;
    error.textContent = "This link has no token; open the link from the e-mail exactly as it was sent, or ask for a new one.";
    submit.disabled = true;
    return;
  }
  password.focus();

  async function onSubmit(event) {
    event.preventDefault();
    clearFieldErrors(form, error);
    if (password.value !== repeat.value) {
      showFieldError(form, { message: "the two passwords differ", field: "repeat" }, error);
      return;
    }
    submit.disabled = true;
    try {
      const result = await api("/api/auth/password-reset/confirm", { method: "POST", json: { token, password: password.value } });
      form.replaceWith(h("div", { id: "reset-done", class: "success-box", role: "status" }, h("p", null, sentence(result.message)),
        h("a", { class: "button", href: "/#/signin" }, "Sign in")));
      try {
        await signIn(result.email, password.value);
        location.assign("/#/chat");
      } catch {
        // Changed; signing in is one click away.
      }
    } catch (failure) {
      if (failure.code === "invalid_token") {
        mount(section, h("h1", { id: "reset-heading" }, "This link does not work"),
          h("p", { id: "reset-error", class: "error", role: "alert" }, errorMessage(failure)),
          h("a", { class: "button", href: "/#/forgot" }, "Ask for a new link"));
      } else {
        showFieldError(form, failure, error);
      }
    } finally {
      submit.disabled = false;
    }
  }
}

// /setup?token=…: the first administrator, with the one-time token the server printed in its log at start.
export function setupPage(main) {
  document.title = "Set up Omnifin";
  const { token } = takeToken("/setup");
  const name = h("input", { id: "setup-name", name: "display_name", autocomplete: "name", required: true, maxlength: 100 });
  const email = h("input", { id: "setup-email", name: "email", type: "email", autocomplete: "email", required: true, spellcheck: "false" });
  const password = passwordInput("setup-password", "new-password");
  const submit = h("button", { id: "setup-submit", type: "submit", class: "wide" }, "Create the administrator");
  const error = h("div", { id: "setup-error", class: "error", role: "alert", hidden: true });
  const form = h(
    "form",
    { id: "setup-form", novalidate: true, on: { submit: onSubmit } },
    field("Your name", name),
    field("E-mail address", email),
    field("Password", password, "At least 10 characters; not a common password and not your e-mail address."),
    error,
    h("div", { class: "actions" }, submit),
  );
  mount(main, h("section", { class: "card narrow auth", "aria-labelledby": "setup-heading" },
    h("h1", { id: "setup-heading" }, "Create the first administrator"),
    h("p", { class: "muted" }, "This link came from the server's log and works once; the account can then invite everyone else."),
    form));
  name.focus();

  async function onSubmit(event) {
    event.preventDefault();
    clearFieldErrors(form, error);
    submit.disabled = true;
    try {
      await api("/api/auth/setup", {
        method: "POST",
        json: { token: token || "", email: email.value.trim(), password: password.value, display_name: name.value.trim() },
      });
      await signIn(email.value.trim(), password.value);
      location.assign("/admin");
    } catch (failure) {
      showFieldError(form, failure, error);
    } finally {
      submit.disabled = false;
    }
  }
}
