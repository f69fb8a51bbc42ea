"""End-to-end tests of the admin panel (/admin) against a real `omnifin serve --demo` (see conftest.py).

Most tests sign the browser in through the API (the same request api.js signIn() makes: a cookie session plus the
CSRF token in sessionStorage), which is fast and independent of the web app's pages; one test goes through the
real sign-in form with ?next=/admin. Every test makes its own users with unique addresses, so the tests can run in
any order and next to the web app's tests on the same server.
"""

import re
import time
import urllib.request
import uuid

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from conftest import ADMIN_EMAIL, ADMIN_PASSWORD, clickable, fill, screenshot, text_in, visible, wait

PASSWORD = "a long enough test passphrase"


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def api_sign_in(driver, server, email=ADMIN_EMAIL, password=ADMIN_PASSWORD, path="/admin"):
    """Signs the browser in with a cookie session (as api.js signIn() does), then opens `path`."""
    driver.get(server.url + "/healthz")  # any same-origin page will do for the fetch
    result = driver.execute_async_script(
        """
        const [email, password, done] = arguments;
        fetch('/api/auth/login', {method: 'POST', headers: {'Content-Type': 'application/json'},
                                  body: JSON.stringify({email, password, use_cookie: true})})
          .then(async (response) => {
            const body = await response.json();
            if (!response.ok) return done('login failed: ' + response.status + ' ' + JSON.stringify(body));
            sessionStorage.setItem('omnifin.csrf', body.csrf_token);
            done('ok');
          })
          .catch((error) => done('login failed: ' + error));
        """,
        email,
        password,
    )
    assert result == "ok", result
    driver.get(server.url + path)


def user_row(driver, email, timeout=20):
    """The users-table row whose e-mail cell is `email` (waits for it)."""
    def find(d):
        for row in d.find_elements(By.CSS_SELECTOR, "#users-table tr[data-user-id]"):
            cells = row.find_elements(By.CSS_SELECTOR, "td")
            if len(cells) > 1 and cells[1].text.strip() == email:
                return row
        return False

    return wait(driver, timeout).until(find)


def search_users(driver, text):
    """Types into the (debounced) search and waits until the table shows that search's answer."""
    visible(driver, "#users-table")
    wait(driver).until(lambda d: d.find_element(By.ID, "users-status").get_attribute("textContent"))  # first load done
    field = fill(driver, "#user-search", text)
    wait(driver).until(lambda d: f"“{text}”" in d.find_element(By.ID, "users-status").get_attribute("textContent"))
    settled(driver, "#users-table")
    rows = driver.find_elements(By.CSS_SELECTOR, "#users-table tr[data-user-id]")
    assert rows and all(text.lower() in row.text.lower() for row in rows)
    return field


def click(driver, element):
    """Clicks after scrolling the element to the middle of the window (toasts sit in the bottom corner)."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def settled(driver, selector):
    """Waits until the table has no request in flight (the pages mark it aria-busy while loading)."""
    wait(driver).until(lambda d: d.find_element(By.CSS_SELECTOR, selector).get_attribute("aria-busy") is None)


def create_user_api(server, prefix="person", role="user", name=None):
    email = f"{unique(prefix)}@example.com"
    return server.create_user(email, PASSWORD, role=role, name=name)


# --- access ---------------------------------------------------------------------------------------------------------


def test_plain_user_sees_the_denied_page(driver, server):
    user = create_user_api(server, "plain")
    api_sign_in(driver, server, user["email"], PASSWORD)
    denied = visible(driver, "#admin-denied")
    assert "The admin panel is for administrators" in denied.text
    assert "Your role is user" in denied.text
    assert denied.find_element(By.CSS_SELECTOR, "a[href='/']")
    assert not driver.find_elements(By.CSS_SELECTOR, "#users-table")
    assert not driver.find_elements(By.CSS_SELECTOR, "#admin-nav-users")
    # The page asked who is signed in and nothing else.
    requested = driver.execute_script("return performance.getEntriesByType('resource').map((entry) => entry.name)")
    assert any("/api/auth/session" in name for name in requested)
    assert not [name for name in requested if "/api/admin/" in name]
    # The server refuses the admin API to this user whatever the page does.
    status, body = server.api("GET", "/api/admin/users", token=server.token(user["email"], PASSWORD))
    assert status == 403, body


def test_signed_out_visitor_is_sent_to_sign_in(driver, server):
    driver.get(server.url + "/admin")
    wait(driver).until(lambda d: "#/signin" in d.current_url)
    assert re.search(r"/#/signin\?next=(/|%2F)admin", driver.current_url), driver.current_url


def test_real_sign_in_form_returns_to_the_admin_panel(driver, server):
    driver.get(server.url + "/#/signin?next=/admin")
    fill(driver, "#signin-email", ADMIN_EMAIL)
    fill(driver, "#signin-password", ADMIN_PASSWORD)
    clickable(driver, "#signin-submit").click()
    wait(driver).until(lambda d: d.current_url.split("#")[0].rstrip("/").endswith("/admin"))
    visible(driver, "#users-table")
    assert driver.find_element(By.CSS_SELECTOR, "#admin-nav-users").get_attribute("aria-current") == "page"


def test_sign_in_returns_to_the_same_admin_page(driver, server):
    driver.get(server.url + "/admin#/analytics")
    wait(driver).until(lambda d: "#/signin" in d.current_url)
    fill(driver, "#signin-email", ADMIN_EMAIL)
    fill(driver, "#signin-password", ADMIN_PASSWORD)
    clickable(driver, "#signin-submit").click()
    wait(driver).until(lambda d: d.current_url.endswith("/admin#/analytics"))
    visible(driver, "#analytics-totals")
    assert driver.find_element(By.ID, "admin-nav-analytics").get_attribute("aria-current") == "page"


# --- users ----------------------------------------------------------------------------------------------------------


def test_admin_lists_searches_and_creates_users(driver, server):
    other = create_user_api(server, "listed")
    api_sign_in(driver, server)
    visible(driver, "#users-table")
    user_row(driver, ADMIN_EMAIL)
    assert re.match(r"1–\d+ of \d+", driver.find_element(By.ID, "users-page").text)

    # Search narrows the table to the matching account.
    search_users(driver, other["email"])
    rows = driver.find_elements(By.CSS_SELECTOR, "#users-table tr[data-user-id]")
    assert [row.get_attribute("data-user-id") for row in rows] == [other["id"]]
    assert driver.find_element(By.ID, "users-page").text == "1–1 of 1"
    search_users(driver, ADMIN_EMAIL)
    assert not any(other["email"] in row.text for row in driver.find_elements(By.CSS_SELECTOR, "#users-table tr[data-user-id]"))

    # Create a user through the form; a bad password is reported at the password field.
    email = f"{unique('created')}@example.com"
    clickable(driver, "#user-create").click()
    visible(driver, "#user-form")
    fill(driver, "#new-user-email", email)
    fill(driver, "#new-user-name", "Carla Created")
    fill(driver, "#new-user-password", "short")
    Select(driver.find_element(By.ID, "new-user-role")).select_by_value("editor")
    fill(driver, "#new-user-groups", "treasury, controlling")
    clickable(driver, "#new-user-submit").click()
    text_in(driver, "#new-user-password-error", "at least 10 characters")
    assert driver.find_element(By.ID, "new-user-password").get_attribute("aria-invalid") == "true"
    assert driver.switch_to.active_element.get_attribute("id") == "new-user-password"
    fill(driver, "#new-user-password", PASSWORD)
    clickable(driver, "#new-user-submit").click()
    row = user_row(driver, email)
    assert "Carla Created" in row.text
    assert "controlling, treasury" in row.text
    assert Select(row.find_element(By.CSS_SELECTOR, "select.role-select")).first_selected_option.get_attribute("value") == "editor"
    wait(driver).until(EC.invisibility_of_element_located((By.ID, "user-form")))
    screenshot(driver, "admin-users")
    # The server really has it.
    _, page = server.api("GET", "/api/admin/users?q=" + email, token=server.token(), expect=200)
    assert page["users"][0]["display_name"] == "Carla Created" and page["users"][0]["role"] == "editor"


def test_role_change_is_saved_and_audited(driver, server):
    user = create_user_api(server, "promoted", name="Paul Promoted")
    api_sign_in(driver, server)
    visible(driver, "#users-table")
    search_users(driver, user["email"])
    row = user_row(driver, user["email"])
    Select(row.find_element(By.CSS_SELECTOR, "select.role-select")).select_by_value("editor")
    text_in(driver, "#toasts", "is now editor")
    token = server.token()
    _, stored = server.api("GET", f"/api/admin/users/{user['id']}", token=token, expect=200)
    assert stored["role"] == "editor"

    # The audit log names the change and the person it touched.
    clickable(driver, "#admin-nav-audit").click()
    visible(driver, "#audit-table")
    fill(driver, "#audit-action-filter", "user.")
    clickable(driver, "#audit-apply").click()
    settled(driver, "#audit-table")

    def entry(d):
        rows = d.find_elements(By.CSS_SELECTOR, "#audit-table tr[data-action='user.update']")
        return next((r for r in rows if user["email"] in r.text), False)

    row = wait(driver).until(entry)
    assert "Paul Promoted" in row.text
    assert "role: user → editor" in row.text
    assert all(r.get_attribute("data-action").startswith("user.") for r in driver.find_elements(By.CSS_SELECTOR, "#audit-table tr[data-action]"))
    row.find_element(By.CSS_SELECTOR, "summary").click()
    assert '"role": "editor"' in row.find_element(By.CSS_SELECTOR, "pre").text
    screenshot(driver, "admin-audit")

    # The actor filter takes an e-mail address; nobody but the admin changed anything here.
    fill(driver, "#audit-actor-filter", ADMIN_EMAIL)
    clickable(driver, "#audit-apply").click()
    settled(driver, "#audit-table")
    wait(driver).until(entry)
    fill(driver, "#audit-actor-filter", user["email"])
    clickable(driver, "#audit-apply").click()
    settled(driver, "#audit-table")
    text_in(driver, "#audit-table", "No entries match.")


def test_audit_log_names_knowledge_entries_by_title(driver, server):
    token = server.token()
    tag = uuid.uuid4().hex[:6]
    _, kept = server.api("POST", "/api/knowledge", token=token, expect=201,
                         body={"title": f"Audit kept {tag}", "body": "Kept to show its title in the audit log.", "source": "audit-test"})
    _, gone = server.api("POST", "/api/knowledge", token=token, expect=201,
                         body={"title": f"Audit gone {tag}", "body": "Deleted; its title stays in the audit log.", "source": "audit-test"})
    server.api("DELETE", f"/api/knowledge/{gone['document']['id']}", token=token, expect=204)
    api_sign_in(driver, server, path="/admin#/audit")
    fill(driver, "#audit-action-filter", "knowledge.")
    clickable(driver, "#audit-apply").click()
    text_in(driver, "#audit-table", f"Audit gone {tag}")
    link = driver.find_element(By.XPATH, f"//td[contains(@class, 'target')]/a[text()='Audit kept {tag}']")
    assert link.get_attribute("title") == f"document:{kept['document']['id']}", "the id on hover"
    assert link.get_attribute("href").endswith(f"#/knowledge/{kept['document']['id']}")
    deleted = driver.find_element(By.XPATH, f"//td[contains(@class, 'target')]/span[text()='Audit gone {tag}']")
    assert deleted.get_attribute("title") == f"document:{gone['document']['id']}"
    server.api("DELETE", f"/api/knowledge/{kept['document']['id']}", token=token, expect=204)


def test_audit_log_pages_with_the_cursor(driver, server):
    user = create_user_api(server, "renamed")
    token = server.token()
    for number in range(55):  # more than one page of 50
        server.api("PUT", f"/api/admin/users/{user['id']}", token=token, body={"display_name": f"Renamed {number}"}, expect=200)
    api_sign_in(driver, server, path="/admin#/audit")
    visible(driver, "#audit-table")
    # The action field suggests what the server records, knowledge changes and imports included.
    suggested = [option.get_attribute("value") for option in driver.find_elements(By.CSS_SELECTOR, "#audit-actions option")]
    for action in ("user.update", "prompt.create", "knowledge.", "knowledge.created", "knowledge.deleted", "knowledge.import"):
        assert action in suggested, action
    fill(driver, "#audit-action-filter", "user.update")
    clickable(driver, "#audit-apply").click()
    settled(driver, "#audit-table")
    rows = lambda d: d.find_elements(By.CSS_SELECTOR, "#audit-table tr[data-audit-id]")
    wait(driver).until(lambda d: len(rows(d)) == 50)
    assert "Renamed 54" in rows(driver)[0].text  # newest first
    more = clickable(driver, "#audit-more")
    first_ids = [row.get_attribute("data-audit-id") for row in rows(driver)]
    click(driver, more)
    wait(driver).until(lambda d: len(rows(d)) > 50)
    ids = [int(row.get_attribute("data-audit-id")) for row in rows(driver)]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
    assert [str(i) for i in ids[:50]] == first_ids
    assert all(row.get_attribute("data-action") == "user.update" for row in rows(driver))
    # Focus moved to the first of the older entries.
    assert driver.switch_to.active_element.find_element(By.XPATH, "./ancestor::tr").get_attribute("data-audit-id") == str(ids[50])


def test_own_role_is_shown_read_only_with_the_reason(driver, server):
    api_sign_in(driver, server)
    visible(driver, "#users-table")
    search_users(driver, ADMIN_EMAIL)
    row = user_row(driver, ADMIN_EMAIL)
    assert row.find_elements(By.CSS_SELECTOR, "select.role-select") == [], "your own role offers no select"
    badge = row.find_element(By.CSS_SELECTOR, ".role-readonly")
    assert badge.text == "admin" and "another admin" in badge.get_attribute("title")
    assert "another admin can change it" in row.find_element(By.CSS_SELECTOR, ".own-role-note").text
    # The server refuses the change all the same (a request made without the page).
    status, body = server.api("PUT", f"/api/admin/users/{body_id(server)}", token=server.token(), body={"role": "user"})
    assert status == 403 and body["error"]["code"] == "own_role"
    _, me = server.api("GET", "/api/auth/profile", token=server.token(), expect=200)
    assert me["role"] == "admin"


def body_id(server):
    _, me = server.api("GET", "/api/auth/profile", token=server.token(), expect=200)
    return me["id"]


def test_disable_enable_and_delete_a_user(driver, server):
    user = create_user_api(server, "leaving", name="Lea Leaving")
    token = server.token()
    api_sign_in(driver, server)
    visible(driver, "#users-table")
    search_users(driver, user["email"])
    row = user_row(driver, user["email"])
    toggle = row.find_element(By.CSS_SELECTOR, "button.disable-user")
    assert toggle.text == "Disable"
    click(driver, toggle)
    wait(driver).until(lambda d: toggle.text == "Enable")
    assert "disabled" in row.find_element(By.CSS_SELECTOR, ".badge").text
    assert server.api("GET", f"/api/admin/users/{user['id']}", token=token, expect=200)[1]["disabled"] is True
    status, _ = server.api("POST", "/api/auth/login", body={"email": user["email"], "password": PASSWORD})
    assert status == 403
    click(driver, toggle)
    wait(driver).until(lambda d: toggle.text == "Disable")
    assert server.api("GET", f"/api/admin/users/{user['id']}", token=token, expect=200)[1]["disabled"] is False

    # Delete asks first; cancelling keeps the user.
    click(driver, row.find_element(By.CSS_SELECTOR, "button.delete-user"))
    visible(driver, "#confirm-ok")
    driver.find_element(By.CSS_SELECTOR, "dialog[open] button[value='cancel']").click()
    wait(driver).until(EC.invisibility_of_element_located((By.ID, "confirm-ok")))
    assert row.is_displayed()
    click(driver, row.find_element(By.CSS_SELECTOR, "button.delete-user"))
    clickable(driver, "#confirm-ok").click()
    wait(driver).until(EC.staleness_of(row))
    text_in(driver, "#toasts", "Lea Leaving was deleted")
    assert server.api("GET", f"/api/admin/users/{user['id']}", token=token)[0] == 404


def test_deleting_a_user_refreshes_the_page_of_users(driver, server):
    tag = unique("pager")
    token = server.token()
    for number in range(21):  # one more than a page
        server.api("POST", "/api/admin/users", token=token, expect=201, body={
            "email": f"{tag}-{number:02d}@example.com", "password": PASSWORD, "display_name": f"Pat {number}", "role": "user"})
    api_sign_in(driver, server)
    search_users(driver, tag)
    rows = lambda d: d.find_elements(By.CSS_SELECTOR, "#users-table tr[data-user-id]")
    assert len(rows(driver)) == 20
    assert driver.find_element(By.ID, "users-page").text == "1–20 of 21"
    first = rows(driver)[0]
    click(driver, first.find_element(By.CSS_SELECTOR, "button.delete-user"))
    clickable(driver, "#confirm-ok").click()
    text_in(driver, "#toasts", "was deleted")
    # The 21st user moved up into the page: still 20 rows, and the count says so.
    wait(driver).until(lambda d: d.find_element(By.ID, "users-page").text == "1–20 of 20")
    settled(driver, "#users-table")
    wait(driver).until(lambda d: len(rows(d)) == 20)
    assert driver.find_element(By.ID, "users-next").get_attribute("disabled") is not None
    # Focus stays in the table, on the row that took the deleted one's place.
    assert driver.switch_to.active_element.get_attribute("class") == "danger delete-user"


def test_display_names_are_shown_as_text(driver, server):
    name = "<img src=x onerror=window.__xss=1>Eve"
    user = create_user_api(server, "eve", name=name)
    api_sign_in(driver, server)
    visible(driver, "#users-table")
    search_users(driver, user["email"])
    row = user_row(driver, user["email"])
    assert row.find_element(By.CSS_SELECTOR, ".user-name").text == name
    assert not driver.find_elements(By.CSS_SELECTOR, "#users-table img")
    # The audit log shows the same name (inside its JSON detail) as text too.
    server.api("PUT", f"/api/admin/users/{user['id']}", token=server.token(), body={"role": "editor"}, expect=200)
    clickable(driver, "#admin-nav-audit").click()
    wait(driver).until(lambda d: any(user["email"] in r.text for r in d.find_elements(By.CSS_SELECTOR, "#audit-table tr[data-action]")))
    assert name in driver.find_element(By.ID, "audit-table").text
    assert not driver.find_elements(By.CSS_SELECTOR, "#audit-table img")
    assert driver.execute_script("return window.__xss") is None


# --- prompts --------------------------------------------------------------------------------------------------------


def version_rows(driver):
    return driver.find_elements(By.CSS_SELECTOR, "#prompt-versions tbody tr[data-prompt-id]")


def test_prompt_versions(driver, server):
    api_sign_in(driver, server, path="/admin#/prompts")
    # The page says which generator answers, and that the templates do not shape the built-in answerer's answers.
    text_in(driver, "#answer-engine", "built-in answerer")
    assert "does not use them" in driver.find_element(By.ID, "answer-engine").text
    clickable(driver, "#prompts-list button[data-name='rewrite']").click()
    template = visible(driver, "#prompt-template")
    wait(driver).until(lambda d: "Rewrite the last question" in template.get_attribute("value") or len(version_rows(d)) > 1)
    before = len(version_rows(driver))
    assert before >= 1
    placeholders = driver.find_element(By.ID, "prompt-placeholders").text
    assert "{{question}}" in placeholders and "{{history}}" in placeholders and "{{context}}" not in placeholders

    # An unknown placeholder: the server's 400 names it, nothing is stored.
    template.clear()
    template.send_keys("Rewrite {{secret}} with {{history}} and {{question}}")
    clickable(driver, "#prompt-save").click()
    text_in(driver, "#prompt-error", "{{secret}}")
    assert template.get_attribute("aria-invalid") == "true"
    assert len(version_rows(driver)) == before

    # A valid one, with a placeholder inserted at the cursor by clicking it.
    marker = unique("marker")
    template.clear()
    template.send_keys(f"Rewrite as one search query ({marker}).\n{{{{history}}}}\nLast question: ")
    driver.find_element(By.CSS_SELECTOR, "#prompt-placeholders button[data-placeholder='question']").click()
    assert template.get_attribute("value").endswith("Last question: {{question}}")
    click(driver, clickable(driver, "#prompt-save"))
    wait(driver).until(lambda d: len(version_rows(d)) == before + 1)
    newest = version_rows(driver)[0]
    assert newest.find_elements(By.CSS_SELECTOR, ".active-badge")
    assert marker in visible(driver, "#prompt-template").get_attribute("value")
    assert "Ada Admin" in newest.text
    screenshot(driver, "admin-prompts")

    # Switching to the other prompt with unsaved changes asks first; cancelling keeps the text.
    template = visible(driver, "#prompt-template")  # the editor was redrawn after the save
    template.send_keys(" unsaved")
    click(driver, driver.find_element(By.CSS_SELECTOR, "#prompts-list button[data-name='answer']"))
    visible(driver, "#confirm-ok")
    driver.find_element(By.CSS_SELECTOR, "dialog[open] button[value='cancel']").click()
    assert visible(driver, "#prompt-template").get_attribute("value").endswith(" unsaved")
    template.send_keys(Keys.BACKSPACE * len(" unsaved"))

    # View the previous version read-only, then make it active again.
    older = version_rows(driver)[1]
    older_id = older.get_attribute("data-prompt-id")
    click(driver, older.find_element(By.CSS_SELECTOR, "button.view-version"))
    viewer = visible(driver, "#prompt-view-text")
    assert viewer.get_attribute("readonly") is not None
    older_template = viewer.get_attribute("value")
    assert marker not in older_template
    viewer.send_keys(Keys.ESCAPE)
    wait(driver).until(EC.invisibility_of_element_located((By.ID, "prompt-view-text")))
    click(driver, version_rows(driver)[1].find_element(By.CSS_SELECTOR, "button.activate-version"))
    wait(driver).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, f"#prompt-versions tr[data-prompt-id='{older_id}'] .active-badge")
    )
    assert not version_rows(driver)[0].find_elements(By.CSS_SELECTOR, ".active-badge")
    assert visible(driver, "#prompt-template").get_attribute("value") == older_template
    _, listed = server.api("GET", "/api/admin/prompts?name=rewrite", token=server.token(), expect=200)
    assert [p["id"] for p in listed["prompts"] if p["active"]] == [older_id]


# --- analytics ------------------------------------------------------------------------------------------------------


def test_analytics_page(driver, server):
    token = server.token()
    off_topic = f"What is the airspeed velocity of an unladen swallow {unique('q')}?"
    for message in ("What is the travel expense policy?", "How are per diem rates handled?", off_topic):
        server.api("POST", "/api/chat/message", token=token, body={"message": message}, expect=200)

    api_sign_in(driver, server, path="/admin#/analytics")
    chart = visible(driver, "#chart-messages")
    assert chart.get_attribute("class").split()[0] == "chart"
    assert len(chart.find_elements(By.CSS_SELECTOR, "path, rect, circle")) > 0
    for name in ("active-users", "latency", "unanswered"):
        assert driver.find_elements(By.CSS_SELECTOR, f"#chart-{name} path, #chart-{name} rect, #chart-{name} circle"), name
    messages = driver.find_element(By.CSS_SELECTOR, "#analytics-totals [data-total='messages']").text
    assert int(messages.replace(",", "")) >= 3
    text_in(driver, "#unanswered-list", off_topic)
    text_in(driver, "#top-questions", off_topic)
    driver.execute_script("window.scrollTo(0, 0)")
    screenshot(driver, "admin-analytics", height=1305)  # down to the end of the first row of charts
    # With no votes the feedback chart says so instead of drawing nothing (other tests may have voted).
    _, report = server.api("GET", "/api/admin/analytics?interval=day", token=token, expect=200)
    votes = report["totals"]["feedback_up"] + report["totals"]["feedback_down"]
    assert bool(driver.find_elements(By.ID, "chart-feedback-empty")) == (votes == 0)

    # Live counters arrive over Server-Sent Events.
    text_in(driver, "#live-status", "connected")
    wait(driver).until(lambda d: re.fullmatch(r"[\d,]+", d.find_element(By.CSS_SELECTOR, "[data-counter='messages']").text))
    assert int(driver.find_element(By.CSS_SELECTOR, "[data-counter='messages']").text.replace(",", "")) >= 3

    # The chart answers the arrow keys with the interval's numbers.
    chart.send_keys(Keys.END)
    text_in(driver, "#chart-messages-readout", "Messages")
    assert re.search(r"Messages [\d,]+, Answered [\d,]+", driver.find_element(By.CSS_SELECTOR, "#chart-messages-readout").text)

    # The CSV link carries the range and downloads CSV.
    link = driver.find_element(By.ID, "analytics-csv")
    href = link.get_attribute("href")
    assert link.get_attribute("download")
    assert "format=csv" in href and "from=" in href and "to=" in href and "interval=day" in href
    request = urllib.request.Request(href, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["Content-Type"].startswith("text/csv")
        body = response.read().decode()
    assert body.startswith("start,messages,answered")
    assert len(body.strip().splitlines()) >= 2

    # "Mark done" survives a reload (it is kept in this browser).
    box = driver.find_element(By.CSS_SELECTOR, "#unanswered-list li.todo input.mark-done")
    key = box.find_element(By.XPATH, "./ancestor::li").get_attribute("data-question")
    click(driver, box)
    driver.refresh()
    done = wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#unanswered-list li.todo.done"))
    assert key in [item.get_attribute("data-question") for item in done]

    # A different interval redraws; an empty range says so.
    Select(driver.find_element(By.ID, "analytics-interval")).select_by_value("hour")
    set_date = "arguments[0].value = arguments[1]"
    driver.execute_script(set_date, driver.find_element(By.ID, "analytics-from"), "2020-01-01")
    driver.execute_script(set_date, driver.find_element(By.ID, "analytics-to"), "2020-01-02")
    clickable(driver, "#analytics-apply").click()
    text_in(driver, "#analytics-charts", "No data for this range")
    wait(driver).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "#chart-messages"))
    assert "interval=hour" in driver.find_element(By.ID, "analytics-csv").get_attribute("href")


# --- small screens --------------------------------------------------------------------------------------------------


def no_horizontal_scroll(driver):
    return driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")


def test_phone_layout_has_no_page_scroll(phone, server):
    # Headless Chromium will not make a window narrower than 500 px, so emulate the 360 px screen explicitly.
    phone.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 360, "height": 740, "deviceScaleFactor": 2, "mobile": True})
    api_sign_in(phone, server)
    assert phone.execute_script("return window.innerWidth") == 360
    visible(phone, "#users-table")
    user_row(phone, ADMIN_EMAIL)
    assert no_horizontal_scroll(phone), phone.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    clickable(phone, "#admin-nav-analytics").click()
    visible(phone, "#analytics-totals [data-total='messages']")
    wait(phone).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#analytics-charts figure"))
    assert no_horizontal_scroll(phone), phone.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    for page in ("prompts", "audit"):
        clickable(phone, f"#admin-nav-{page}").click()
        visible(phone, "#prompt-template" if page == "prompts" else "#audit-table")
        assert no_horizontal_scroll(phone), page


def test_phone_shows_users_and_audit_entries_as_cards(phone, server):
    server.create_user(f"card-{uuid.uuid4().hex[:6]}@example.com", PASSWORD)  # an audit entry to show
    phone.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 360, "height": 740, "deviceScaleFactor": 2, "mobile": True})
    api_sign_in(phone, server)
    visible(phone, "#users-table")
    row = user_row(phone, ADMIN_EMAIL)
    # A card: the row is as wide as the screen, its cells stacked, each named after its column; nothing scrolls sideways.
    assert phone.execute_script("return getComputedStyle(arguments[0]).display", row) == "block"
    cells = row.find_elements(By.CSS_SELECTOR, "td")
    assert [cell.get_attribute("data-label") for cell in cells] == ["Name", "E-mail", "Role", "Status", "Groups", "Created", "Actions"]
    assert phone.execute_script("return getComputedStyle(arguments[0], '::before').content", cells[2]) == '"Role"'
    assert phone.execute_script("return document.querySelector('#users-table').closest('.table-wrap').scrollWidth <= innerWidth")
    screenshot(phone, "users-phone")
    clickable(phone, "#admin-nav-audit").click()
    first = visible(phone, "#audit-table tbody th[data-label]").find_element(By.XPATH, "./ancestor::tr")
    labels = [cell.get_attribute("data-label") for cell in first.find_elements(By.CSS_SELECTOR, "th, td")]
    assert labels == ["When", "Actor", "Action", "Target", "Details", "Address"]
    assert no_horizontal_scroll(phone)


# --- keyboard -------------------------------------------------------------------------------------------------------


def test_navigation_marks_the_current_page_and_moves_focus(driver, server):
    api_sign_in(driver, server)
    visible(driver, "#users-table")
    assert driver.find_element(By.ID, "admin-nav-users").get_attribute("aria-current") == "page"
    assert driver.find_element(By.ID, "admin-nav-app").get_attribute("href").endswith("/")
    clickable(driver, "#admin-nav-prompts").send_keys(Keys.ENTER)
    wait(driver).until(lambda d: d.switch_to.active_element.tag_name == "h1")
    assert driver.switch_to.active_element.text == "Prompts"
    assert driver.find_element(By.ID, "admin-nav-prompts").get_attribute("aria-current") == "page"
    assert driver.find_element(By.ID, "admin-nav-users").get_attribute("aria-current") is None
    # After a reload, the skip link is the first thing Tab reaches.
    driver.refresh()
    visible(driver, "#prompt-template")
    ActionChains(driver).send_keys(Keys.TAB).perform()
    assert driver.switch_to.active_element.get_attribute("class") == "skip-link"


def test_skip_link_stays_on_the_page(driver, server):
    api_sign_in(driver, server, path="/admin#/analytics")
    visible(driver, "#analytics-totals")
    ActionChains(driver).send_keys(Keys.TAB).perform()
    skip = driver.switch_to.active_element
    assert skip.get_attribute("class") == "skip-link"
    skip.send_keys(Keys.ENTER)
    wait(driver).until(lambda d: d.switch_to.active_element.get_attribute("id") == "main")
    assert driver.execute_script("return location.hash") == "#/analytics"
    assert driver.find_element(By.ID, "admin-nav-analytics").get_attribute("aria-current") == "page"
    assert driver.find_elements(By.CSS_SELECTOR, "#main .admin-analytics #analytics-totals")
    # An address with a hash that is no route of the panel (an old bookmark to #main) does not switch pages either.
    driver.execute_script("location.hash = '#main'")
    time.sleep(0.5)
    assert driver.find_element(By.ID, "admin-nav-analytics").get_attribute("aria-current") == "page"
    assert driver.find_elements(By.CSS_SELECTOR, "#main .admin-analytics")


def test_sign_out(driver, server):
    api_sign_in(driver, server)
    visible(driver, "#users-table")
    clickable(driver, "#admin-signout").click()
    wait(driver).until(lambda d: "#/signin" in d.current_url)
    driver.get(server.url + "/admin")
    wait(driver).until(lambda d: "#/signin?next=" in d.current_url)


def test_ended_session_goes_back_to_sign_in(driver, server):
    api_sign_in(driver, server)
    visible(driver, "#users-table")
    driver.delete_all_cookies()  # as if the session expired or was revoked
    fill(driver, "#user-search", "anyone")  # the next request answers 401
    wait(driver).until(lambda d: "#/signin?next=" in d.current_url)
