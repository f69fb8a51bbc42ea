"""End-to-end tests of the web app and the admin panel in a real browser.

One `omnifin serve --demo` per test session on loopback (throwaway SQLite database, mail to files, the demo
knowledge of corpora/), driven by Chromium through chromedriver (both from Debian) with Selenium.

    OMNIFIN_BIN          the server binary (default .build/debug/omnifin)
    OMNIFIN_WEB_DIR      serve the pages from this folder instead of the copy built into the binary
    OMNIFIN_SCREENSHOTS  a folder to save the screenshots the tests take (make screenshots: docs/screenshots)
"""

import email
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from email import policy
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "browser-test admin passphrase"
WAIT = 20


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """The live server: its address, its mail folder, and a small API client for setting up test data."""

    def __init__(self, url, work):
        self.url = url
        self.work = Path(work)

    def api(self, method, path, token=None, body=None, expect=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        if expect is not None:
            assert status == expect, f"{method} {path}: {status} {raw[:500]!r}"
        return status, (json.loads(raw) if raw and raw[:1] in (b"{", b"[") else raw)

    def token(self, email=ADMIN_EMAIL, password=ADMIN_PASSWORD):
        _, body = self.api("POST", "/api/auth/login", body={"email": email, "password": password}, expect=200)
        return body["token"]

    def create_user(self, email, password, role="user", name=None):
        """A confirmed account made by the admin through the API."""
        _, body = self.api(
            "POST",
            "/api/admin/users",
            token=self.token(),
            body={"email": email, "password": password, "display_name": name or email.split("@")[0], "role": role},
            expect=201,
        )
        return body

    def mails_to(self, address):
        """The e-mails (as email.message objects) the server wrote for `address`, oldest first."""
        folder = self.work / "mail"
        found = []
        if folder.exists():
            for path in sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime):
                message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
                if address.lower() in str(message["To"]).lower():
                    found.append(message)
        return found

    def confirmation_link(self, address, timeout=15):
        """The link of the newest confirmation e-mail to `address` (waits for the outbox to deliver it)."""
        return self.link(address, r"(https?://\S+/verify\?token=[A-Za-z0-9_\-]+)", timeout)

    def reset_link(self, address, timeout=15):
        """The link of the newest password-reset (or invitation) e-mail to `address`."""
        return self.link(address, r"(https?://\S+/reset-password\?token=[A-Za-z0-9_\-]+(?:&invite=1)?)", timeout)

    def link(self, address, pattern, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for message in reversed(self.mails_to(address)):
                text = message.get_body(preferencelist=("plain",)).get_content()
                match = re.search(pattern, text)
                if match:
                    return match.group(1)
            time.sleep(0.2)
        raise AssertionError(f"no e-mail to {address} matching {pattern} within {timeout} s")


@pytest.fixture(scope="session")
def server():
    binary = Path(os.environ.get("OMNIFIN_BIN", ROOT / ".build/debug/omnifin")).resolve()
    assert binary.exists(), f"build the server first: {binary} is missing"
    work = Path(tempfile.mkdtemp(prefix="omnifin-browser-"))
    port = free_port()
    database = f"sqlite:{work}/omnifin.db"
    env = dict(os.environ)
    if env.get("OMNIFIN_WEB_DIR"):
        # The server runs in the work folder: a relative folder is meant from where the tests were started.
        env["OMNIFIN_WEB_DIR"] = str(Path(env["OMNIFIN_WEB_DIR"]).resolve())
    env.update(
        OMNIFIN_MAIL=f"file:{work}/mail",
        OMNIFIN_DATA_KEY_FILE=f"{work}/data.key",
        OMNIFIN_INDEX_SNAPSHOT=f"{work}/index.hnsw",
        OMNIFIN_IMPORT_DIR=f"{work}/imports",
        OMNIFIN_DEMO_DIR=str(ROOT / "corpora"),
        OMNIFIN_RATE_LIMIT_PER_MINUTE="0",
        OMNIFIN_LOGIN_ATTEMPTS_PER_MINUTE="0",
        OMNIFIN_PUBLIC_URL=f"http://127.0.0.1:{port}",
    )
    subprocess.run(
        [binary, "admin", "create-user", "--database", database, "--email", ADMIN_EMAIL, "--password", ADMIN_PASSWORD,
         "--role", "admin", "--name", "Ada Admin"],
        cwd=work, env=env, check=True, capture_output=True,
    )
    log = open(work / "server.log", "wb")
    process = subprocess.Popen(
        [binary, "serve", "--database", database, "--port", str(port), "--demo"], cwd=work, env=env, stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=2) as response:
                if response.status == 200 and json.load(response)["documents"] > 0:
                    break
        except (OSError, ValueError, KeyError):
            pass
        if process.poll() is not None or time.time() > deadline:
            process.kill()
            process.wait()
            log.close()
            raise AssertionError("the server did not start:\n" + (work / "server.log").read_text()[-4000:])
        time.sleep(0.25)
    yield Server(url, work)
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()
    if os.environ.get("OMNIFIN_KEEP_BROWSER_WORK"):
        print(f"server work folder kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


def make_driver(width=1280, height=900, audio_file=None, deny_microphone=False):
    """A headless Chromium. The fake microphone plays `audio_file` in a loop (else a beep); with
    `deny_microphone` the site's microphone permission is blocked, as if the user had refused it."""
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={width},{height}", "--lang=en-US", "--use-fake-device-for-media-stream",
                     "--autoplay-policy=no-user-gesture-required"):
        options.add_argument(argument)
    if deny_microphone:
        options.add_experimental_option("prefs", {"profile.default_content_setting_values.media_stream_mic": 2})
    else:
        options.add_argument("--use-fake-ui-for-media-stream")
    if audio_file:
        options.add_argument(f"--use-file-for-fake-audio-capture={audio_file}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    if width < 500:
        # Chromium will not make a window narrower than 500 px; emulate the phone's viewport instead (as a mobile
        # device, so the viewport meta tag applies and scrollbars overlay the page as on a phone).
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True})
    return driver


def page_errors(driver):
    """Console errors other than failed requests the page handles itself (a 401 before sign-in, a 403 …)."""
    errors = []
    for entry in driver.get_log("browser"):
        if entry["level"] != "SEVERE":
            continue
        message = entry["message"]
        if "Failed to load resource" in message:
            continue
        errors.append(message)
    return errors


@pytest.fixture
def driver():
    """A fresh desktop-sized browser; the test fails on any script error, CSP or Trusted Types violation."""
    browser = make_driver()
    yield browser
    errors = page_errors(browser)
    browser.quit()
    assert not errors, "errors in the browser console:\n" + "\n".join(errors)


@pytest.fixture
def phone():
    """A browser the size of a small phone (360 × 740)."""
    browser = make_driver(360, 740)
    yield browser
    errors = page_errors(browser)
    browser.quit()
    assert not errors, "errors in the browser console:\n" + "\n".join(errors)


def wait(driver, timeout=WAIT):
    return WebDriverWait(driver, timeout)


def visible(driver, selector, timeout=WAIT):
    return wait(driver, timeout).until(EC.visibility_of_element_located((By.CSS_SELECTOR, selector)))


def clickable(driver, selector, timeout=WAIT):
    return wait(driver, timeout).until(EC.element_to_be_clickable((By.CSS_SELECTOR, selector)))


def text_in(driver, selector, text, timeout=WAIT):
    return wait(driver, timeout).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, selector), text))


def fill(driver, selector, value):
    field = visible(driver, selector)
    field.clear()
    field.send_keys(value)
    return field


def sign_in(driver, server, email=ADMIN_EMAIL, password=ADMIN_PASSWORD):
    """Signs in through the sign-in form and waits for the chat page."""
    driver.get(server.url + "/#/signin")
    fill(driver, "#signin-email", email)
    fill(driver, "#signin-password", password)
    clickable(driver, "#signin-submit").click()
    visible(driver, "#chat-input")


def screenshot(driver, name, height=None, scroll_to=None):
    """Saves the window as NAME.png in OMNIFIN_SCREENSHOTS (when set). Toasts are removed first: they cover a corner
    of the page and are not what the picture shows. `height` makes the window that tall for the picture (and back
    after), `scroll_to` scrolls the element with that selector to the top of the window."""
    folder = os.environ.get("OMNIFIN_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    driver.execute_script("for (const toast of document.querySelectorAll('#toasts .toast')) toast.remove()")
    size = driver.get_window_size() if height else None
    if size:
        driver.set_window_size(size["width"], height)
    try:
        if scroll_to:
            driver.execute_script("document.querySelector(arguments[0]).scrollIntoView({block: 'start'})", scroll_to)
        time.sleep(0.3)
        driver.save_screenshot(str(Path(folder) / f"{name}.png"))
    finally:
        if size:
            driver.set_window_size(size["width"], size["height"])
