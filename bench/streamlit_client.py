"""A browser session without a browser: Streamlit's own websocket protocol, one page run at a time.

The frontend opens `/_stcore/stream` (subprotocol `streamlit`), sends a
`BackMsg.rerun_script` naming the page and the URL's query string, and reads
`ForwardMsg`s until `script_finished`. This does the same, so a benchmark or a
test loads the real server (its threads, caches and memory) as browsers would,
without the cost of a browser per session.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect

PAGE_TIMEOUT_S = 180.0
_DONE = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR}


@dataclass
class PageRun:
    page: str
    seconds: float  # from sending the rerun to the script's end, as a browser would wait
    elements: int = 0
    exceptions: list[str] = field(default_factory=list)
    page_not_found: bool = False


class StreamlitSession:
    """One browser tab: a websocket to the server and its session state."""

    def __init__(self, base_url: str, open_timeout_s: float = 30.0):
        host = base_url.split("://", 1)[1].rstrip("/")
        self._ws = connect(f"ws://{host}/_stcore/stream", subprotocols=["streamlit"], origin=f"http://{host}",
                           open_timeout=open_timeout_s, max_size=None)

    def run_page(self, page: str, query_string: str = "", timeout_s: float = PAGE_TIMEOUT_S) -> PageRun:
        """Open `page` (its URL path; "" = the default page) with `query_string`, as a browser navigation would."""
        msg = BackMsg()
        msg.rerun_script.query_string = query_string
        msg.rerun_script.page_name = page
        started = time.perf_counter()
        self._ws.send(msg.SerializeToString())
        run = PageRun(page=page, seconds=0.0)
        deadline = time.monotonic() + timeout_s
        while True:
            forward = ForwardMsg()
            forward.ParseFromString(self._ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            kind = forward.WhichOneof("type")
            if kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                run.elements += 1
                element = forward.delta.new_element
                if element.WhichOneof("type") == "exception":
                    run.exceptions.append(f"{element.exception.type}: {element.exception.message}")
            elif kind == "page_not_found":
                run.page_not_found = True
            elif kind == "script_finished" and forward.script_finished in _DONE:
                run.seconds = time.perf_counter() - started
                return run

    def close(self) -> None:
        self._ws.close()

    def __enter__(self) -> StreamlitSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
