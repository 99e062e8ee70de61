"""Server side of the learner's lab: kernel websockets that send small messages at once.

jupyter_server never turns off Nagle's algorithm on kernel websockets, so a slider's small
comm messages can wait for the peer's delayed ACK (round trips of ~17 ms or ~53 ms,
shared/reference/pitfalls.md). ``NoDelayKernelWebsocketConnection`` is the stock connection
class plus one call to tornado's public ``WebSocketHandler.set_nodelay(True)``; the learner's
lab selects it with ``ServerApp.kernel_websocket_connection_class`` (see ``course.lab``).
Worth proposing upstream: jupyter_server could make it the default.
"""

from __future__ import annotations

import socket

from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection

CLASS_PATH = f"{__name__}.NoDelayKernelWebsocketConnection"
"""The value for ``ServerApp.kernel_websocket_connection_class``."""

LOG_LINE = "kernel websocket TCP_NODELAY="
"""Start of the line logged (info level) on each kernel websocket connection, with the option read back."""


class NoDelayKernelWebsocketConnection(ZMQChannelsWebsocketConnection):
    """jupyter_server's ZMQ kernel websocket connection with TCP_NODELAY set on the browser's socket."""

    def connect(self):
        """Set TCP_NODELAY (the websocket is open when jupyter_server calls this), then connect as usual."""
        self.websocket_handler.set_nodelay(True)
        self.log.info("%s%d (kernel %s)", LOG_LINE, nodelay_of(self.websocket_handler), self.kernel_id)
        return super().connect()


def nodelay_of(handler) -> int:
    """TCP_NODELAY as the operating system reports it for an open tornado websocket (-1 if unknown)."""
    connection = handler.ws_connection
    stream = getattr(connection, "stream", None)
    sock = getattr(stream, "socket", None)
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return -1
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
