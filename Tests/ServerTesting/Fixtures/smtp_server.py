"""A real SMTP server for the mail tests (aiosmtpd): STARTTLS required, AUTH PLAIN/LOGIN only after TLS, every
message saved as NNNN.eml with NNNN.json (envelope, whether TLS and AUTH were used). Prints "ready PORT" when it
listens and stops when its standard input closes.

    python smtp_server.py --port 2525 (0: any free port) --folder DIR --cert cert.pem --key key.pem --user omnifin --password secret
"""
import argparse
import json
import pathlib
import socket
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Saver:
    def __init__(self, folder: pathlib.Path):
        self.folder = folder

    async def handle_DATA(self, server, session, envelope):
        number = len(list(self.folder.glob("*.eml")))
        (self.folder / f"{number:04d}.json").write_text(json.dumps({
            "from": envelope.mail_from, "to": envelope.rcpt_tos, "tls": session.ssl is not None,
            "authenticated": bool(session.authenticated)}))
        (self.folder / f"{number:04d}.eml").write_bytes(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser()
    for name in ("--port", "--folder", "--cert", "--key", "--user", "--password"):
        parser.add_argument(name, required=True)
    args = parser.parse_args()
    folder = pathlib.Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == args.user.encode() and auth_data.password == args.password.encode()
        # handled=False: the server answers 535 itself on failure.
        return AuthResult(success=ok, handled=False)

    port = int(args.port)
    if port == 0:
        # A port the kernel says is free (a random one may be some connection's ephemeral port).
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
    controller = Controller(
        Saver(folder), hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
        authenticator=authenticate, auth_require_tls=True)
    controller.start()
    print(f"ready {port}", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
