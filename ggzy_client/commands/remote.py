"""``ggzy-client login | bind | sign-request | submit | hand-over``: talk to the platform.

    ggzy-client login --key KEYSTORE [--password PW | --password-file F] [--cert CERT]
                      [--token-file PATH | --print-token]
    ggzy-client bind --key KEYSTORE [...] [--entity USCC] [--token T | --token-file PATH]
    ggzy-client sign-request URL --key KEYSTORE [...] [--yes]
    ggzy-client submit ENVELOPE [--token T | --token-file PATH]
    ggzy-client hand-over ENVELOPE_ID (--content-key HEX | --key KEYSTORE --envelope FILE)

Every command takes ``--server URL`` (default: ``$GGZY_SERVER`` or http://127.0.0.1:8000).
The private key never leaves this machine: only signatures, certificates and (at the opening)
the content key are sent. HTTP uses ``urllib.request``; the platform's refusals
(``{"code", "message", "detail"}``) print as ``error [code]: message``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from cryptography.hazmat.primitives.serialization import Encoding

from ggzy_client import envelope, keys
from ggzy_client.cli import ClientError
from ggzy_client.signatures import sign_statement

DEFAULT_SERVER = "http://127.0.0.1:8000"
API = "/api/v1/trust"
TIMEOUT = 60
TOKEN_FILE = Path("~/.ggzy-client/token")
JSON_TYPE = "application/json"


# --- argument parsing ---------------------------------------------------------------------------


def register(subparsers: Any) -> None:
    _register_login(subparsers)
    b = subparsers.add_parser("bind", help="bind the keystore's certificate to your account")
    _server_arg(b)
    _key_args(b, required=True)
    b.add_argument("--entity", help="the entity's USCC (统一社会信用代码), for entity certificates")
    _token_args(b)
    b.set_defaults(func=cmd_bind)

    s = subparsers.add_parser("sign-request", help="answer a QR signing request (扫码签名)")
    s.add_argument("url", help="the signing request's URL (from the QR code)")
    _server_arg(s)
    _key_args(s, required=True)
    s.add_argument("--yes", action="store_true", help="sign without asking")
    s.set_defaults(func=cmd_sign_request)

    u = subparsers.add_parser("submit", help="upload a sealed envelope; prints the receipt")
    u.add_argument("envelope", type=Path)
    _server_arg(u)
    _token_args(u)
    u.set_defaults(func=cmd_submit)

    h = subparsers.add_parser("hand-over", help="hand the content key over at the opening")
    h.add_argument("envelope_id", help="the envelope's id on the platform (from the receipt)")
    h.add_argument("--content-key", help="the content key, hex (from `unwrap`)")
    _key_args(h, required=False)
    h.add_argument("--envelope", type=Path, help="with --key: the envelope file to unwrap")
    _server_arg(h)
    _token_args(h)
    h.set_defaults(func=cmd_hand_over)


def _register_login(subparsers: Any) -> None:
    p = subparsers.add_parser("login", help="certificate login (统一认证): get an API token")
    _server_arg(p)
    _key_args(p, required=True)
    out = p.add_mutually_exclusive_group()
    out.add_argument(
        "--token-file", type=Path, default=TOKEN_FILE, help="where to save the token (0600)"
    )
    out.add_argument("--print-token", action="store_true", help="print the token, save nothing")
    p.set_defaults(func=cmd_login)


def _server_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--server",
        default=os.environ.get("GGZY_SERVER") or DEFAULT_SERVER,
        help=f"platform base URL (default: $GGZY_SERVER or {DEFAULT_SERVER})",
    )
    p.add_argument(
        "--audience",
        default=os.environ.get("GGZY_PLATFORM_ID") or None,
        help="the platform id statements must name (default: $GGZY_PLATFORM_ID; unset: any)",
    )


def _key_args(p: argparse.ArgumentParser, *, required: bool) -> None:
    p.add_argument("--key", required=required, type=Path, help="keystore: PEM or PKCS#12")
    pw = p.add_mutually_exclusive_group()
    pw.add_argument("--password", help="keystore password")
    pw.add_argument("--password-file", type=Path, help="file whose first line is the password")
    p.add_argument("--cert", type=Path, help="certificate (and chain), PEM or DER")


def _token_args(p: argparse.ArgumentParser) -> None:
    t = p.add_mutually_exclusive_group()
    t.add_argument("--token", help="API token (default: the one `login` saved)")
    t.add_argument("--token-file", type=Path, default=TOKEN_FILE, help="saved token file")


def _password(args: argparse.Namespace) -> str | None:
    if args.password_file is not None:
        lines = args.password_file.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""
    return args.password  # type: ignore[no-any-return]


def _keystore(args: argparse.Namespace) -> keys.Keystore:
    keystore = keys.load_keystore(args.key, _password(args), args.cert)
    if keystore.certificate is None:
        raise ClientError("no_certificate", "no certificate for the key: give --cert")
    return keystore


def _token(args: argparse.Namespace) -> str:
    if args.token:
        return str(args.token)
    path = Path(args.token_file).expanduser()
    if not path.is_file():
        raise ClientError("not_logged_in", f"no saved token at {path}: run `ggzy-client login`")
    return path.read_text(encoding="utf-8").strip()


# --- HTTP ---------------------------------------------------------------------------------------


def _url(args: argparse.Namespace, path: str) -> str:
    return str(args.server).rstrip("/") + API + path


def call(
    method: str,
    url: str,
    payload: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    body: IO[bytes] | None = None,
    length: int | None = None,
    content_type: str = JSON_TYPE,
) -> Any:
    """One request; the JSON answer, or a :class:`ClientError` naming the server's refusal."""
    headers = {"Accept": JSON_TYPE}
    data: bytes | IO[bytes] | None = body
    if payload is not None:
        data = json.dumps(payload).encode()
        length = len(data)
    if data is not None:
        headers["Content-Type"] = content_type
        headers["Content-Length"] = str(length)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            return _json(resp.read())
    except urllib.error.HTTPError as exc:
        raise _refusal(exc) from None
    except urllib.error.URLError as exc:
        raise ClientError("server_unreachable", f"{url}: {exc.reason}") from None
    except (ConnectionError, TimeoutError) as exc:
        raise ClientError("server_unreachable", f"{url}: {exc}") from None


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else {}
    except ValueError:
        raise ClientError("bad_response", "the server did not answer with JSON") from None


def _refusal(exc: urllib.error.HTTPError) -> ClientError:
    try:
        answer = json.loads(exc.read() or b"{}")
    except ValueError:
        answer = None
    if isinstance(answer, dict) and "code" in answer:
        return ClientError(str(answer["code"]), str(answer.get("message", "")))
    return ClientError(f"http_{exc.code}", f"{exc.reason} ({exc.url})")


# --- commands -----------------------------------------------------------------------------------


def _pem(keystore: keys.Keystore) -> str:
    assert keystore.certificate is not None
    return keystore.certificate.public_bytes(Encoding.PEM).decode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _signed_challenge(
    args: argparse.Namespace, keystore: keys.Keystore, purpose: str, account: str | None = None
) -> dict[str, str]:
    """Ask for a challenge and sign a statement built here, for this purpose only: the server
    chooses the nonce, never what is signed (a server cannot make a login out of a binding)."""
    challenge = call("POST", _url(args, "/challenges"), {"purpose": purpose})
    offered = challenge.get("statement") or {}
    statement = {
        "audience": _audience(args, offered),
        "nonce": str(challenge.get("nonce", "")),
        "purpose": purpose,
    }
    if purpose == "bind":
        assert keystore.certificate is not None
        der = keys.certificate_der(keystore.certificate)
        statement["fingerprint"] = hashlib.sha256(der).hexdigest()
        statement["account"] = account
    if set(offered) != set(statement) or offered.get("purpose") != purpose:
        raise ClientError("unexpected_statement", "the server asked to sign something else")
    return {
        "certificate": _pem(keystore),
        "nonce": challenge["nonce"],
        "signature": _b64(sign_statement(keystore, statement)),
    }


def cmd_login(args: argparse.Namespace) -> int:
    keystore = _keystore(args)
    proof = _signed_challenge(args, keystore, "login")
    me = call("POST", _url(args, "/login"), {**proof, "mode": "token"})
    print(f"logged in as {me['username']} ({me.get('display_name') or '-'})")
    for m in me.get("entities") or []:
        print(f"  acts for {m.get('uscc', '')} {m.get('name', '')}".rstrip())
    if args.print_token:
        print(f"token: {me['token']}")
    else:
        path = save_token(Path(args.token_file).expanduser(), me["token"])
        print(f"token saved to {path} (valid one day)")
    return 0


def save_token(path: Path, token: str) -> Path:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token + "\n")
    os.chmod(path, 0o600)
    return path


def _audience(args: argparse.Namespace, statement: dict[str, Any]) -> str:
    """The platform a statement is for; with ``--audience`` (or $GGZY_PLATFORM_ID) pinned."""
    audience = statement.get("audience")
    if not isinstance(audience, str) or (args.audience and audience != args.audience):
        raise ClientError(
            "unexpected_audience",
            f"the statement is for {audience!r}, not for {args.audience!r}",
        )
    return audience


def cmd_bind(args: argparse.Namespace) -> int:
    token = _token(args)
    keystore = _keystore(args)
    me = call("GET", str(args.server).rstrip("/") + "/api/v1/auth/me", token=token)
    payload: dict[str, Any] = _signed_challenge(args, keystore, "bind", str(me["username"]))
    if args.entity:
        payload["entity"] = args.entity
    b = call("POST", _url(args, "/bindings"), payload, token=token)
    holder = f"entity {b['entity']}" if b.get("entity") else "you"
    print(f"bound {b['subject']} ({b['family']}, {b['authority']}) to {holder}")
    print(f"fingerprint: {b['fingerprint']}")
    return 0


def cmd_sign_request(args: argparse.Namespace) -> int:
    keystore = _keystore(args)
    url = str(args.url).rstrip("/")
    req = call("GET", url)
    print(f"document: {req['document_name']}")
    print(f"digest ({req['digest_alg']}): {req['document_digest']}")
    print(f"expires: {req['expires_at']}  status: {req['status']}")
    _confirm(args.yes)
    payload = {
        "certificate": _pem(keystore),
        "signature": _b64(sign_statement(keystore, _request_statement(args, url, req))),
    }
    done = call("POST", url + "/signature", payload)
    print(f"signed: request {done['id']} is {done['status']} (signature {done['signature_id']})")
    return 0


def _request_statement(args: argparse.Namespace, url: str, req: dict[str, Any]) -> dict[str, Any]:
    """The statement for this signing request, built from what was shown to the signer: a
    request whose statement says anything else (another purpose, digest or request) is refused."""
    offered = req.get("statement") or {}
    expires = offered.get("expires_at")
    if _moment(expires) is None or _moment(expires) != _moment(req.get("expires_at")):
        raise ClientError("unexpected_statement", "the request's expiry does not match")
    statement = {
        "audience": _audience(args, offered),
        "digest_alg": req.get("digest_alg"),
        "document_digest": req.get("document_digest"),
        "expires_at": expires,
        "nonce": offered.get("nonce"),
        "purpose": "sign-request",
        "request": url.rsplit("/", 1)[-1],
    }
    if offered != statement or req.get("id") != statement["request"]:
        raise ClientError(
            "unexpected_statement", "the signing request asks to sign something other than shown"
        )
    return statement


def _moment(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _confirm(yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise ClientError("not_confirmed", "stdin is not a terminal: give --yes to sign")
    answer = input("sign this document? [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise ClientError("not_confirmed", "not signed")


def cmd_submit(args: argparse.Namespace) -> int:
    token = _token(args)
    path: Path = args.envelope
    size = path.stat().st_size
    with path.open("rb") as fh:
        r = call(
            "POST",
            _url(args, "/envelopes"),
            token=token,
            body=fh,
            length=size,
            content_type="application/zip",
        )
    print(f"received: {r['id']} (envelope {r['envelope_id']}, section {r['section']})")
    print(f"receipt ledger seq: {r['receipt_seq']}")
    print(f"file sha256: {r['file_sha256']}")
    return 0


def cmd_hand_over(args: argparse.Namespace) -> int:
    token = _token(args)
    content_key = _content_key(args)
    r = call(
        "POST",
        _url(args, f"/envelopes/{args.envelope_id}/open"),
        {"content_key": content_key.hex()},
        token=token,
    )
    print(f"opened: {r['id']} at {r['opened_at']}")
    for f in r["files"]:
        print(f"  {f['name']}  {f['size']} bytes  {f['plaintext_digest']}")
    return 0


def _content_key(args: argparse.Namespace) -> bytes:
    if args.content_key and args.key:
        raise ClientError("usage", "give --content-key or --key with --envelope, not both")
    if args.content_key:
        try:
            return bytes.fromhex(args.content_key)
        except ValueError:
            raise ClientError("bad_content_key", "--content-key must be hex") from None
    if args.key is None or args.envelope is None:
        raise ClientError("usage", "give --content-key HEX, or --key KEYSTORE --envelope FILE")
    keystore = keys.load_keystore(args.key, _password(args), args.cert)
    return envelope.unwrap_content_key(args.envelope, keystore)
