"""A forwarding HTTP proxy on loopback for the proxy-variable test.

usage: tiny_proxy.py PORT_FILE LOG_FILE
Accepts absolute-form requests ("POST http://127.0.0.1:N/path HTTP/1.1"),
logs the request line, forwards to the named loopback host, relays the
answer.  Refuses anything not on 127.0.0.1 or ::1.
"""
import http.client
import http.server
import os
import sys
import urllib.parse


class Proxy(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        with open(sys.argv[2], "a") as log:
            log.write(f"{self.command} {self.path}\n")
        if url.hostname not in ("127.0.0.1", "::1"):
            self.send_error(403)
            return
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("proxy-connection", "connection")}
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        conn.request("POST", url.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "connection"):
                self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def main():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(tmp, sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
