"""Omnifin from the clients people already use (#22): the official OpenAI Python SDK against /v1 and the official MCP
Python SDK against /mcp, with personal API keys, on the live server of conftest.py (and one with a rate limit)."""

import asyncio
import json
import os
import subprocess
import time
import urllib.request
import uuid

import httpx2
import openai
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from selenium.webdriver.common.by import By

from conftest import clickable, fill, free_port, screenshot, sign_in, text_in, visible, wait

PASSWORD = "client-test passphrase 42"


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def new_key(server, token, name="test key", scope="chat"):
    _, body = server.api("POST", "/api/auth/api-keys", token=token, body={"name": name, "scope": scope}, expect=201)
    assert body["key"].startswith("omk_") and body["status"] == "active" and body["scope"] == scope
    return body


def person(server, role):
    email = f"{unique(role)}@example.com"
    server.create_user(email, PASSWORD, role=role)
    return server.token(email, PASSWORD)


def client(server, key, **options):
    return openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0, **options)


def test_api_keys_are_shown_once_listed_and_revoked(server):
    token = person(server, "user")
    created = new_key(server, token, name="Open WebUI on my laptop", scope="read")
    _, listed = server.api("GET", "/api/auth/api-keys", token=token, expect=200)
    assert [key["id"] for key in listed["keys"]] == [created["id"]]
    assert "key" not in listed["keys"][0], "the secret is shown once, at creation"
    # A key opens /v1 and /mcp only, never the account.
    server.api("GET", "/api/auth/profile", token=created["key"], expect=401)
    server.api("POST", "/api/auth/api-keys", token=created["key"], body={"name": "x"}, expect=401)
    server.api("GET", "/v1/models", token=created["key"], expect=200)
    # Another person cannot revoke it.
    server.api("DELETE", f"/api/auth/api-keys/{created['id']}", token=person(server, "user"), expect=404)
    server.api("DELETE", f"/api/auth/api-keys/{created['id']}", token=token, expect=204)
    server.api("GET", "/v1/models", token=created["key"], expect=401)
    _, listed = server.api("GET", "/api/auth/api-keys", token=token, expect=200)
    assert listed["keys"][0]["status"] == "revoked"
    for bad in ({"name": ""}, {"name": "x", "scope": "admin"}, {"name": "x", "expires_in_days": 0}, {"name": "x", "colour": "red"}):
        server.api("POST", "/api/auth/api-keys", token=token, body=bad, expect=400)


def test_openai_sdk_answers_streams_and_follows_up(server):
    key = new_key(server, person(server, "user"))["key"]
    openai_client = client(server, key)
    assert {model.id for model in openai_client.models.list()} == {"omnifin", "omnifin-search"}

    question = "What is the approval limit for invoices?"
    answer = openai_client.chat.completions.create(model="omnifin", messages=[{"role": "user", "content": question}])
    text = answer.choices[0].message.content
    assert answer.choices[0].finish_reason == "stop" and answer.object == "chat.completion"
    assert "Sources:\n[1]" in text, text
    extra = answer.model_extra["omnifin"]
    assert extra["grounded"] and extra["citations"] and extra["citations"][0]["document_id"]

    # Streaming: the same answer in chunks, the citations on the last one, then [DONE] (the SDK stops there).
    chunks = list(openai_client.chat.completions.create(model="omnifin", messages=[{"role": "user", "content": question}], stream=True,
                                                         stream_options={"include_usage": True}))
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert streamed == text
    assert chunks[0].choices[0].delta.role == "assistant"
    final = [chunk for chunk in chunks if chunk.choices and chunk.choices[0].finish_reason == "stop"]
    assert len(final) == 1 and final[0].model_extra["omnifin"]["citations"]
    assert chunks[-1].usage.completion_tokens > 0

    # A follow-up: the history says what "it" is.
    follow = openai_client.chat.completions.create(
        model="omnifin",
        messages=[
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "How much is the per diem in Germany?"},
            {"role": "assistant", "content": openai_client.chat.completions.create(
                model="omnifin", messages=[{"role": "user", "content": "How much is the per diem in Germany?"}]).choices[0].message.content},
            {"role": "user", "content": [{"type": "text", "text": "and in France?"}]},
        ],
        extra_body={"omnifin": {"sources": False}},
    )
    follow_text = follow.choices[0].message.content
    assert "Sources:" not in follow_text and follow.model_extra["omnifin"]["citations"]
    assert any("per diem" in c["title"].lower() or "per diem" in c["snippet"].lower() for c in follow.model_extra["omnifin"]["citations"])

    search = openai_client.chat.completions.create(model="omnifin-search", messages=[{"role": "user", "content": question}])
    assert search.choices[0].message.content.startswith("[1] ") and search.model_extra["omnifin"]["generator"] == "search"


def test_openai_sdk_errors_have_openai_shape(server):
    token = person(server, "user")
    with pytest.raises(openai.AuthenticationError) as failure:
        client(server, "omk_not-a-key").chat.completions.create(model="omnifin", messages=[{"role": "user", "content": "hi"}])
    assert failure.value.status_code == 401 and failure.value.body["type"] == "authentication_error"
    key = new_key(server, token)["key"]
    with pytest.raises(openai.BadRequestError) as failure:
        client(server, key).chat.completions.create(
            model="omnifin", messages=[{"role": "user", "content": "What is the approval limit?"}],
            tools=[{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}])
    assert failure.value.body["param"] == "tools" and failure.value.body["type"] == "invalid_request_error"
    with pytest.raises(openai.BadRequestError) as failure:
        client(server, key).chat.completions.create(
            model="omnifin", messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}]}])
    assert failure.value.body["param"] == "messages.0.content.0"
    with pytest.raises(openai.NotFoundError) as failure:
        client(server, key).chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert failure.value.body["code"] == "model_not_found"
    # A read-only key may search, not ask.
    read = new_key(server, token, scope="read")["key"]
    with pytest.raises(openai.PermissionDeniedError):
        client(server, read).chat.completions.create(model="omnifin", messages=[{"role": "user", "content": "What is the approval limit?"}])
    client(server, read).chat.completions.create(model="omnifin-search", messages=[{"role": "user", "content": "approval limit"}])


@pytest.fixture(scope="module")
def limited_server(server):
    """A second server over the same database with a limit of 5 requests per user and minute."""
    port = free_port()
    env = dict(os.environ, OMNIFIN_MAIL=f"file:{server.work}/mail", OMNIFIN_DATA_KEY_FILE=f"{server.work}/data.key",
               OMNIFIN_INDEX_SNAPSHOT=f"{server.work}/limited.hnsw", OMNIFIN_RATE_LIMIT_PER_MINUTE="5",
               OMNIFIN_LOGIN_ATTEMPTS_PER_MINUTE="0", OMNIFIN_PUBLIC_URL=f"http://127.0.0.1:{port}")
    binary = os.environ.get("OMNIFIN_BIN", ".build/debug/omnifin")
    log = open(server.work / "limited.log", "wb")
    process = subprocess.Popen([os.path.abspath(binary), "serve", "--database", f"sqlite:{server.work}/omnifin.db", "--port", str(port)],
                               cwd=server.work, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        assert process.poll() is None and time.time() < deadline, (server.work / "limited.log").read_text()[-2000:]
        time.sleep(0.25)
    yield url
    process.terminate()
    process.wait(timeout=20)
    log.close()


def test_openai_sdk_sees_the_rate_limit(server, limited_server):
    key = new_key(server, person(server, "user"))["key"]
    limited = openai.OpenAI(base_url=limited_server + "/v1", api_key=key, max_retries=0)
    with pytest.raises(openai.RateLimitError) as failure:
        for _ in range(10):
            limited.models.list()
    assert failure.value.status_code == 429 and failure.value.body["type"] == "rate_limit_error"
    assert int(failure.value.response.headers["retry-after"]) > 0


def mcp_call(server, key, calls):
    """Opens an MCP session with `key`, lists the tools and runs `calls(session)`; returns (tool names, its result)."""

    async def run():
        async with create_mcp_http_client(headers={"Authorization": f"Bearer {key}"}) as http:
            async with streamable_http_client(server.url + "/mcp", http_client=http) as (read, write):
                async with ClientSession(read, write) as session:
                    initialized = await session.initialize()
                    assert initialized.protocol_version in ("2025-06-18", "2025-03-26"), initialized.protocol_version
                    tools = await session.list_tools()
                    return [tool.name for tool in tools.tools], await calls(session)

    return asyncio.run(run())


def structured(result):
    assert result.structured_content is not None, result
    return result.structured_content


def test_mcp_tools_follow_the_callers_rights(server):
    admin = server.token()
    secret = unique("Zanthor treasury reserve")
    _, written = server.api(
        "POST", "/api/knowledge", token=admin, expect=201,
        body={"title": secret, "body": f"The {secret} is kept at 4.2 million EUR and reviewed by treasury every quarter.",
              "source": "mcp-test", "access": ["role:editor"]})
    document = written["document"]
    user_key = new_key(server, person(server, "user"))["key"]
    editor_key = new_key(server, person(server, "editor"))["key"]

    async def everything(session):
        search = structured(await session.call_tool("search_knowledge", {"query": secret, "k": 5}))
        document_result = await session.call_tool("get_document", {"id": document["id"]})
        ask = structured(await session.call_tool("ask", {"question": "What is the approval limit for invoices?"}))
        return search, document_result, ask

    tools, (search, got, ask) = mcp_call(server, editor_key, everything)
    assert tools == ["search_knowledge", "ask", "get_document"]
    assert search["results"][0]["document_id"] == document["id"]
    assert not got.is_error and structured(got)["title"] == secret and "4.2 million" in structured(got)["body"]
    assert ask["grounded"] and ask["citations"]

    _, (search, got, ask) = mcp_call(server, user_key, everything)
    assert document["id"] not in [hit["document_id"] for hit in search["results"]]
    assert got.is_error and "4.2 million" not in json.dumps(structured(got)), "the user may not read the editor's document"

    # A read-only key has no ask tool; calling it anyway is a protocol error.
    read_key = new_key(server, person(server, "user"), scope="read")

    async def ask_anyway(session):
        try:
            await session.call_tool("ask", {"question": "What is the approval limit?"})
        except Exception as error:  # the SDK raises the JSON-RPC error
            return str(error)
        return "answered"

    tools, outcome = mcp_call(server, read_key["key"], ask_anyway)
    assert "ask" not in tools and "unknown tool" in outcome


def test_mcp_refuses_a_revoked_key(server):
    token = person(server, "editor")
    key = new_key(server, token)
    server.api("DELETE", f"/api/auth/api-keys/{key['id']}", token=token, expect=204)
    response = httpx2.post(server.url + "/mcp", headers={"Authorization": f"Bearer {key['key']}", "Accept": "application/json, text/event-stream"},
                           json={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                                                                                             "clientInfo": {"name": "t", "version": "1"}}})
    assert response.status_code == 401 and response.headers["www-authenticate"].startswith("Bearer")
    with pytest.raises(Exception):
        mcp_call(server, key["key"], lambda session: asyncio.sleep(0))


def test_profile_page_creates_shows_once_and_revokes_keys(server, driver):
    email = f"{unique('keys')}@example.com"
    server.create_user(email, PASSWORD, role="user")
    sign_in(driver, server, email, PASSWORD)
    clickable(driver, "#nav-profile").click()
    fill(driver, "#key-name", "Open WebUI on my laptop")
    clickable(driver, "#key-create").click()
    secret = visible(driver, "#key-value").get_attribute("value")
    assert secret.startswith("omk_")
    text_in(driver, "#key-list", "Open WebUI on my laptop")
    server.api("GET", "/v1/models", token=secret, expect=200)
    screenshot(driver, "api-keys", height=1100, scroll_to="#api-keys")
    # Reloaded, the page lists the key but never shows its secret again.
    driver.refresh()
    text_in(driver, "#key-list", "active")
    assert secret not in driver.page_source
    clickable(driver, "#key-list button").click()
    clickable(driver, "#confirm-ok").click()
    text_in(driver, "#key-list", "revoked")
    server.api("GET", "/v1/models", token=secret, expect=401)
