#!/usr/bin/env python3
"""The same summary as `mmerr report --json`, written the straightforward way in Python: the
reference that `scripts/bench-report.sh` measures mmerr against."""
import json
import sys
from collections import Counter, defaultdict
from datetime import datetime

codes = Counter()
endpoints = Counter()
hours = Counter()
first, last = {}, {}
malformed = events = 0
for path in sys.argv[1:]:
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                event = json.loads(line)
                ms = int(datetime.fromisoformat(event["ts"].replace("Z", "+00:00")).timestamp() * 1000)
            except (ValueError, KeyError, TypeError):
                malformed += 1
                continue
            events += 1
            key = str(event["code"]) if event.get("code") is not None else event.get("outcome", "unknown")
            codes[key] += 1
            endpoints[event.get("endpoint", "unknown")] += 1
            hours[ms // 3_600_000] += 1
            first[key] = min(first.get(key, ms), ms)
            last[key] = max(last.get(key, ms), ms)
print(json.dumps({"events": events, "malformed": malformed, "outcomes": {k: {"count": n, "first_ms": first[k], "last_ms": last[k]} for k, n in codes.items()}, "endpoints": endpoints, "hours": len(hours)}))
