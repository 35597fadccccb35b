#!/usr/bin/env python3
"""The test origin: python3's http.server serving a directory on 127.0.0.1,
threaded, with a listen backlog of 1024 (http.server's default of 5 makes the
kernel drop SYNs under 100 simultaneous connects, which is the origin's
limit, not the network's).

A file asked for with "?rate=BYTES" in its URL is sent at that many bytes a
second, a tenth at a time: a download that lasts as long as a test needs.
curl's --limit-rate cannot do that, since it paces by its average from the
start and so pauses for as long as the socket buffers filled at once,
which its own --speed-limit then takes for a stall.

  origin.py PORT DIRECTORY [ADDRESS]    # ADDRESS defaults to 127.0.0.1
"""
import functools
import http.server
import sys
import time
import urllib.parse


class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 1024
    daemon_threads = True


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def copyfile(self, source, outputfile):
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        rate = int(query.get("rate", ["0"])[0])
        if rate <= 0:
            return super().copyfile(source, outputfile)
        chunk = max(rate // 10, 1)
        while data := source.read(chunk):
            outputfile.write(data)
            time.sleep(0.1)


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    address = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"
    handler = functools.partial(QuietHandler, directory=directory)
    with Server((address, port), handler) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
