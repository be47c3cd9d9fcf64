"""The unmodified openai and anthropic Python SDKs through mmerr proxy to the mock.

Run by tests/sdks.rs with PROXY (the proxy's URL), KEY (a key of the mock's), BROKE_KEY (a key
whose balance is empty), LIMITED_KEY (a key with a 30 req/s limit the SDK is not told) and
MOCK (the mock's URL, for its counts). Prints one line per check; exits non-zero on the first
failure.
"""

import json
import os
import sys
import threading
import urllib.request

import anthropic
import openai

PROXY = os.environ["PROXY"]
MOCK = os.environ["MOCK"]
KEY = os.environ["KEY"]
BROKE_KEY = os.environ["BROKE_KEY"]
LIMITED_KEY = os.environ["LIMITED_KEY"]
QUOTA_KEY = os.environ["QUOTA_KEY"]


def mock_calls():
    with urllib.request.urlopen(MOCK + "/__mock/stats", timeout=10) as answer:
        return json.load(answer)["requests"]


def check(name, condition, detail=""):
    if not condition:
        print(f"FAILED {name}: {detail}", flush=True)
        sys.exit(1)
    print(f"ok {name}", flush=True)


oai = openai.OpenAI(base_url=PROXY + "/v1", api_key=KEY)
completion = oai.chat.completions.create(
    model="MiniMax-M2", messages=[{"role": "user", "content": "hello"}]
)
check("openai chat completion", completion.choices[0].message.content == "You said: hello")

pieces = []
for chunk in oai.chat.completions.create(
    model="MiniMax-M2", messages=[{"role": "user", "content": "hello there"}], stream=True
):
    if chunk.choices and chunk.choices[0].delta.content:
        pieces.append(chunk.choices[0].delta.content)
check("openai stream", "".join(pieces) == "You said: hello there", pieces)

claude = anthropic.Anthropic(base_url=PROXY + "/anthropic", api_key=KEY)
message = claude.messages.create(
    model="MiniMax-M2", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
)
check("anthropic message", message.content[0].text == "You said: hi", message)

with claude.messages.stream(
    model="MiniMax-M2", max_tokens=64, messages=[{"role": "user", "content": "hi you"}]
) as stream:
    text = "".join(stream.text_stream)
check("anthropic stream", text == "You said: hi you", text)

# A bad key raises the SDK's own authentication error, at once.
try:
    openai.OpenAI(base_url=PROXY + "/v1", api_key="sk-api-nobody").chat.completions.create(
        model="MiniMax-M2", messages=[{"role": "user", "content": "hello"}]
    )
    check("openai bad key", False, "no error raised")
except openai.AuthenticationError as error:
    check("openai bad key", "(2049)" in str(error), error)
try:
    anthropic.Anthropic(base_url=PROXY + "/anthropic", api_key="sk-api-nobody").messages.create(
        model="MiniMax-M2", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
    )
    check("anthropic bad key", False, "no error raised")
except anthropic.AuthenticationError as error:
    check("anthropic bad key", "(2049)" in str(error), error)

# An empty balance arrives as HTTP 500, which the SDK would retry: the proxy tells it not to,
# so MiniMax sees one call and the caller gets MiniMax's message with its code.
before = mock_calls()
try:
    anthropic.Anthropic(base_url=PROXY + "/anthropic", api_key=BROKE_KEY).messages.create(
        model="MiniMax-M2", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
    )
    check("anthropic 1008", False, "no error raised")
except anthropic.InternalServerError as error:
    check("anthropic 1008 comes back with its code", "(1008)" in str(error), error)
check("anthropic 1008 is not retried", mock_calls() - before == 1, mock_calls() - before)

# A spent plan window (2056) arrives as HTTP 429, which looks like a rate limit: it is final,
# raised at once with MiniMax's message and code.
before = mock_calls()
try:
    anthropic.Anthropic(base_url=PROXY + "/anthropic", api_key=QUOTA_KEY).messages.create(
        model="MiniMax-M2", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
    )
    check("anthropic 2056", False, "no error raised")
except anthropic.RateLimitError as error:
    check("anthropic 2056 comes back with its code", "(2056)" in str(error), error)
check("anthropic 2056 is not retried", mock_calls() - before == 1, mock_calls() - before)

# From here the mock answers this endpoint with overloads and rate limits: a stream that meets
# them before its first event is retried by the proxy, and the agent never sees them.
with claude.messages.stream(
    model="MiniMax-M2", max_tokens=64, messages=[{"role": "user", "content": "agent turn"}]
) as stream:
    text = "".join(stream.text_stream)
check("anthropic stream through 529 and 1002", text == "You said: agent turn", text)

for i in range(20):
    claude.messages.create(
        model="MiniMax-M2", max_tokens=8, messages=[{"role": "user", "content": f"n{i}"}]
    )
check("anthropic through 529 and 1002", True)

# 4 threads x 40 requests against a 30 req/s limit none of them is told: none fails.
failures = []


def worker():
    client = openai.OpenAI(base_url=PROXY + "/v1", api_key=LIMITED_KEY, max_retries=0)
    for _ in range(40):
        try:
            client.chat.completions.create(
                model="MiniMax-M2", messages=[{"role": "user", "content": "hello"}]
            )
        except Exception as error:  # noqa: BLE001 - every failure counts
            failures.append(repr(error))


threads = [threading.Thread(target=worker) for _ in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
check("rate-limited run completes without failures", not failures, failures[:3])
