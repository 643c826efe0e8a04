"""A real browser for the tests that check a page renders: Debian's headless chromium, driven over the Chrome
DevTools Protocol (aiohttp's websocket client; no Selenium). scripts/chromium installs it."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from localhost import wait_for

# Every <img> of the page once it has loaded: its id, size, and the share of its pixels that are not background
# (drawn on a canvas: an image that decoded to a blank or transparent picture has none).
IMAGES = """new Promise(resolve => {
  const look = () => resolve(JSON.stringify(Array.from(document.images).map(img => {
    const canvas = document.createElement("canvas");
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    let inked = 0;
    if (img.complete && img.naturalWidth) {
      const context = canvas.getContext("2d");
      context.drawImage(img, 0, 0);
      const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 0; i < pixels.length; i += 4) {
        if (pixels[i + 3] > 0 && (pixels[i] < 240 || pixels[i + 1] < 240 || pixels[i + 2] < 240)) inked++;
      }
    }
    return {id: img.id, complete: img.complete, width: img.naturalWidth, height: img.naturalHeight,
            inked: inked / Math.max(1, img.naturalWidth * img.naturalHeight)};
  })));
  // the target may still hold the blank page it opened with: wait for this page's own document to load
  const ready = () => location.href === PAGE_URL && document.readyState === "complete";
  if (ready()) look(); else { const poll = setInterval(() => { if (ready()) { clearInterval(poll); look(); } }, 20); }
})"""


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs chromium (scripts/chromium installs it)")
        pytest.skip("no chromium (scripts/chromium installs it)")
    return found


async def _evaluate(port: int, url: str, expression: str) -> Any:
    async with aiohttp.ClientSession() as http:
        target = None
        while target is None:  # the page's own target, once chromium has navigated to it
            async with http.get(f"http://127.0.0.1:{port}/json/list") as answer:
                target = next((t for t in await answer.json() if t["type"] == "page" and t["url"] == url), None)
            if target is None:
                await asyncio.sleep(0.05)
        async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            for attempt in itertools.count(1):  # an evaluation in a page still loading can be cut off: ask again
                await ws.send_json({"id": attempt, "method": "Runtime.evaluate", "params": {
                    "expression": expression, "awaitPromise": True, "returnByValue": True}})
                async for message in ws:
                    body = json.loads(message.data)
                    if body.get("id") != attempt:
                        continue
                    value = body.get("result", {}).get("result", {}).get("value")
                    if value is not None:
                        return value
                    break  # an error or a destroyed context: wait, then again
                else:
                    raise AssertionError("chromium closed the connection without an answer")
                await asyncio.sleep(0.1)
    raise AssertionError("unreachable")


def page_images(page: Path, timeout_s: float = 60) -> list[dict[str, Any]]:
    """Open a local page in headless chromium and describe every image it drew."""
    url = page.resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="synfinance-chromium-") as profile:
        browser = subprocess.Popen(
            [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-port=0",
             f"--user-data-dir={profile}", url],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            wait_for(lambda: port_file.is_file() and port_file.read_text().strip() != "", timeout_s,
                     "chromium's DevTools port")
            port = int(port_file.read_text().splitlines()[0])
            expression = IMAGES.replace("PAGE_URL", json.dumps(url))
            images: list[dict[str, Any]] = json.loads(asyncio.run(asyncio.wait_for(_evaluate(port, url, expression),
                                                                                    timeout_s)))
            return images
        finally:
            browser.terminate()
            browser.wait(timeout=30)
