"""mock-gandi from Python with testcontainers: what a test suite of certbot-dns-gandi,
octodns-gandi or dns-lexicon can do without a Gandi account.

    pip install testcontainers pytest
    ci/build-mock-image                       # builds mock-gandi:local, no registry needed
    TESTCONTAINERS_RYUK_DISABLED=true pytest examples/python

(Ryuk, testcontainers' reaper, is an image pulled from a registry; the fixture stops the
container itself, so it is not needed.)
"""

import json
import os
import random
import socket
import struct
import urllib.request
from pathlib import Path

import pytest
from testcontainers.core.container import DockerContainer
from testcontainers.core.wait_strategies import LogMessageWaitStrategy

IMAGE = os.environ.get("MOCK_GANDI_IMAGE", "mock-gandi:local")
PAT = "0123456789abcdef0123456789abcdef01234567"
SEED = Path(__file__).with_name("seed.toml").resolve()


@pytest.fixture(scope="module")
def gandi():
    container = (
        DockerContainer(IMAGE)
        .with_exposed_ports(8080, "53/udp")
        .with_volume_mapping(SEED, "/seed.toml", "ro")
        .with_env("MOCK_GANDI_SEED", "/seed.toml")
        # The ready line, printed once every listener is bound.
        .waiting_for(LogMessageWaitStrategy('"ca_cert"'))
    )
    with container:
        yield container


def api_url(gandi):
    return f"http://{gandi.get_container_host_ip()}:{gandi.get_exposed_port(8080)}"


def call(gandi, method, path, body=None):
    request = urllib.request.Request(
        api_url(gandi) + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {PAT}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def txt_over_udp(gandi, name):
    """One DNS TXT question over UDP, built by hand: the answer's TXT strings."""
    ident = random.randrange(65536)
    question = b"".join(bytes([len(label)]) + label.encode() for label in name.split(".")) + b"\0"
    packet = struct.pack(">HHHHHH", ident, 0, 1, 0, 0, 0) + question + struct.pack(">HH", 16, 1)
    port = int(gandi.get_exposed_port("53/udp"))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(packet, ("127.0.0.1", port))
        answer = s.recv(4096)
    _, flags, _, ancount, _, _ = struct.unpack(">HHHHHH", answer[:12])
    assert flags & 0xF == 0, f"rcode {flags & 0xF}"
    at = 12 + len(question) + 4
    texts = []
    for _ in range(ancount):
        at += 2  # a compressed pointer to the name
        rtype, _, _, length = struct.unpack(">HHIH", answer[at : at + 10])
        at += 10
        data = answer[at : at + length]
        at += length
        if rtype == 16:
            texts.append(data[1 : 1 + data[0]].decode())
    return texts


def test_the_seed_is_there(gandi):
    status, body = call(gandi, "GET", "/v5/livedns/domains/stubber.chat/records/www/A")
    assert status == 200, body
    assert json.loads(body)["rrset_values"] == ["192.0.2.10"]


def test_a_challenge_written_through_the_api_is_answered_by_dns(gandi):
    status, body = call(
        gandi,
        "PUT",
        "/v5/livedns/domains/stubber.chat/records/_acme-challenge/TXT",
        {"rrset_values": ["token-from-python"], "rrset_ttl": 300},
    )
    assert status == 201, body
    assert txt_over_udp(gandi, "_acme-challenge.stubber.chat") == ["token-from-python"]


def test_gandi_errors_are_gandis(gandi):
    # As the real LiveDNS answered a domain the account does not hold (recorded in 2020).
    status, body = call(gandi, "GET", "/v5/livedns/domains/not-mine.example")
    assert status == 404
    assert body == (
        '{"code": 404, "message": "The resource could not be found.", '
        '"object": "HTTPNotFound", "cause": "Not Found"}'
    )


def test_the_journal_shows_what_the_client_sent(gandi):
    with urllib.request.urlopen(api_url(gandi) + "/_mock/requests", timeout=10) as response:
        journal = json.load(response)
    assert any(r["method"] == "PUT" and r["status"] == 201 for r in journal)
