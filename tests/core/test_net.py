"""citypass/core/net.py: free loopback ports."""

from __future__ import annotations

import socket

from citypass.core.net import free_port, port_is_free


def test_a_free_port_is_free_until_someone_listens_on_it():
    port = free_port()
    assert 1024 <= port <= 65535 and port_is_free(port)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", port))
        listener.listen()
        assert not port_is_free(port)
