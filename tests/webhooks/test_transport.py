"""webhooks.transport: which addresses are internal, resolving once and connecting to the
address checked (plain HTTP and TLS, where SNI and the certificate check use the host name)."""

import datetime
import ipaddress
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from webhooks import transport


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",
        "169.254.169.254",
        "169.254.1.1",
        "0.0.0.0",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
    ],
)
def test_internal_addresses(address):
    assert transport.address_is_internal(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses(address):
    assert not transport.address_is_internal(ipaddress.ip_address(address))


def fake_dns(monkeypatch, answers: dict[str, list[str]]) -> list[str]:
    """Resolve the names in `answers` to those addresses; returns the names looked up."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            asked.append(host)
            return [
                (
                    socket.AF_INET6 if ":" in a else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (a, port),
                )
                for a in answers[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def test_a_name_with_any_internal_address_is_refused(monkeypatch):
    fake_dns(monkeypatch, {"mixed.example": ["93.184.216.34", "127.0.0.1"]})
    with pytest.raises(transport.UnsafeURL, match="internal address"):
        transport.resolve("https://mixed.example/hook", allow_private=False)
    target = transport.resolve("https://mixed.example/hook", allow_private=True)
    assert target.address == ipaddress.ip_address("93.184.216.34")


class Echo(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = self.headers["Host"].encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def echo_server():
    servers = []

    def start(tls: ssl.SSLContext | None = None) -> int:
        server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
        if tls is not None:
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_port

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_the_push_goes_to_the_address_checked_once(monkeypatch, settings, echo_server):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    port = echo_server()
    asked = fake_dns(monkeypatch, {"hooks.example.test": ["127.0.0.1"]})
    target = transport.resolve(f"http://hooks.example.test:{port}/hook")
    answer = transport.post(target, b"{}", {"Content-Type": "application/json"})
    assert (answer.status, answer.body) == (200, f"hooks.example.test:{port}")
    # Resolved once, by the check: the connection did not ask DNS again (no rebinding).
    assert asked == ["hooks.example.test"]


def test_tls_names_the_host_while_connecting_to_the_address(
    monkeypatch, settings, echo_server, tmp_path
):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.example.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.example.test")]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert_file, key_file)
    port = echo_server(tls)
    fake_dns(
        monkeypatch, {"hooks.example.test": ["127.0.0.1"], "other.example.test": ["127.0.0.1"]}
    )
    real_session = transport._session

    def trusting_session(target):
        session = real_session(target)
        session.verify = str(cert_file)  # trust the test's certificate, still checking it
        return session

    monkeypatch.setattr(transport, "_session", trusting_session)
    target = transport.resolve(f"https://hooks.example.test:{port}/hook")
    answer = transport.post(target, b"{}", {})
    assert (answer.status, answer.body) == (200, f"hooks.example.test:{port}")
    # The certificate is checked against the URL's host, not the address connected to.
    wrong = transport.resolve(f"https://other.example.test:{port}/hook")
    answer = transport.post(wrong, b"{}", {})
    assert answer.status is None
    assert "SSL" in answer.body
