"""Running async I/O (many concurrent requests) from synchronous code such as tasks."""

import asyncio
import concurrent.futures
from collections.abc import Callable, Coroutine
from typing import Any


def run_sync[T](make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """`asyncio.run(make())`, or on a thread of its own when this thread already runs an
    event loop (an ASGI server, a test driving a browser) instead of failing."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()
