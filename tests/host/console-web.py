#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""console-web.py DEVTOOLS_PORT URL KEYLOG SHOT: drive a headless Chromium (DevTools protocol,
python3-websocket) to the noVNC page at URL, wait until its canvas shows the test screen
(vncfake's picture: white bar on top, red left half, blue right half), save a screenshot as
SHOT, type "ab" into the page and wait until vncfake's output (KEYLOG) shows the scan codes
the guest's i8042 gave for them. Prints one "PASS name" / "FAIL name: why" line per check."""
import base64
import json
import sys
import time
import urllib.request

import websocket

port, url, keylog, shot = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]


def check(name, ok, why=""):
    print(f"PASS console-web/{name}" if ok else f"FAIL console-web/{name}: {why}", flush=True)
    return ok


# the page target Chromium opened at start
targets = []
for _ in range(100):
    try:
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        if any(t.get("type") == "page" for t in targets):
            break
    except OSError:
        pass
    time.sleep(0.1)
page = [t for t in targets if t.get("type") == "page"]
if not check("devtools", bool(page), "no page from Chromium's DevTools"):
    sys.exit(1)
ws = websocket.create_connection(page[0]["webSocketDebuggerUrl"], timeout=30)
seq = 0


def call(method, **params):
    global seq
    seq += 1
    ws.send(json.dumps({"id": seq, "method": method, "params": params}))
    while True:
        m = json.loads(ws.recv())
        if m.get("id") == seq:
            if "error" in m:
                raise RuntimeError(f"{method}: {m['error']}")
            return m.get("result", {})


def js(expr):
    r = call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
    return r.get("result", {}).get("value")


call("Page.enable")
call("Page.navigate", url=url)
# the canvas noVNC draws the guest's screen into, at the picture's size, showing its colours
probe = """(() => {
  const c = document.querySelector('#noVNC_container canvas');
  if (!c || c.width < 640 || c.height < 480) return null;
  const g = c.getContext('2d');
  const px = (x, y) => Array.from(g.getImageData(x, y, 1, 1).data.slice(0, 3));
  return {w: c.width, h: c.height, top: px(320, 10), left: px(100, 300), right: px(540, 300),
          status: (document.querySelector('#noVNC_status') || {}).textContent || ''};
})()"""
seen = None
for _ in range(150):
    try:
        seen = js(probe)
    except RuntimeError:
        seen = None
    if seen and seen["left"] == [255, 0, 0] and seen["right"] == [0, 0, 255]:
        break
    time.sleep(0.2)
check("screen", bool(seen) and seen["top"] == [255, 255, 255] and seen["left"] == [255, 0, 0]
      and seen["right"] == [0, 0, 255], f"the page's canvas shows {seen}")
img = call("Page.captureScreenshot", format="png")
with open(shot, "wb") as f:
    f.write(base64.b64decode(img["data"]))

# keys typed in the page reach the guest's keyboard controller
js("document.querySelector('#noVNC_container canvas').focus()")
for ch, code, vk in (("a", "KeyA", 65), ("b", "KeyB", 66)):
    call("Input.dispatchKeyEvent", type="keyDown", key=ch, code=code, text=ch,
         windowsVirtualKeyCode=vk, nativeVirtualKeyCode=vk)
    call("Input.dispatchKeyEvent", type="keyUp", key=ch, code=code,
         windowsVirtualKeyCode=vk, nativeVirtualKeyCode=vk)
want = ["1e", "9e", "30", "b0"]  # a, b pressed and released, scan code set 1 (translated)
got = []
for _ in range(50):
    got = [l.split()[1] for l in open(keylog) if l.startswith("i8042 ")]
    if got[:4] == want:
        break
    time.sleep(0.2)
check("keys", got[:4] == want, f"the guest's i8042 gave {got[:8]}, not {want}")
ws.close()
