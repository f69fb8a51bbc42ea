"""End-to-end tests of the web app (index.html: sign-up, chat, citations, voice, knowledge, profile) in Chromium.

Each test drives the real `omnifin serve --demo` of conftest.py; the fixtures fail a test on any console error
(script error, CSP or Trusted Types violation). Run:

    OMNIFIN_BIN=.build/debug/omnifin OMNIFIN_WEB_DIR=Sources/ChatAPI/Resources/web \\
        python -m pytest -p no:cacheprovider -q Tests/Browser/test_app.py
"""

import json
import shutil
import subprocess
import time
import uuid
import wave

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC

from conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    clickable,
    fill,
    make_driver,
    page_errors,
    screenshot,
    sign_in,
    text_in,
    visible,
    wait,
)

PASSWORD = "a long and unusual passphrase 42"
XSS_TITLE = '<img src=x onerror="window.__xss=1">Payroll XSS probe'
INJECTED = "#knowledge-results img, #entry-body img, #entry-body script, #messages img, #messages script, " \
           "#citation-dialog img, #citation-dialog script"


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def css(driver, selector):
    return driver.find_elements(By.CSS_SELECTOR, selector)


def finished_answer(driver, before):
    """Waits until there are more than `before` answers and the newest has stopped streaming; returns it."""

    def newest(d):
        answers = css(d, ".message.assistant")
        if len(answers) > before and "streaming" not in answers[-1].get_attribute("class"):
            return answers[-1]
        return False

    return wait(driver, 30).until(newest)


def ask(driver, question):
    """Sends a question with the composer and returns the finished answer element."""
    before = len(css(driver, ".message.assistant"))
    fill(driver, "#chat-input", question)
    clickable(driver, "#chat-send").click()
    return finished_answer(driver, before)


def record_streaming(driver):
    """Remembers every length the streaming answer's text goes through (to prove it grew piece by piece)."""
    driver.execute_script("""
        window.__lengths = [];
        new MutationObserver(() => {
          const text = document.querySelector('.message.assistant.streaming .answer-text');
          if (text) window.__lengths.push(text.textContent.length);
        }).observe(document.getElementById('messages'), {subtree: true, childList: true, characterData: true});
    """)


def search(driver, query):
    """Searches the knowledge browser and waits until the results for exactly this query are shown."""
    fill(driver, "#knowledge-search", query)
    text_in(driver, "#knowledge-count", f"“{query}”")  # "N results for “…”" or "Nothing … matches “…”"
    return css(driver, "#knowledge-results .knowledge-item")


def hash_of(driver):
    return driver.execute_script("return location.hash")


def no_injected_markup(driver):
    assert driver.execute_script(f"return document.querySelectorAll({json.dumps(INJECTED)}).length") == 0
    assert driver.execute_script("return typeof window.__xss") == "undefined"


# ---- Accounts ---------------------------------------------------------------------------------------------------


def test_sign_up_confirm_sign_in_and_get_a_streamed_cited_answer(server, driver):
    email = unique("newcomer") + "@example.com"
    driver.get(server.url + "/#/signup")
    fill(driver, "#signup-name", "Nora Newcomer")
    fill(driver, "#signup-email", email)
    fill(driver, "#signup-password", PASSWORD)
    clickable(driver, "#signup-submit").click()
    assert email in visible(driver, "#signup-done").text

    # The link confirms the address together with the password chosen at registration, then signs in.
    driver.get(server.confirmation_link(email))
    assert "token=" not in driver.current_url  # the one-time token does not stay in the address bar
    fill(driver, "#verify-password", "not the password I chose")
    clickable(driver, "#verify-submit").click()
    assert "not the password" in visible(driver, "#verify-password-error").text
    fill(driver, "#verify-password", PASSWORD)
    clickable(driver, "#verify-submit").click()
    visible(driver, "#chat-input")
    assert driver.find_element(By.ID, "user-name").text == "Nora Newcomer"
    assert css(driver, ".example-question"), "the empty chat offers example questions"

    record_streaming(driver)
    question = "What is the approval limit for invoices?"
    answer = ask(driver, question)
    assert int(answer.get_attribute("data-tokens")) > 1
    lengths = driver.execute_script("return window.__lengths")
    assert len(set(lengths)) > 1, f"the answer did not grow while streaming: {lengths}"
    assert "no-answer" not in answer.get_attribute("class")
    assert "10,000 EUR" in answer.find_element(By.CSS_SELECTOR, ".answer-text").text
    inline = answer.find_elements(By.CSS_SELECTOR, ".answer-text button.citation-chip")
    listed = answer.find_elements(By.CSS_SELECTOR, ".citation-list button.citation-chip")
    assert inline and listed, "the [n] markers and the source list become chips"
    assert all(chip.text.isdigit() for chip in inline + listed)
    assert "[1]" not in answer.find_element(By.CSS_SELECTOR, ".answer-text").text
    wait(driver).until(lambda d: hash_of(d).startswith("#/chat/"))
    text_in(driver, "#conversation-list .conversation", question)
    assert css(driver, "#conversation-list .conversation a[aria-current='page']")
    screenshot(driver, "chat-answer")

    expected_title = answer.find_element(By.CSS_SELECTOR, ".citation-list .citation-title").text
    listed[0].click()
    dialog = visible(driver, "#citation-dialog")
    assert driver.find_element(By.ID, "citation-title").text == expected_title == "Invoice approval policy"
    marks = driver.find_elements(By.CSS_SELECTOR, "#citation-text mark")
    assert marks and marks[0].text.strip()
    assert "budget owner" in " ".join(mark.text for mark in marks)
    link = driver.find_element(By.ID, "citation-link").get_attribute("href")
    assert "#/knowledge/" in link
    screenshot(driver, "citation")
    dialog.send_keys(Keys.ESCAPE)
    wait(driver).until(EC.invisibility_of_element_located((By.ID, "citation-dialog")))


def test_sign_up_errors_are_shown_at_the_field(server, driver):
    driver.get(server.url + "/#/signup")
    fill(driver, "#signup-name", "Weak Walter")
    fill(driver, "#signup-email", unique("weak") + "@example.com")
    fill(driver, "#signup-password", "password123")
    clickable(driver, "#signup-submit").click()
    assert "common" in visible(driver, "#signup-password-error").text
    assert driver.find_element(By.ID, "signup-password").get_attribute("aria-invalid") == "true"

    # An address that has an account gets the same answer as a new one (its owner is told by e-mail instead).
    fill(driver, "#signup-email", ADMIN_EMAIL)
    fill(driver, "#signup-password", PASSWORD)
    clickable(driver, "#signup-submit").click()
    assert ADMIN_EMAIL in visible(driver, "#signup-done").text
    assert not css(driver, "#signup-email-error")


def test_sign_in_errors_and_resending_the_confirmation(server, driver):
    driver.get(server.url + "/#/signin")
    visible(driver, "#signup-link")  # --demo takes registrations, so the page offers one
    screenshot(driver, "signin")
    fill(driver, "#signin-email", ADMIN_EMAIL)
    fill(driver, "#signin-password", "not the password at all")
    clickable(driver, "#signin-submit").click()
    assert "wrong" in visible(driver, "#signin-error").text

    email = unique("unconfirmed") + "@example.com"
    server.api("POST", "/api/auth/register", body={"email": email, "password": PASSWORD, "display_name": "Una"}, expect=201)
    fill(driver, "#signin-email", email)
    fill(driver, "#signin-password", PASSWORD)
    clickable(driver, "#signin-submit").click()
    text_in(driver, "#signin-error", "Confirm your e-mail address first")
    clickable(driver, "#signin-resend").click()
    text_in(driver, "#signin-resend-status", "on its way")


def test_a_used_or_broken_confirmation_link_offers_a_new_one(server, driver):
    driver.get(server.url + "/verify?token=not-a-real-token")
    fill(driver, "#verify-password", PASSWORD)
    clickable(driver, "#verify-submit").click()
    assert "not valid" in visible(driver, "#verify-error").text
    fill(driver, "#resend-email", unique("lost") + "@example.com")
    clickable(driver, "#resend-submit").click()
    text_in(driver, "#resend-status", "on its way")


def test_forgotten_password_reset_by_email_signs_in_with_the_new_one(server, driver):
    email = unique("forgetful") + "@example.com"
    server.create_user(email, PASSWORD)
    driver.get(server.url + "/#/signin")
    clickable(driver, "#forgot-link").click()
    fill(driver, "#forgot-email", email)
    clickable(driver, "#forgot-submit").click()
    text_in(driver, "#forgot-done", "on its way")
    link = server.reset_link(email)
    driver.get(link)
    assert "token=" not in driver.current_url
    fill(driver, "#reset-password", "a brand new passphrase 7")
    fill(driver, "#reset-repeat", "a different passphrase 7")
    clickable(driver, "#reset-submit").click()
    assert "differ" in visible(driver, "#reset-repeat-error").text
    fill(driver, "#reset-repeat", "a brand new passphrase 7")
    clickable(driver, "#reset-submit").click()
    visible(driver, "#chat-input")
    # The link works once.
    driver.get(link)
    fill(driver, "#reset-password", "yet another passphrase 8")
    fill(driver, "#reset-repeat", "yet another passphrase 8")
    clickable(driver, "#reset-submit").click()
    text_in(driver, "#reset-error", "not valid")
    server.token(email, "a brand new passphrase 7")


def test_the_service_worker_keeps_no_confirmation_token(server, driver):
    """The worker keeps the page shell for offline starts, but a one-time link's token must never reach the disk."""
    driver.get(server.url + "/#/signin")
    visible(driver, "#signin-email")
    wait(driver).until(lambda d: d.execute_script("return Boolean(navigator.serviceWorker.controller)"))
    token = "token-" + uuid.uuid4().hex
    driver.get(server.url + f"/verify?token={token}")
    visible(driver, "#verify-password")
    cached = lambda d: d.execute_async_script("""
        const done = arguments[arguments.length - 1];
        caches.keys()
          .then((names) => Promise.all(names.map((name) => caches.open(name).then((cache) => cache.keys()))))
          .then((lists) => done(lists.flat().map((request) => request.url)))
          .catch((error) => done(["failed: " + error]));
    """)
    wait(driver).until(lambda d: server.url + "/verify" in cached(d))
    urls = cached(driver)
    assert not [url for url in urls if token in url or "?" in url], urls
    # Offline, the shell still starts from the cache whatever the link's query.
    driver.set_network_conditions(offline=True, latency=0, download_throughput=0, upload_throughput=0)
    try:
        driver.get(server.url + "/verify?token=another")
        visible(driver, "#verify-heading")
    finally:
        driver.set_network_conditions(offline=False, latency=0, download_throughput=-1, upload_throughput=-1)


def test_sign_in_returns_to_the_page_asked_for(server, driver):
    driver.get(server.url + "/#/knowledge")
    wait(driver).until(lambda d: hash_of(d).startswith("#/signin?next="))
    fill(driver, "#signin-email", ADMIN_EMAIL)
    fill(driver, "#signin-password", ADMIN_PASSWORD)
    clickable(driver, "#signin-submit").click()
    visible(driver, "#knowledge-search")
    assert hash_of(driver) == "#/knowledge"

    # The admin panel sends people to #/signin?next=/admin; signed in, that address goes straight on.
    clickable(driver, "#signout").click()
    visible(driver, "#signin-email")
    assert page_errors(driver) == []
    driver.get(server.url + "/#/signin?next=/admin")
    fill(driver, "#signin-email", ADMIN_EMAIL)
    fill(driver, "#signin-password", ADMIN_PASSWORD)
    clickable(driver, "#signin-submit").click()
    wait(driver).until(lambda d: d.execute_script("return location.pathname") == "/admin")
    driver.get_log("browser")  # the admin panel is test_admin.py's business


def test_an_ended_session_goes_back_to_sign_in(server, driver):
    sign_in(driver, server)
    driver.delete_cookie("omnifin_session")  # as if the session had expired or been revoked
    clickable(driver, "#nav-knowledge").click()
    assert "session has ended" in visible(driver, "#signin-notice").text
    assert not css(driver, "#nav-chat")
    fill(driver, "#signin-email", ADMIN_EMAIL)
    fill(driver, "#signin-password", ADMIN_PASSWORD)
    clickable(driver, "#signin-submit").click()
    visible(driver, "#knowledge-search")


def test_a_plain_user_sees_no_admin_or_editor_controls(server, driver):
    email = unique("plain") + "@example.com"
    server.create_user(email, PASSWORD, role="user", name="Paul Plain")
    sign_in(driver, server, email, PASSWORD)
    assert css(driver, "#nav-chat") and css(driver, "#nav-knowledge") and css(driver, "#nav-profile")
    assert not css(driver, "#nav-admin")
    clickable(driver, "#nav-knowledge").click()
    visible(driver, ".knowledge-item")
    assert driver.find_element(By.ID, "nav-knowledge").get_attribute("aria-current") == "page"
    assert not css(driver, "#knowledge-new") and not css(driver, "#import-file")
    css(driver, ".knowledge-item a")[0].click()
    visible(driver, "#entry-body")
    assert not css(driver, "#entry-edit") and not css(driver, "#entry-delete")
    driver.get(server.url + "/#/knowledge/new")
    text_in(driver, "main h1", "Editors only")
    assert not css(driver, "#entry-form")


def test_profile_name_change_shows_in_the_top_bar(server, driver):
    email = unique("rita") + "@example.com"
    server.create_user(email, PASSWORD, name="Rita Before")
    sign_in(driver, server, email, PASSWORD)
    assert driver.find_element(By.ID, "user-name").text == "Rita Before"
    clickable(driver, "#nav-profile").click()
    assert visible(driver, "#profile-email").text == email
    assert "user" in driver.find_element(By.ID, "profile-role").text
    fill(driver, "#profile-name", "Rita Renamed")
    clickable(driver, "#profile-save").click()
    text_in(driver, "#user-name", "Rita Renamed")

    fill(driver, "#password-current", "this is not it at all")
    fill(driver, "#password-new", "another long passphrase 43")
    clickable(driver, "#password-save").click()
    assert "wrong" in visible(driver, "#password-current-error").text
    fill(driver, "#password-current", PASSWORD)
    fill(driver, "#password-new", "another long passphrase 43")
    clickable(driver, "#password-save").click()
    text_in(driver, "#toasts", "password is changed")
    server.token(email, "another long passphrase 43")  # the new password works


# ---- Chat -------------------------------------------------------------------------------------------------------


def test_an_off_topic_question_has_no_answer(server, driver):
    sign_in(driver, server)
    answer = ask(driver, "What is the boiling point of mercury on Mars?")
    assert "no-answer" in answer.get_attribute("class")
    assert "No answer in the knowledge bank" in answer.text
    assert not answer.find_elements(By.CSS_SELECTOR, "button.citation-chip")


def test_feedback_buttons_are_toggles(server, driver):
    sign_in(driver, server)
    answer = ask(driver, "When is the salary paid?")
    up = answer.find_element(By.CSS_SELECTOR, ".feedback-up")
    down = answer.find_element(By.CSS_SELECTOR, ".feedback-down")
    assert up.get_attribute("aria-pressed") == "false"
    wait(driver).until(lambda d: hash_of(d).startswith("#/chat/"))
    conversation = hash_of(driver).split("/")[-1]
    token = server.token()

    def stored_feedback():
        _, body = server.api("GET", f"/api/chat/history?conversation_id={conversation}", token=token, expect=200)
        return body["messages"][-1].get("feedback", 0)

    up.click()
    wait(driver).until(lambda d: up.get_attribute("aria-pressed") == "true")
    wait(driver).until(lambda d: stored_feedback() == 1)
    down.click()
    wait(driver).until(lambda d: down.get_attribute("aria-pressed") == "true" and up.get_attribute("aria-pressed") == "false")
    wait(driver).until(lambda d: stored_feedback() == -1)
    down.click()  # pressing again clears the vote
    wait(driver).until(lambda d: down.get_attribute("aria-pressed") == "false")
    wait(driver).until(lambda d: stored_feedback() == 0)

    # The stored vote comes back with the conversation.
    up.click()
    wait(driver).until(lambda d: stored_feedback() == 1)
    driver.refresh()
    pressed = visible(driver, ".message.assistant .feedback-up")
    assert pressed.get_attribute("aria-pressed") == "true"


def test_copy_answer_puts_the_answer_and_its_sources_on_the_clipboard(server, driver):
    driver.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": server.url, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    sign_in(driver, server)
    answer = ask(driver, "What is the approval limit for invoices?")
    answer.find_element(By.CSS_SELECTOR, ".copy-answer").click()
    text_in(driver, "#toasts", "Answer copied.")
    copied = driver.execute_async_script("navigator.clipboard.readText().then(arguments[0], e => arguments[0]('failed: ' + e))")
    assert "budget owner [1]" in copied and "Sources:\n[1] Invoice approval policy" in copied


def test_stop_and_offline_errors_can_be_retried(server, driver):
    sign_in(driver, server)
    # A slow network keeps the answer from arriving before Stop is pressed.
    driver.set_network_conditions(offline=False, latency=1500, throughput=1024 * 1024)
    fill(driver, "#chat-input", "When is the salary paid?")
    clickable(driver, "#chat-send").click()
    assert not driver.find_element(By.ID, "chat-send").is_displayed()
    clickable(driver, "#chat-stop").click()
    stopped = visible(driver, ".message.assistant.stopped")
    assert "Stopped" in stopped.text
    visible(driver, "#chat-send")
    assert not driver.find_element(By.ID, "chat-stop").is_displayed()

    # Offline: the answer says so and offers a retry, which works once the network is back.
    driver.set_network_conditions(offline=True, latency=0, throughput=1024 * 1024)
    before = len(css(driver, ".message.assistant"))
    fill(driver, "#chat-input", "How do I submit an expense report?")
    clickable(driver, "#chat-send").click()
    failed = finished_answer(driver, before)
    assert "failed" in failed.get_attribute("class")
    assert "cannot be reached" in failed.find_element(By.CSS_SELECTOR, ".message-error").text
    driver.delete_network_conditions()
    failed.find_element(By.CSS_SELECTOR, "button.retry").click()
    answer = finished_answer(driver, before)
    assert "failed" not in answer.get_attribute("class")
    assert answer.find_elements(By.CSS_SELECTOR, "button.citation-chip")
    assert len(css(driver, ".message.user")) == 2  # the retried question is not shown twice


def test_keyboard_only_chat(server, driver):
    sign_in(driver, server)
    field = clickable(driver, "#chat-input")
    field.click()
    field.send_keys("How do I submit", Keys.SHIFT, Keys.ENTER, Keys.NULL, "an expense report?")
    assert field.get_attribute("value") == "How do I submit\nan expense report?"
    assert not css(driver, ".message.user"), "Shift+Enter must not send"
    field.send_keys(Keys.ENTER)
    answer = finished_answer(driver, 0)
    assert "Expenses" in answer.text
    assert field.get_attribute("value") == ""

    # Tab reaches the citation chips; Enter opens the passage, Escape closes it and focus returns.
    chip = answer.find_element(By.CSS_SELECTOR, ".answer-text button.citation-chip")
    driver.execute_script("arguments[0].focus()", chip)
    chip.send_keys(Keys.ENTER)
    visible(driver, "#citation-dialog")
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait(driver).until(EC.invisibility_of_element_located((By.ID, "citation-dialog")))
    assert driver.switch_to.active_element == chip


def test_conversations_are_listed_and_reopened(server, driver):
    sign_in(driver, server)
    first = "When is the salary paid?"
    ask(driver, first)
    wait(driver).until(lambda d: hash_of(d).startswith("#/chat/"))
    conversation = hash_of(driver)
    ask(driver, "And the payslips?")
    assert len(css(driver, ".message.user")) == 2

    clickable(driver, "#new-conversation").click()
    wait(driver).until(lambda d: hash_of(d) == "#/chat")
    visible(driver, "#chat-empty")
    assert not css(driver, ".message")

    link = clickable(driver, f"#conversation-list a[href='{conversation}']")
    assert first in link.text
    link.click()
    wait(driver).until(lambda d: len(css(d, ".message.user")) == 2)
    assert css(driver, ".message.user")[0].text == first
    assert css(driver, ".message.assistant .citation-chip"), "stored answers keep their citations"


def test_long_lists_load_more(server, driver):
    email = unique("busy") + "@example.com"
    server.create_user(email, PASSWORD, name="Busy Bea")
    token = server.token(email, PASSWORD)
    for number in range(22):
        server.api("POST", "/api/chat/message", token=token, body={"message": f"Question {number}: when is the salary paid?"},
                   expect=200)
    sign_in(driver, server, email, PASSWORD)
    wait(driver).until(lambda d: len(css(d, "#conversation-list .conversation")) == 20)
    assert "Question 21" in css(driver, "#conversation-list .conversation")[0].text  # newest first
    clickable(driver, "#conversations-more").click()
    wait(driver).until(lambda d: len(css(d, "#conversation-list .conversation")) == 22)
    assert "Question 0:" in css(driver, "#conversation-list .conversation")[-1].text
    assert not driver.find_element(By.ID, "conversations-more").is_displayed()

    # Asking again in the oldest one moves it to the top; the pages loaded with "Load more" stay.
    oldest = css(driver, "#conversation-list .conversation")[-1]
    oldest_id = oldest.get_attribute("data-id")
    oldest.find_element(By.CSS_SELECTOR, "a").click()
    wait(driver).until(lambda d: len(css(d, ".message.user")) == 1)
    ask(driver, "And the payslips?")
    wait(driver).until(lambda d: css(d, "#conversation-list .conversation")[0].get_attribute("data-id") == oldest_id)
    ids = [item.get_attribute("data-id") for item in css(driver, "#conversation-list .conversation")]
    assert len(ids) == 22 and len(set(ids)) == 22
    assert "Question 0:" in css(driver, "#conversation-list .conversation")[0].text
    assert css(driver, "#conversation-list .conversation a")[0].get_attribute("aria-current") == "page"
    assert "Question 1:" in css(driver, "#conversation-list .conversation")[-1].text

    clickable(driver, "#nav-knowledge").click()
    wait(driver).until(lambda d: len(css(d, "#knowledge-results .knowledge-item")) == 20)
    clickable(driver, "#knowledge-more").click()
    wait(driver).until(lambda d: len(css(d, "#knowledge-results .knowledge-item")) > 20)
    ids = [item.get_attribute("data-id") for item in css(driver, "#knowledge-results .knowledge-item")]
    assert len(ids) == len(set(ids))


# ---- Knowledge --------------------------------------------------------------------------------------------------


def test_stored_xss_is_shown_as_text(server, driver):
    word = "zorbex" + uuid.uuid4().hex[:4]
    token = server.token()
    _, created = server.api("POST", "/api/knowledge", token=token, expect=201, body={
        "title": XSS_TITLE,
        "body": f"The {word} reconciliation of payroll accounts is done by the payroll team on the third working day "
                f"of each month.\n<script>window.__xss=2</script>\nLate {word} reconciliations are escalated to the "
                "finance controller.",
        "tags": ["payroll", "<b>probe</b>"],
    })
    document = created["document"]["id"]
    try:
        sign_in(driver, server)
        clickable(driver, "#nav-knowledge").click()
        item = next(i for i in search(driver, word) if XSS_TITLE in i.text)
        no_injected_markup(driver)
        item.find_element(By.CSS_SELECTOR, "a").click()
        assert visible(driver, "#entry-title").text == XSS_TITLE
        assert "<script>window.__xss=2</script>" in driver.find_element(By.ID, "entry-body").text
        assert "<b>probe</b>" in driver.find_element(By.ID, "entry-tags").text
        no_injected_markup(driver)

        clickable(driver, "#nav-chat").click()
        answer = ask(driver, f"When is the {word} reconciliation of payroll accounts done?")
        assert XSS_TITLE in answer.find_element(By.CSS_SELECTOR, ".citation-list").text
        answer.find_element(By.CSS_SELECTOR, ".citation-list button.citation-chip").click()
        assert visible(driver, "#citation-title").text == XSS_TITLE
        assert "<script>window.__xss=2</script>" in driver.find_element(By.ID, "citation-text").text
        no_injected_markup(driver)
    finally:
        server.api("DELETE", f"/api/knowledge/{document}", token=token)


def test_editor_adds_finds_edits_and_deletes_an_entry(server, driver):
    email = unique("editor") + "@example.com"
    server.create_user(email, PASSWORD, role="editor", name="Eddie Editor")
    sign_in(driver, server, email, PASSWORD)
    assert not css(driver, "#nav-admin")
    clickable(driver, "#nav-knowledge").click()
    clickable(driver, "#knowledge-new").click()
    visible(driver, "#entry-form")
    word = "quillet" + uuid.uuid4().hex[:4]
    title = f"Petty cash rules {word}"
    fill(driver, "#entry-title-input", title)
    fill(driver, "#entry-body-input", f"Petty cash up to 200 EUR per month is kept by the office manager.\n\n"
                                      f"Receipts are collected every month ({word}).")
    fill(driver, "#entry-tags-input", "cash, office")
    clickable(driver, "#entry-save").click()
    text_in(driver, "#entry-title", title)
    assert "\n" in driver.find_element(By.ID, "entry-body").text  # line breaks kept
    assert driver.find_element(By.ID, "entry-tags").text.split() == ["cash", "office"]
    assert driver.find_element(By.ID, "entry-source").text == "manual"
    document = hash_of(driver).split("/")[-1]

    clickable(driver, "#nav-knowledge").click()
    assert any(title in item.text for item in search(driver, word))
    driver.find_element(By.LINK_TEXT, title).click()
    clickable(driver, "#entry-edit").click()
    wait(driver).until(lambda d: d.find_element(By.ID, "entry-title-input").get_attribute("value") == title)
    fill(driver, "#entry-title-input", title + " (revised)")
    clickable(driver, "#entry-save").click()
    text_in(driver, "#entry-title", title + " (revised)")
    assert driver.find_element(By.ID, "entry-tags").text.split() == ["cash", "office"]

    clickable(driver, "#entry-delete").click()
    clickable(driver, "#confirm-ok").click()
    wait(driver).until(lambda d: hash_of(d).startswith("#/knowledge") and "/" not in hash_of(d)[len("#/knowledge"):])
    server.api("GET", f"/api/knowledge/{document}", token=server.token(email, PASSWORD), expect=404)
    # Gone from the search (hybrid search still lists its nearest neighbours, so look for the title).
    assert not any(title in item.text for item in search(driver, word))


def test_sources_are_grouped_by_document(server, driver):
    sign_in(driver, server)
    answer = ask(driver, "what is the mileage rate for my car and the per diem in France?")
    entries = answer.find_elements(By.CSS_SELECTOR, ".citation-list > li")
    chips = answer.find_elements(By.CSS_SELECTOR, ".citation-list button.citation-chip")
    titles = [entry.find_element(By.CSS_SELECTOR, ".citation-title").text for entry in entries]
    assert len(titles) == len(set(titles)), f"one entry per document: {titles}"
    assert len(chips) > len(entries), "a document cited by several passages keeps a chip per passage"
    assert sorted(int(chip.text) for chip in chips) == list(range(1, len(chips) + 1))
    # Every [n] in the text still opens its passage.
    inline = answer.find_elements(By.CSS_SELECTOR, ".answer-text button.citation-chip")
    assert inline
    inline[-1].click()
    assert visible(driver, "#citation-title").text in titles


def test_a_search_for_nonsense_finds_nothing_and_says_what_to_try(server, driver):
    sign_in(driver, server)
    clickable(driver, "#nav-knowledge").click()
    fill(driver, "#knowledge-search", "zorblax quuxifier")
    text_in(driver, "#knowledge-count", "Nothing in the knowledge bank matches")
    empty = visible(driver, "#knowledge-empty")
    assert "other words for the same thing" in empty.text
    assert driver.find_elements(By.CSS_SELECTOR, "#knowledge-results .knowledge-item") == []


def test_import_shows_progress_until_done(server, driver, tmp_path):
    source = unique("browser-import")
    export = tmp_path / "petty-cash.jsonl"
    rows = [
        {"id": "pc-1", "title": "Petty cash limit", "body": "Petty cash payments are limited to 200 EUR each."},
        {"id": "pc-2", "title": "Petty cash count", "body": "The petty cash box is counted on the last working day."},
        {"id": "pc-3", "title": "Petty cash top-up", "body": "Top-ups are requested from treasury by e-mail."},
    ]
    export.write_text("\n".join(json.dumps(row) for row in rows) + "\nthis line is not JSON\n")
    token = server.token()
    try:
        sign_in(driver, server)
        clickable(driver, "#nav-knowledge").click()
        visible(driver, "#import-file").send_keys(str(export))
        fill(driver, "#import-source", source)
        clickable(driver, "#import-submit").click()
        status = visible(driver, "#import-status")
        # First a dry run: what the import would do, nothing written yet.
        wait(driver, 30).until(lambda d: status.get_attribute("data-status") == "checked")
        assert "would add 3 entries, update 0, leave 0 unchanged, 1 skipped" in status.text, status.text
        _, listed = server.api("GET", f"/api/knowledge?source={source}&limit=10", token=token, expect=200)
        assert listed["documents"] == []
        clickable(driver, "#import-confirm").click()
        wait(driver, 30).until(lambda d: status.get_attribute("data-status") == "completed")
        assert status.text.startswith("Done")
        assert "3 records imported" in status.text and "1 skipped" in status.text
        progress = driver.find_element(By.ID, "import-progress")
        assert float(progress.get_property("max")) == 3
        assert float(progress.get_property("value")) == float(progress.get_property("max"))
        problems = driver.find_element(By.ID, "import-errors").text
        assert "Line 4" in problems and "petty-cash.jsonl" in problems
        driver.execute_script("window.scrollTo(0, 0)")
        screenshot(driver, "knowledge", height=1180)  # tall enough for the import panel with its progress bar
        _, listed = server.api("GET", f"/api/knowledge?source={source}&limit=10", token=token, expect=200)
        assert sorted(doc["title"] for doc in listed["documents"]) == sorted(row["title"] for row in rows)
    finally:
        _, listed = server.api("GET", f"/api/knowledge?source={source}&limit=10", token=token)
        for doc in listed.get("documents", []) if isinstance(listed, dict) else []:
            server.api("DELETE", f"/api/knowledge/{doc['id']}", token=token)


def test_import_with_prune_lists_the_deletions_before_anything_is_deleted(server, driver, tmp_path):
    source = unique("browser-prune")
    token = server.token()
    rows = [{"id": f"fx-{n}", "type": "rate", "title": f"FX rate note {n}", "body": f"Note {n} on month-end FX rates."} for n in range(1, 5)]
    first = tmp_path / "fx-notes.jsonl"
    first.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    # The next export, under another name: one note changed, two gone.
    second = tmp_path / "fx-notes (export 2).jsonl"
    changed = dict(rows[0], body="Note 1 on month-end FX rates, now from the ECB.")
    second.write_text("\n".join(json.dumps(row) for row in [changed, rows[3]]) + "\n")
    try:
        sign_in(driver, server)
        clickable(driver, "#nav-knowledge").click()
        for export, prune in ((first, False), (second, True)):
            visible(driver, "#import-file").send_keys(str(export))
            fill(driver, "#import-source", source)
            box = driver.find_element(By.ID, "import-prune")
            if box.is_selected() != prune:
                box.click()
            clickable(driver, "#import-submit").click()
            status = visible(driver, "#import-status")
            wait(driver, 30).until(lambda d: status.get_attribute("data-status") == "checked")
            if prune:
                assert "would add 0 entries, update 1, leave 1 unchanged, delete 2" in status.text, status.text
                listed = visible(driver, "#import-deletions").text
                assert "FX rate note 2" in listed and "FX rate note 3" in listed and "FX rate note 4" not in listed
                confirm = clickable(driver, "#import-confirm")
                assert confirm.text == "Import and delete 2 entries"
                _, before = server.api("GET", f"/api/knowledge?source={source}&limit=10", token=token, expect=200)
                assert len(before["documents"]) == 4, "the check deletes nothing"
                screenshot(driver, "import-preview", height=1180)
                confirm.click()
            else:
                clickable(driver, "#import-confirm").click()
            wait(driver, 30).until(lambda d: status.get_attribute("data-status") == "completed")
        assert "2 entries deleted" in driver.find_element(By.ID, "import-status").text
        _, listed = server.api("GET", f"/api/knowledge?source={source}&limit=10", token=token, expect=200)
        assert sorted(doc["title"] for doc in listed["documents"]) == ["FX rate note 1", "FX rate note 4"]
    finally:
        _, listed = server.api("GET", f"/api/knowledge?source={source}&limit=10", token=token)
        for doc in listed.get("documents", []) if isinstance(listed, dict) else []:
            server.api("DELETE", f"/api/knowledge/{doc['id']}", token=token)


def test_import_progress_stops_when_the_job_is_refused(server, driver, tmp_path):
    """A 404 (or 403) for the import job does not change by asking again: the page says so and stops polling."""
    export = tmp_path / "lost.jsonl"
    export.write_text(json.dumps({"id": "x-1", "title": "Lost job", "body": "Never imported."}) + "\n")
    sign_in(driver, server)
    clickable(driver, "#nav-knowledge").click()
    visible(driver, "#import-file")
    # The upload is answered here with a job the server does not know, as if it had been removed meanwhile.
    driver.execute_script("""
        window.__polls = 0;
        const original = window.fetch;
        window.fetch = (input, init = {}) => {
          const url = String(input);
          if (url.startsWith("/api/knowledge/import?") && init.method === "POST") {
            const body = JSON.stringify({ job: "no-such-job" });
            return Promise.resolve(new Response(body, { status: 202, headers: { "Content-Type": "application/json" } }));
          }
          if (url.startsWith("/api/knowledge/import/")) window.__polls += 1;
          return original(input, init);
        };
    """)
    driver.find_element(By.ID, "import-file").send_keys(str(export))
    clickable(driver, "#import-submit").click()
    text_in(driver, "#import-error", "import job no-such-job")
    assert "could not be read" in driver.find_element(By.ID, "import-status").text
    assert driver.find_element(By.ID, "import-submit").is_enabled()
    time.sleep(2.5)
    assert driver.execute_script("return window.__polls") == 1


def test_citation_link_opens_the_entry_with_the_passage_highlighted(server, driver):
    sign_in(driver, server)
    answer = ask(driver, "What is the approval limit for invoices?")
    answer.find_element(By.CSS_SELECTOR, ".citation-list button.citation-chip").click()
    title = visible(driver, "#citation-title").text
    clickable(driver, "#citation-link").click()
    text_in(driver, "#entry-title", title)
    highlight = visible(driver, "#entry-body mark#entry-highlight")
    assert "budget owner" in highlight.text
    assert driver.find_element(By.ID, "nav-knowledge").get_attribute("aria-current") == "page"


# ---- Phone ------------------------------------------------------------------------------------------------------


def test_phone_sized_chat(server, phone):
    sign_in(phone, server)
    answer = ask(phone, "When is the salary paid?")
    assert answer.find_elements(By.CSS_SELECTOR, "button.citation-chip")
    assert phone.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    for selector in ("#chat-input", "#chat-send", "#voice-button"):
        element = visible(phone, selector)
        assert element.size["height"] >= 44, selector
    assert phone.find_element(By.ID, "chat-send").size["width"] >= 44
    # The conversation list is folded behind a toggle.
    assert not phone.find_element(By.ID, "conversation-list").is_displayed()
    toggle = clickable(phone, "#conversations-toggle")
    assert toggle.get_attribute("aria-expanded") == "false"
    screenshot(phone, "phone-chat")
    toggle.click()
    visible(phone, "#conversation-list .conversation")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert phone.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")

    clickable(phone, "#nav-knowledge").click()
    visible(phone, ".knowledge-item")
    assert phone.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")


# ---- Voice ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spoken_question(tmp_path_factory):
    """ "what is the approval limit for invoices" spoken by eSpeak NG, with silence around it (Chromium loops it)."""
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng is needed to make the spoken question")
    folder = tmp_path_factory.mktemp("voice")
    raw, padded = folder / "raw.wav", folder / "question.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw), "what is the approval limit for invoices"], check=True)
    with wave.open(str(raw), "rb") as source:
        params = source.getparams()
        speech = source.readframes(params.nframes)
    silence = lambda seconds: b"\0" * (int(seconds * params.framerate) * params.sampwidth * params.nchannels)
    with wave.open(str(padded), "wb") as target:
        target.setparams(params)
        target.writeframes(silence(0.5) + speech + silence(1.5))
    return padded


def test_voice_question_is_transcribed_answered_and_spoken(server, spoken_question):
    browser = make_driver(audio_file=str(spoken_question))
    try:
        sign_in(browser, server)
        button = clickable(browser, "#voice-button")
        assert button.get_attribute("aria-label") == "Record a question"
        button.click()
        wait(browser).until(lambda d: button.get_attribute("aria-pressed") == "true")
        assert button.get_attribute("aria-label") == "Stop recording"
        text_in(browser, "#voice-status", "Recording 0:04")  # the spoken question (4.7 s with silence) is in
        button.click()
        assert button.get_attribute("aria-pressed") == "false"
        question = wait(browser, 30).until(
            lambda d: next((m for m in css(d, ".message.user") if "pending" not in m.get_attribute("class")), False))
        assert "approval limit" in question.text.lower()
        answer = finished_answer(browser, 0)
        assert "no-answer" not in answer.get_attribute("class")
        assert answer.find_elements(By.CSS_SELECTOR, "button.citation-chip")
        audio = answer.find_element(By.CSS_SELECTOR, "audio.answer-audio")
        assert audio.get_attribute("src").startswith("blob:")
        assert audio.get_attribute("controls") is not None
        wait(browser).until(lambda d: not d.find_element(By.ID, "voice-status").is_displayed())
        wait(browser).until(lambda d: hash_of(d).startswith("#/chat/"))
        screenshot(browser, "voice")
        errors = page_errors(browser)
    finally:
        browser.quit()
    assert not errors, "errors in the browser console:\n" + "\n".join(errors)


def test_unsure_transcript_is_shown_back_to_send_or_edit(server, spoken_question):
    """A transcript the recogniser is unsure of is not answered: the page shows it with its confidence; Edit puts it in
    the text box, Send it asks it as typed text."""
    browser = make_driver(audio_file=str(spoken_question))
    try:
        # The server answers as it does below its confidence threshold (the threshold itself is tested in Swift).
        browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": """
            const original = window.fetch;
            window.fetch = async (input, init) => {
              const response = await original(input, init);
              if (!String(input).startsWith("/api/chat/voice") || !response.ok) return response;
              const turn = await response.json();
              const unsure = { transcript: turn.transcript, confidence: 0.41, needs_confirmation: true,
                message: "Not sure", audio: turn.audio, timings: turn.timings };
              return new Response(JSON.stringify(unsure), { status: 200, headers: { "Content-Type": "application/json" } });
            };
        """})
        sign_in(browser, server)

        def record():
            button = clickable(browser, "#voice-button")
            button.click()
            text_in(browser, "#voice-status", "Recording 0:04")
            button.click()
            return visible(browser, ".confirm-transcript")

        card = record()
        assert "41 %" in card.text and "approval limit" in card.text.lower()
        assert not css(browser, ".message.assistant")  # nothing answered
        card.find_element(By.CSS_SELECTOR, "button.confirm-edit").click()
        box = browser.find_element(By.ID, "chat-input")
        assert "approval limit" in box.get_attribute("value").lower()
        assert not css(browser, ".confirm-transcript")
        box.clear()

        card = record()
        card.find_element(By.CSS_SELECTOR, "button.confirm-send").click()
        question = wait(browser, 30).until(lambda d: next((m for m in css(d, ".message.user") if "confirm-transcript" not in m.get_attribute("class")), False))
        assert "approval limit" in question.text.lower()
        answer = finished_answer(browser, 0)
        assert answer.find_elements(By.CSS_SELECTOR, "button.citation-chip")
        errors = page_errors(browser)
    finally:
        browser.quit()
    assert not errors, "errors in the browser console:\n" + "\n".join(errors)


def test_microphone_is_off_without_speech_services(server, driver):
    """A server without speech recognition (or synthesis) has no voice route: the button is off and says why."""
    sign_in(driver, server)
    _, status = server.api("GET", "/api/chat/status", token=server.token(), expect=200)
    assert status["stt"]["available"] and status["tts"]["available"], status
    wait(driver).until(lambda d: d.execute_script(
        "return performance.getEntriesByType('resource').some((entry) => entry.name.endsWith('/api/chat/status'))"))
    assert clickable(driver, "#voice-button").is_enabled()
    assert not driver.find_element(By.ID, "voice-unavailable").is_displayed()

    # The same server as if it had no speech recognition.
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": """
        const original = window.fetch;
        window.fetch = async (input, init) => {
          const response = await original(input, init);
          if (String(input) !== "/api/chat/status") return response;
          const status = await response.json();
          status.stt = { name: "none", available: false, detail: "make model fetches the Whisper model" };
          return new Response(JSON.stringify(status), { status: 200, headers: { "Content-Type": "application/json" } });
        };
    """})
    driver.refresh()
    note = visible(driver, "#voice-unavailable")
    assert "not available on this server (no speech recognition)" in note.text
    assert "make model fetches the Whisper model" in note.text  # an administrator is told what the server lacks
    button = driver.find_element(By.ID, "voice-button")
    assert not button.is_enabled()
    assert button.get_attribute("aria-describedby") == "voice-unavailable"
    assert "not available" in button.get_attribute("title")
    # It stays off after a question (the end of the busy state does not turn it back on).
    ask(driver, "When is the salary paid?")
    assert not driver.find_element(By.ID, "voice-button").is_enabled()


def test_audio_is_started_inside_the_click(server, driver):
    """Safari on iOS keeps an AudioContext suspended unless it is made and resumed in the click itself, before the
    wait for the microphone permission."""
    sign_in(driver, server)
    driver.execute_script("""
        window.__order = [];
        const Original = window.AudioContext;
        window.AudioContext = class extends Original {
          constructor(...args) {
            super(...args);
            window.__order.push("context");
          }
          resume() {
            window.__order.push("resume");
            return super.resume();
          }
        };
        const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
        navigator.mediaDevices.getUserMedia = (constraints) => {
          window.__order.push("microphone");
          return getUserMedia(constraints);
        };
    """)
    button = clickable(driver, "#voice-button")
    button.click()
    wait(driver).until(lambda d: button.get_attribute("aria-pressed") == "true")
    assert driver.execute_script("return window.__order") == ["context", "resume", "microphone"]
    button.send_keys(Keys.ESCAPE)
    text_in(driver, "#voice-status", "Recording discarded")
    assert button.get_attribute("aria-pressed") == "false"


def test_recorder_worklet_hands_over_the_last_partial_block(server, driver):
    """The worklet posts 2048-sample blocks; on "flush" it must also hand over the samples of the unfinished block,
    or up to 40 ms of the end of every question would be lost. Rendered offline: 0.5 s of a constant signal, then
    the flush while the rendering is suspended."""
    sign_in(driver, server)
    result = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        (async () => {
          const { trustedScriptURL } = await import("/assets/trusted.js");
          const context = new OfflineAudioContext(1, 48000, 48000);
          await context.audioWorklet.addModule(trustedScriptURL("/assets/recorder-worklet.js"));
          const node = new AudioWorkletNode(context, "omnifin-recorder", { numberOfOutputs: 1, outputChannelCount: [1] });
          let blocks = 0, samples = 0, values = new Set(), flushed = null;
          const answered = new Promise((resolve) => {
            node.port.onmessage = ({ data }) => {
              const block = data instanceof Float32Array ? data : data.samples;
              if (data instanceof Float32Array) blocks += 1;
              samples += block.length;
              for (const value of block) values.add(value);
              if (!(data instanceof Float32Array)) resolve(data.type);
            };
          });
          const source = new ConstantSourceNode(context, { offset: 0.25 });
          source.connect(node);
          node.connect(context.destination);
          source.start();
          context.suspend(0.5).then(async () => {
            const rendered = Math.round(context.currentTime * context.sampleRate);
            node.port.postMessage({ type: "flush" });
            const reply = await Promise.race([answered, new Promise((resolve) => setTimeout(() => resolve("no answer"), 3000))]);
            done({ rendered, blocks, samples, reply, values: [...values] });
            context.resume();
          });
          context.startRendering();
        })().catch((error) => done({ error: String(error) }));
    """)
    assert "error" not in result, result
    assert result["reply"] == "flushed"
    assert result["rendered"] % 2048 != 0 and result["blocks"] == result["rendered"] // 2048
    assert result["samples"] == result["rendered"], result
    assert result["values"] == [0.25]


def test_denied_microphone_is_explained(server):
    browser = make_driver(deny_microphone=True)
    try:
        sign_in(browser, server)
        clickable(browser, "#voice-button").click()
        text_in(browser, "#voice-status", "permission was denied")
        assert browser.find_element(By.ID, "voice-status").get_attribute("data-kind") == "error"
        assert browser.find_element(By.ID, "voice-button").get_attribute("aria-pressed") == "false"
        assert not css(browser, ".message")
        errors = page_errors(browser)
    finally:
        browser.quit()
    assert not errors, "errors in the browser console:\n" + "\n".join(errors)
