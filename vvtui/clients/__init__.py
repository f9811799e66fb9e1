"""Wire-protocol clients: a request in, a stream of typed events out (vvtui.clients.events)."""
