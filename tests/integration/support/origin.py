#!/usr/bin/env python3
"""The test origin: python3's http.server serving a directory on 127.0.0.1,
threaded, with a listen backlog of 1024 (http.server's default of 5 makes the
kernel drop SYNs under 100 simultaneous connects, which is the origin's
limit, not the network's).

  origin.py PORT DIRECTORY [ADDRESS]    # ADDRESS defaults to 127.0.0.1
"""
import functools
import http.server
import sys


class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 1024
    daemon_threads = True


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    address = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"
    handler = functools.partial(QuietHandler, directory=directory)
    with Server((address, port), handler) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
