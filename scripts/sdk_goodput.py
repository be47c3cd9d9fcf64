"""One process of the proxy goodput benchmark: THREADS threads of the unmodified openai SDK
(default settings) send REQUESTS chat completions in all to BASE_URL; prints one JSON line with
what succeeded and failed.

python3 scripts/sdk_goodput.py BASE_URL KEY REQUESTS THREADS
"""

import json
import sys
import threading
import time

import openai

base_url, key, requests, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
client = openai.OpenAI(base_url=base_url, api_key=key)
left = requests
lock = threading.Lock()
ok = failed = 0


def worker():
    global left, ok, failed
    while True:
        with lock:
            if left == 0:
                return
            left -= 1
        try:
            client.chat.completions.create(
                model="MiniMax-M2", messages=[{"role": "user", "content": "hello"}]
            )
            with lock:
                ok += 1
        except openai.APIError:
            with lock:
                failed += 1


started = time.monotonic()
pool = [threading.Thread(target=worker) for _ in range(threads)]
for thread in pool:
    thread.start()
for thread in pool:
    thread.join()
print(json.dumps({"ok": ok, "failed": failed, "seconds": round(time.monotonic() - started, 2)}))
