"""Stand-ins for the Docker daemon's socket, each failing in its own way.

usage: fake_docker.py MODE SOCKET_PATH LOG_FILE
MODE: silent   accept, read, never answer
      garbage  answer bytes that are not HTTP, then close
      endless  answer 200 with a body that never ends
      status500  answer 500 with a JSON error
      notjson  answer 200 with a body that is not a JSON object
      redirect answer 302 to another path (which must not be followed)
      proxy    forward to the real daemon at /var/run/docker.sock
Every request line received is appended to LOG_FILE.  The socket is made
mode 0666 so a non-root container can connect.
"""
import os
import socket
import sys
import threading

REAL = "/var/run/docker.sock"


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def log(line):
    with open(sys.argv[3], "a") as f:
        f.write(line + "\n")


def answer(conn, status, body, ctype="application/json", extra=""):
    conn.sendall(f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\n"
                 f"Content-Length: {len(body)}\r\n{extra}"
                 f"Connection: close\r\n\r\n".encode() + body)


def serve(conn, mode):
    try:
        req = read_request(conn)
        log(req.split(b"\r\n", 1)[0].decode(errors="replace"))
        if mode == "silent":
            threading.Event().wait()
        elif mode == "garbage":
            conn.sendall(b"\x00\x01 this is not HTTP at all \xff\r\n\r\n")
        elif mode == "endless":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json"
                         b"\r\n\r\n{\"pad\":\"")
            chunk = b"x" * 65536
            while True:
                conn.sendall(chunk)
        elif mode == "status500":
            answer(conn, "500 Internal Server Error",
                   b'{"message":"daemon broke"}')
        elif mode == "notjson":
            answer(conn, "200 OK", b"hello, I am not JSON", "text/plain")
        elif mode == "redirect":
            answer(conn, "302 Found", b"", extra="Location: /containers/json\r\n")
        elif mode == "proxy":
            up = socket.socket(socket.AF_UNIX)
            up.connect(REAL)
            up.sendall(req)
            while True:
                chunk = up.recv(65536)
                if not chunk:
                    break
                conn.sendall(chunk)
            up.close()
    except OSError:
        pass
    finally:
        conn.close()


def main():
    mode, path = sys.argv[1], sys.argv[2]
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    os.chmod(path, 0o666)
    srv.listen(16)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, mode), daemon=True).start()


if __name__ == "__main__":
    main()
